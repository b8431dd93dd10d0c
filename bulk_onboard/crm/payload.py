"""The record that announces one onboarded client to the CRM. Pure.

The engine resolves the fields of a plan's AnnounceCrm step (client_id, client_name,
client_email, manager_email, room_id, room_title, link_url when the playbook makes a link,
folder_ids, copy_ids) and passes them here with the run id and the time. The record is flat,
so a CRM, Zapier or a spreadsheet can map its keys without unnesting:

    {"event": "client_onboarded", "version": 1, "idempotency_key": "<64 hex>",
     "client_id", "client_name", "client_email", "manager_email",
     "room_id", "room_title", "room_url", "link_url" (null without a link),
     "folder_ids": [...], "copy_ids": [...], "run_id", "onboarded_at": "2026-11-22T09:59:12Z"}

A client announced before whose room a later run changed gets a `client_updated` record: the
same fields as they are now, "onboarding_key", "updated_at" and "changes": [{"what": "title",
"old": "Client - A", "new": "Client - B"}, {"what": "contact", "old": ..., "new": ...}].

The idempotency key is the hex SHA-256 of "<client_id>\\n<room_id>": the same client in the
same room gives the same key in every run, so a receiver can drop repeats, and a client whose
room was deleted and made again is announced again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bulk_onboard.model.cells import neutralise

EVENT = "client_onboarded"
VERSION = 1
REQUIRED = ("client_id", "client_name", "client_email", "manager_email", "room_id", "room_title")
CSV_COLUMNS = (
    "idempotency_key",
    "onboarded_at",
    "run_id",
    "client_id",
    "client_name",
    "client_email",
    "manager_email",
    "room_id",
    "room_title",
    "room_url",
    "link_url",
    "folder_ids",
    "copy_ids",
)


def idempotency_key(client_id: str, room_id: int | str, portal_url: str = "") -> str:
    """Stable across runs for the same portal, client and room: hex SHA-256 of
    "portal\\nclient_id\\nroom_id" (a fresh portal reusing room ids is news). Without a
    portal, the key of earlier versions, "client_id\\nroom_id", which old ledgers hold."""
    portal = portal_url.strip().rstrip("/").lower()
    text = f"{portal}\n{client_id}\n{room_id}" if portal else f"{client_id}\n{room_id}"
    return hashlib.sha256(text.encode()).hexdigest()


def room_url(portal_url: str, room_id: int | str) -> str:
    """The room in DocSpace's web client: /rooms/shared/<id>/filter?folder=<id>."""
    return f"{portal_url.rstrip('/')}/rooms/shared/{room_id}/filter?folder={room_id}"


def build_record(
    fields: Mapping[str, Any], *, run_id: str, portal_url: str, at: float
) -> dict[str, Any]:
    """The record for one client from the resolved AnnounceCrm fields; `at` is Unix seconds."""
    missing = [name for name in REQUIRED if fields.get(name) in (None, "")]
    if missing:
        raise ValueError(f"the CRM record needs {', '.join(missing)}")
    room_id = fields["room_id"]
    link = fields.get("link_url")
    return {
        "event": EVENT,
        "version": VERSION,
        "idempotency_key": idempotency_key(str(fields["client_id"]), room_id, portal_url),
        "client_id": str(fields["client_id"]),
        "client_name": str(fields["client_name"]),
        "client_email": str(fields["client_email"]),
        "manager_email": str(fields["manager_email"]),
        "room_id": room_id,
        "room_title": str(fields["room_title"]),
        "room_url": room_url(portal_url, room_id),
        "link_url": str(link) if link else None,
        "folder_ids": _ids(fields.get("folder_ids")),
        "copy_ids": _ids(fields.get("copy_ids")),
        "run_id": run_id,
        "onboarded_at": timestamp(at),
    }


UPDATED = "client_updated"


def build_update_record(
    fields: Mapping[str, Any],
    changes: Sequence[Mapping[str, str]],
    *,
    run_id: str,
    portal_url: str,
    at: float,
) -> dict[str, Any]:
    """The record that tells the CRM what a run changed on a client it announced before (a
    room renamed, a manager or contact replaced, an access changed): the onboarding record's
    fields as they are now, `changes` ([{"what", "old", "new"}]) and `onboarding_key`. Its key
    is of the onboarding key, the changes and the run, so a resumed run repeats it and a later
    run's change is news."""
    record = build_record(fields, run_id=run_id, portal_url=portal_url, at=at)
    onboarded = str(record["idempotency_key"])
    listed = [{"what": c["what"], "old": c["old"], "new": c["new"]} for c in changes]
    said = "\n".join(f"{c['what']}\t{c['old']}\t{c['new']}" for c in listed)
    key = hashlib.sha256(f"{UPDATED}\n{onboarded}\n{run_id}\n{said}".encode()).hexdigest()
    del record["onboarded_at"]
    return {
        **record,
        "event": UPDATED,
        "idempotency_key": key,
        "onboarding_key": onboarded,
        "changes": listed,
        "updated_at": timestamp(at),
    }


OFFBOARDED = "client_offboarded"


def build_offboard_record(
    client_id: str, room_id: int | str, room_title: str, *, run_id: str, portal_url: str, at: float
) -> dict[str, Any]:
    """The record that takes back a client the run announced (`bulk-onboard undo`): the room
    was archived. Its key differs from the onboarding record's, so file sinks keep both."""
    onboarded = idempotency_key(client_id, room_id, portal_url)
    return {
        "event": OFFBOARDED,
        "version": VERSION,
        "idempotency_key": hashlib.sha256(f"{OFFBOARDED}\n{onboarded}".encode()).hexdigest(),
        "onboarding_key": onboarded,
        "client_id": client_id,
        "room_id": room_id,
        "room_title": room_title,
        "room_url": room_url(portal_url, room_id),
        "run_id": run_id,
        "offboarded_at": timestamp(at),
    }


def timestamp(at: float) -> str:
    """ISO 8601 in UTC to the second: 2026-11-22T09:59:12Z."""
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_row(record: Mapping[str, Any]) -> dict[str, str]:
    """The record as one CSV line: lists joined by spaces, formula-looking cells made inert."""
    row: dict[str, str] = {}
    for column in CSV_COLUMNS:
        value = record.get(column)
        if isinstance(value, list | tuple):
            text = " ".join(str(v) for v in value)
        else:
            text = "" if value is None else str(value)
        row[column] = neutralise(text)
    return row


def _ids(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    return list(value)
