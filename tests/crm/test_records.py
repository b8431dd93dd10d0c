"""The record of one onboarded client, its idempotency key and its CSV form."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from bulk_onboard.crm.payload import (
    CSV_COLUMNS,
    build_record,
    csv_row,
    idempotency_key,
    room_url,
    timestamp,
)

from .conftest import CLIENT

FIELDS: dict[str, Any] = {
    **CLIENT,
    "link_url": "https://portal.example/s/abc",
    "folder_ids": (5013, 5014, 5015),
    "copy_ids": (7001, 7002),
}
AT = 1_763_805_552.75  # 2025-11-22T09:59:12Z


def test_idempotency_key_is_sha256_of_client_and_room() -> None:
    expected = hashlib.sha256(b"C-10045\n5012").hexdigest()
    assert idempotency_key("C-10045", 5012) == expected
    assert idempotency_key("C-10045", "5012") == expected  # the id's type does not matter
    assert idempotency_key("C-10045", 5013) != expected  # a room made again is news
    assert idempotency_key("C-1004", 55012) != idempotency_key("C-10045", 5012)


def test_the_key_names_the_portal() -> None:
    key = idempotency_key("C-10045", 5012, "https://p.example/")
    assert key == hashlib.sha256(b"https://p.example\nC-10045\n5012").hexdigest()
    assert key == idempotency_key("C-10045", 5012, "HTTPS://P.example")
    assert key != idempotency_key("C-10045", 5012, "https://other.example")
    assert key != idempotency_key("C-10045", 5012)  # the key of an earlier version


def test_the_record_holds_everything_a_crm_needs() -> None:
    record = build_record(
        FIELDS, run_id="20251122-095859-e417", portal_url="https://p.example/", at=AT
    )
    assert record == {
        "event": "client_onboarded",
        "version": 1,
        # the portal is part of the key: a fresh portal reusing room ids is news to the CRM
        "idempotency_key": hashlib.sha256(b"https://p.example\nC-10045\n5012").hexdigest(),
        "client_id": "C-10045",
        "client_name": "Acme Corporation",
        "client_email": "contact@acme.example.com",
        "manager_email": "maria.garcia@northwind.example",
        "room_id": 5012,
        "room_title": "Client - Acme Corporation",
        "room_url": "https://p.example/rooms/shared/5012/filter?folder=5012",
        "link_url": "https://portal.example/s/abc",
        "folder_ids": [5013, 5014, 5015],
        "copy_ids": [7001, 7002],
        "run_id": "20251122-095859-e417",
        "onboarded_at": "2025-11-22T09:59:12Z",
    }


def test_the_key_is_the_same_in_another_run_at_another_time() -> None:
    first = build_record(FIELDS, run_id="run-1", portal_url="https://p.example", at=AT)
    later = build_record(FIELDS, run_id="run-2", portal_url="https://p.example", at=AT + 86_400)
    assert first["idempotency_key"] == later["idempotency_key"]
    assert first["run_id"] != later["run_id"] and first["onboarded_at"] != later["onboarded_at"]


def test_without_a_link_or_copies_those_keys_are_empty() -> None:
    fields = {k: v for k, v in FIELDS.items() if k not in ("link_url", "copy_ids")}
    record = build_record(fields, run_id="r", portal_url="https://p.example", at=AT)
    assert record["link_url"] is None and record["copy_ids"] == []


def test_a_missing_required_field_is_named() -> None:
    fields = dict(FIELDS, room_id=None, client_email="")
    with pytest.raises(ValueError, match="client_email, room_id"):
        build_record(fields, run_id="r", portal_url="https://p.example", at=AT)


def test_room_url_and_timestamp() -> None:
    assert room_url("http://127.0.0.1:4000/", 7) == (
        "http://127.0.0.1:4000/rooms/shared/7/filter?folder=7"
    )
    assert timestamp(0) == "1970-01-01T00:00:00Z"


def test_csv_row_joins_lists_and_makes_formulas_inert() -> None:
    fields = dict(FIELDS, client_name='=HYPERLINK("http://evil")', link_url=None)
    row = csv_row(build_record(fields, run_id="r", portal_url="https://p.example", at=AT))
    assert tuple(row) == CSV_COLUMNS
    assert row["client_name"] == '\'=HYPERLINK("http://evil")'
    assert row["folder_ids"] == "5013 5014 5015" and row["link_url"] == ""
    assert row["room_id"] == "5012"
