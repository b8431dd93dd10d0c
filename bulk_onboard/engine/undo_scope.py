"""What a run did, from its journals: the rooms it created, the members it added, the people
it invited, the clients it announced. Pure but for reading files.

A run is its folder (with every `--resume` of it, which appends to the same journal) and the
folders of the retries of it (run.json `retry_of` names the run they retried; a retry of a
retry counts too). A retry's journal begins with what the run before it had done, so entries
are folded by (row, step): each effect counts once.

Only what the journal says the run created or changed is ever taken back:
    client row, step "room", outcome created       a room the run created
    client row, step "share", outcome changed      members it added ("added") and addresses
                                                   it invited by e-mail ("invited")
    user row, step "person", outcome created       a person it created or invited
    user row, step "membership", outcome changed   a member it added ("added": true)
    client row, step "crm", outcome created        a client it announced to the CRM
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bulk_onboard.runs.folder import RunFolder, open_run_folder
from bulk_onboard.runs.journal import read_journal

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


def read_effects(family: list[RunFolder]) -> RunEffects:
    """Fold the journals of a run's folders into what the run did."""
    steps: dict[tuple[str, str], tuple[dict[str, Any], str | None]] = {}
    for member in family:
        checkpoint = read_journal(member.journal)
        for row, outputs in checkpoint.steps.items():
            for step, out in outputs.items():
                outcome = checkpoint.outcome(row, step)
                if outcome in ("created", "changed") or (row, step) not in steps:
                    steps[(row, step)] = (out, outcome)
    effects = RunEffects(family[0].run_id, [f.path for f in family])
    seen_people: set[str] = set()

    def person(row: str, email: str, person_id: str) -> None:
        email = email.lower()
        if email and email not in seen_people:
            seen_people.add(email)
            effects.people.append(
                Effect("person", f"person:{email}", row, email=email, person_id=person_id)
            )

    for (row, step), (out, outcome) in sorted(steps.items()):
        if row.startswith("client:") and step == "room" and outcome == "created":
            room_id = int(out["id"])
            effects.rooms.append(
                Effect("room", f"room:{room_id}", row, room_id, str(out.get("title", "")))
            )
        elif row.startswith("user:") and step == "person" and outcome == "created":
            person(row, row.split(":", 1)[1], str(out.get("id", "")))
    created = effects.created_rooms
    for (row, step), (out, outcome) in sorted(steps.items()):
        if outcome not in ("created", "changed"):
            continue
        if step.startswith(("folder:", "copy:")) and "id" in out:
            room = steps.get((row, "room"), ({}, None))[0].get("id")
            if room is not None:
                made = effects.made_folders if step.startswith("folder:") else effects.made_files
                made.setdefault(int(room), set()).add(int(out["id"]))
        elif step == "share" and "room" in out:
            room_id = int(out["room"])
            for email in out.get("invited", []):
                person(row, str(email), "")
            for email, person_id, access in out.get("added", []):
                effects.joined_room.setdefault(room_id, set()).add(str(email).lower())
                if room_id not in created:
                    effects.members.append(
                        _member(row, room_id, str(email), str(person_id), access)
                    )
        elif step == "membership" and out.get("added") and "room" in out:
            room_id, email = int(out["room"]), row.split(":", 1)[1].lower()
            effects.joined_room.setdefault(room_id, set()).add(email)
            if room_id not in created:
                effects.members.append(
                    _member(row, room_id, email, str(out.get("person", "")), out.get("access"))
                )
        elif step == "crm" and outcome == "created":
            room = steps.get((row, "room"), ({}, None))[0]
            if "id" in room:
                effects.announced.append(
                    Effect(
                        "crm",
                        f"crm:{row}",
                        row,
                        int(room["id"]),
                        str(room.get("title", "")),
                    )
                )
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
