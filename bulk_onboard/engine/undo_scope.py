"""What a run did, from its journals: the rooms it created, the members it added, the people
it invited, the clients it announced. Pure but for reading files.

A run is its folder (with every `--resume` of it, which appends to the same journal) and the
folders of the retries of it (run.json `retry_of` names the run they retried; a retry of a
retry counts too). Every line of every journal is read, not only a step's last one: a room the
first attempt created and a corrected retry renamed (journalled `changed`) is still a room the
run created, and the members and invitations of every share line count. A retry's journal
begins with what the run before it had done, so each effect counts once.

Only what the journal says the run created or changed is ever taken back:
    client row, step "room", outcome created       a room the run created
    client row, step "share", outcome changed      members it added ("added") and addresses
                                                   it invited by e-mail ("invited")
    user row, step "person", outcome created       a person it created or invited
    user row, step "membership", outcome changed   a member it added ("added": true)
    client row, step "crm", outcome created        a client it announced to the CRM

What it changed on what existed before is listed, not taken back (`changes`): a room renamed,
a person's type raised, a link's access set, a member's access set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bulk_onboard.runs.folder import RunFolder, open_run_folder

Kind = Literal["room", "member", "person", "crm"]


@dataclass(frozen=True, slots=True)
class Effect:
    """One thing the run did that undo may take back. `key` names it in the undo journal."""

    kind: Kind
    key: str
    row: str
    room_id: int | None = None
    title: str = ""  # the room's title
    email: str = ""
    person_id: str = ""  # "" when the run invited an address by e-mail
    access: int | None = None  # the access the run gave a member


@dataclass(frozen=True, slots=True)
class Change:
    """Something the run changed on what existed before, which undo does not take back: it
    is listed, so the admin knows."""

    row: str
    what: str


@dataclass
class RunEffects:
    run_id: str
    folders: list[Path] = field(default_factory=list)
    rooms: list[Effect] = field(default_factory=list)
    members: list[Effect] = field(default_factory=list)
    people: list[Effect] = field(default_factory=list)
    announced: list[Effect] = field(default_factory=list)
    # ids of the folders and files the run made in each room it created (not "used since")
    made_folders: dict[int, set[int]] = field(default_factory=dict)
    made_files: dict[int, set[int]] = field(default_factory=dict)
    # e-mails the run added to each room it created
    joined_room: dict[int, set[str]] = field(default_factory=dict)
    # what the run changed that undo does not take back (renames, type raises, link access)
    changes: list[Change] = field(default_factory=list)

    @property
    def created_rooms(self) -> set[int]:
        return {e.room_id for e in self.rooms if e.room_id is not None}

    @property
    def total(self) -> int:
        return len(self.rooms) + len(self.members) + len(self.people) + len(self.announced)


def run_family(folder: RunFolder, report_dirs: list[Path]) -> list[RunFolder]:
    """The run and every retry of it (and of those), oldest first."""
    family = [folder]
    ids = {folder.run_id}
    candidates: list[Path] = []
    for report_dir in dict.fromkeys([folder.path.parent, *report_dirs]):
        if report_dir.is_dir():
            candidates.extend(p for p in sorted(report_dir.iterdir()) if (p / "run.json").is_file())
    metas: dict[Path, dict[str, Any]] = {}
    for path in candidates:
        try:
            metas[path] = json.loads((path / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    grew = True
    while grew:
        grew = False
        for path, meta in metas.items():
            if meta.get("retry_of") in ids and meta.get("run_id") not in ids:
                family.append(open_run_folder(str(path), path.parent))
                ids.add(str(meta["run_id"]))
                grew = True
    return family


def _entries(path: Path) -> Iterator[tuple[str, str, dict[str, Any], str | None]]:
    """Every line of a journal, in order: (row, step, outputs, outcome). Unlike the run's
    checkpoint, which keeps a step's last line, undo needs every one: a resume or a retry
    that finds or changes what an earlier attempt created must not hide that creation."""
    if not path.is_file():
        return
    for raw in path.read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
            row, step, out = str(entry["row"]), str(entry["step"]), entry.get("out") or {}
        except (ValueError, KeyError, TypeError):
            continue  # a torn line, as read_journal skips it
        if isinstance(out, dict):
            yield row, step, out, entry.get("outcome")


def read_effects(family: list[RunFolder]) -> RunEffects:  # noqa: C901  to split per step kind (issue 20 item 2)
    """Fold the journals of a run's folders into what the run did. A step's `created` is
    never undone by a later line of the same step (a retry that renames the room it made is
    journalled `changed`), and the members and invitations of every line count, not only of
    the last one."""
    lines = [entry for member in family for entry in _entries(member.journal)]
    effects = RunEffects(family[0].run_id, [f.path for f in family])
    seen_people: set[str] = set()

    def person(row: str, email: str, person_id: str) -> None:
        email = email.lower()
        if email and email not in seen_people:
            seen_people.add(email)
            effects.people.append(
                Effect("person", f"person:{email}", row, email=email, person_id=person_id)
            )

    # rooms: every id a client's room step created, with the last title journalled for it
    created_rooms: dict[int, str] = {}
    room_rows: dict[int, str] = {}
    row_rooms: dict[str, list[int]] = {}
    titles: dict[int, list[str]] = {}
    created_people: dict[str, tuple[str, str]] = {}  # e-mail -> (row, id) of people created
    for row, step, out, outcome in lines:
        if step == "room" and row.startswith("client:") and "id" in out:
            room_id = int(out["id"])
            row_rooms.setdefault(row, [])
            if room_id not in row_rooms[row]:
                row_rooms[row].append(room_id)
            said = titles.setdefault(room_id, [])
            if out.get("title") is not None and (not said or said[-1] != str(out["title"])):
                said.append(str(out["title"]))
            if outcome == "created":
                created_rooms[room_id] = row
            room_rows.setdefault(room_id, row)
        elif step == "person" and row.startswith("user:") and outcome == "created":
            created_people[row.split(":", 1)[1].lower()] = (row, str(out.get("id", "")))
    for room_id, row in sorted(created_rooms.items(), key=lambda item: (item[1], item[0])):
        title = titles.get(room_id, [""])[-1]
        effects.rooms.append(Effect("room", f"room:{room_id}", row, room_id, title))
    for email, (row, person_id) in sorted(created_people.items()):
        person(row, email, person_id)
    created = effects.created_rooms

    members: dict[str, Effect] = {}  # by key: a later line of the same member wins
    announced: dict[str, Effect] = {}
    changes: dict[str, Change] = {}
    for row, step, out, outcome in lines:
        if outcome not in ("created", "changed"):
            continue
        if step.startswith(("folder:", "copy:")) and "id" in out:
            made = effects.made_folders if step.startswith("folder:") else effects.made_files
            for room_id in row_rooms.get(row, []):
                made.setdefault(room_id, set()).add(int(out["id"]))
        elif step == "share" and "room" in out:
            room_id = int(out["room"])
            for email in out.get("invited", []):
                person(row, str(email), "")
            for email, person_id, access in out.get("added", []):
                effects.joined_room.setdefault(room_id, set()).add(str(email).lower())
                if room_id not in created:
                    m = _member(row, room_id, str(email), str(person_id), access)
                    members[m.key] = m
        elif step == "membership" and "room" in out:
            room_id, email = int(out["room"]), row.split(":", 1)[1].lower()
            if out.get("added"):
                effects.joined_room.setdefault(room_id, set()).add(email)
                if room_id not in created:
                    m = _member(row, room_id, email, str(out.get("person", "")), out.get("access"))
                    members[m.key] = m
            elif room_id not in created and f"member:{room_id}:{email}" not in members:
                changes[f"access:{room_id}:{email}"] = Change(
                    row, f"access of {email} in room {room_id} set to {out.get('access')}"
                )
        elif step == "crm" and outcome == "created":
            rooms = row_rooms.get(row, [])
            if rooms:
                room_id = rooms[-1]
                title = titles.get(room_id, [""])[-1]
                announced[row] = Effect("crm", f"crm:{row}", row, room_id, title)
        elif outcome != "changed":
            continue
        elif step == "room" and row.startswith("client:") and "id" in out:
            room_id = int(out["id"])
            if room_id not in created:
                said = titles.get(room_id, [])
                before = f' from "{said[0]}"' if len(said) > 1 else ""
                changes[f"rename:{room_id}"] = Change(
                    row, f'room {room_id} renamed{before} to "{said[-1] if said else ""}"'
                )
        elif step == "person" and row.startswith("user:"):
            email = row.split(":", 1)[1].lower()
            if email not in created_people:
                changes[f"type:{email}"] = Change(
                    row, f"{email}: type raised to the sheet's (undo never lowers a type)"
                )
        elif step == "link":
            rooms = [r for r in row_rooms.get(row, []) if r not in created]
            if rooms:
                changes[f"link:{rooms[-1]}"] = Change(
                    row, f"the link of room {rooms[-1]}: access set to the playbook's"
                )
    effects.members = [members[k] for k in sorted(members)]
    effects.announced = [announced[k] for k in sorted(announced)]
    effects.changes = list(changes.values())
    return effects


def _member(row: str, room_id: int, email: str, person_id: str, access: Any) -> Effect:
    return Effect(
        "member",
        f"member:{room_id}:{email.lower()}",
        row,
        room_id,
        email=email.lower(),
        person_id=person_id,
        access=int(access) if access is not None else None,
    )
