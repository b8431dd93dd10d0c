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
    client row, step "contact", outcome created    the contact it made a named guest
    user row, step "membership", outcome changed   a member it added ("added": true)
    client row, step "crm", outcome created        a client it announced to the CRM
    user row, step "group:<name>", created         a group it made ("id"); changed or created
                                                   with "added": a member it added to a group
    client row, step "groups", created/changed     groups it made ("created"), rooms it shared
                                                   with a group ("added", rooms that existed)

What it changed on what existed before is listed, not taken back (`changes`): a room renamed,
a person's type raised, a link's access set, a member's access set, a member this tool had set
removed when the sheet named someone else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bulk_onboard.model.outputs import (
    ContactOut,
    CrmOut,
    FileOut,
    FolderOut,
    GroupOut,
    GroupShareOut,
    MembershipOut,
    PersonOut,
    RoomOut,
    ShareOut,
    SkeletonOut,
)
from bulk_onboard.model.steps import EnsureLink, EnsurePerson, EnsureRoom, NameContact, output_type
from bulk_onboard.runs.folder import RunFolder, open_run_folder
from bulk_onboard.runs.journal import Checkpoint

Kind = Literal["room", "member", "person", "crm", "group", "group_member", "group_share"]


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
    group_id: str = ""  # a group's id (its name in `title`)


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
    # groups the run made, members it added to groups it did not make, rooms that existed
    # before that it shared with a group; and every member it added to each group (by id)
    groups: list[Effect] = field(default_factory=list)
    group_members: list[Effect] = field(default_factory=list)
    group_shares: list[Effect] = field(default_factory=list)
    joined_group: dict[str, set[str]] = field(default_factory=dict)

    @property
    def created_rooms(self) -> set[int]:
        return {e.room_id for e in self.rooms if e.room_id is not None}

    @property
    def total(self) -> int:
        return (
            len(self.rooms)
            + len(self.members)
            + len(self.people)
            + len(self.announced)
            + len(self.groups)
            + len(self.group_members)
            + len(self.group_shares)
        )


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


@dataclass
class _Rooms:
    """The rooms of the client rows' room steps: which the run created (id -> row), the ids
    each row's room step gave (a room made again has two), the titles journalled for each."""

    created: dict[int, str] = field(default_factory=dict)
    of_row: dict[str, list[int]] = field(default_factory=dict)
    titles: dict[int, list[str]] = field(default_factory=dict)

    def title(self, room_id: int) -> str:
        return self.titles.get(room_id, [""])[-1]

    def add(self, row: str, out: dict[str, Any], outcome: str | None) -> None:
        room_id = RoomOut.from_json(out).id
        ids = self.of_row.setdefault(row, [])
        if room_id not in ids:
            ids.append(room_id)
        said = self.titles.setdefault(room_id, [])
        if out.get("title") is not None and (not said or said[-1] != str(out["title"])):
            said.append(str(out["title"]))
        if outcome == "created":
            self.created[room_id] = row


Line = tuple[str, str, dict[str, Any], str | None]


def read_effects(family: list[RunFolder]) -> RunEffects:
    """Fold the journals of a run's folders into what the run did. A step's `created` is
    never undone by a later line of the same step (a retry that renames the room it made is
    journalled `changed`), and the members and invitations of every line count, not only of
    the last one."""
    lines = [entry for member in family for entry in _entries(member.journal)]
    fold = _Fold(RunEffects(family[0].run_id, [f.path for f in family]))
    fold.rooms_and_people(lines)
    for line in lines:
        fold.line(*line)
    return fold.done()


class _Fold:
    """What the lines of a run's journals add up to (read_effects)."""

    def __init__(self, effects: RunEffects) -> None:
        self.effects = effects
        self.rooms = _Rooms()
        self.created_people: dict[str, tuple[str, str]] = {}  # e-mail -> (row, id)
        self.seen_people: set[str] = set()
        self.members: dict[str, Effect] = {}  # by key: a later line of the same member wins
        self.announced: dict[str, Effect] = {}
        self.changes: dict[str, Change] = {}
        self.groups: dict[str, Effect] = {}  # by group id
        self.group_members: dict[str, Effect] = {}
        self.group_shares: dict[str, Effect] = {}

    def rooms_and_people(self, lines: list[Line]) -> None:
        """First the rooms the run created (with the last title journalled for each) and
        the people it created, which the other lines are read against."""
        for row, step, out, outcome in lines:
            if step == EnsureRoom.KEY and row.startswith("client:") and "id" in out:
                self.rooms.add(row, out, outcome)
            elif step == EnsurePerson.KEY and row.startswith("user:") and outcome == "created":
                email = row.split(":", 1)[1].lower()
                self.created_people[email] = (row, PersonOut.from_json(out).id)
            elif step == NameContact.KEY and outcome == "created":
                contact = ContactOut.from_json(out)
                self.created_people.setdefault(contact.email.lower(), (row, contact.id))
        for room_id, row in sorted(self.rooms.created.items(), key=lambda item: item[::-1]):
            title = self.rooms.title(room_id)
            self.effects.rooms.append(Effect("room", f"room:{room_id}", row, room_id, title))
        for email, (row, person_id) in sorted(self.created_people.items()):
            self.person(row, email, person_id)

    def person(self, row: str, email: str, person_id: str) -> None:
        email = email.lower()
        if email and email not in self.seen_people:
            self.seen_people.add(email)
            self.effects.people.append(
                Effect("person", f"person:{email}", row, email=email, person_id=person_id)
            )

    def line(self, row: str, step: str, out: dict[str, Any], outcome: str | None) -> None:
        if outcome not in ("created", "changed"):
            return
        kind = output_type(step)
        if kind in (FolderOut, FileOut) and "id" in out:
            made = self.effects.made_folders if kind is FolderOut else self.effects.made_files
            for room_id in self.rooms.of_row.get(row, []):
                made.setdefault(room_id, set()).add(int(out["id"]))
        elif kind is SkeletonOut:
            skeleton = SkeletonOut.from_json(out)
            for room_id in self.rooms.of_row.get(row, []):
                self.effects.made_folders.setdefault(room_id, set()).update(skeleton.folders)
                self.effects.made_files.setdefault(room_id, set()).update(skeleton.files)
        elif kind is ShareOut and "room" in out:
            self.share(row, ShareOut.from_json(out))
        elif kind is MembershipOut and "room" in out:
            self.membership(row, MembershipOut.from_json(out))
        elif kind in (GroupOut, GroupShareOut):
            self.grouped(row, out, outcome)
        elif kind is CrmOut and outcome == "created":
            rooms = self.rooms.of_row.get(row, [])
            if rooms:
                title = self.rooms.title(rooms[-1])
                self.announced[row] = Effect("crm", f"crm:{row}", row, rooms[-1], title)
        elif outcome == "changed":
            self.changed(row, step, out)

    def share(self, row: str, share: ShareOut) -> None:
        """The members a share added (taken back with the room the run created, else one by
        one) and the addresses it invited."""
        assert share.room is not None
        for email in share.invited:
            self.person(row, email, "")
        for added in share.added:
            self.effects.joined_room.setdefault(share.room, set()).add(added.email.lower())
            if share.room not in self.rooms.created:
                m = _member(row, share.room, added.email, added.person_id, added.access)
                self.members[m.key] = m
        for email in share.removed:  # the members it set before, replaced: not put back
            self.changes[f"removed:{share.room}:{email}"] = Change(
                row, f"{email} removed from room {share.room} (the sheet named someone else)"
            )

    def grouped(self, row: str, out: dict[str, Any], outcome: str | None) -> None:
        """A line of a group step: a person's (group:<name>) or a client room's (groups)."""
        if "room" in out:
            self.group_share(row, GroupShareOut.from_json(out))
        else:
            self.group(row, GroupOut.from_json(out), outcome == "created")

    def group(self, row: str, joined: GroupOut, made: bool) -> None:
        """A group the run made, and a member it added to a group (taken back with the group
        when the run made it, else one by one)."""
        if made and joined.id not in self.groups:
            self.groups[joined.id] = Effect(
                "group", f"group:{joined.id}", row, title=joined.name, group_id=joined.id
            )
        if joined.added and joined.person:
            self.effects.joined_group.setdefault(joined.id, set()).add(joined.person.lower())
            key = f"group_member:{joined.id}:{joined.person.lower()}"
            self.group_members[key] = Effect(
                "group_member",
                key,
                row,
                title=joined.name,
                email=row.split(":", 1)[1].lower(),
                person_id=joined.person.lower(),
                group_id=joined.id,
            )

    def group_share(self, row: str, share: GroupShareOut) -> None:
        """The groups a client row made, and the rooms that existed before which it shared
        with a group (a room the run made is archived with its records)."""
        for group_id, name in share.created:
            if group_id not in self.groups:
                self.groups[group_id] = Effect(
                    "group", f"group:{group_id}", row, title=name, group_id=group_id
                )
        names = {gid: name for gid, name, _ in share.given}
        access = {gid: a for gid, _, a in share.given}
        for group_id in share.added:
            if share.room in self.rooms.created:
                continue
            key = f"group_share:{share.room}:{group_id}"
            self.group_shares[key] = Effect(
                "group_share",
                key,
                row,
                share.room,
                title=names.get(group_id, ""),
                access=access.get(group_id),
                group_id=group_id,
            )

    def membership(self, row: str, join: MembershipOut) -> None:
        assert join.room is not None
        room_id, email = join.room, row.split(":", 1)[1].lower()
        if join.added:
            self.effects.joined_room.setdefault(room_id, set()).add(email)
            if room_id not in self.rooms.created:
                m = _member(row, room_id, email, join.person, join.access)
                self.members[m.key] = m
        elif room_id not in self.rooms.created and f"member:{room_id}:{email}" not in self.members:
            self.changes[f"access:{room_id}:{email}"] = Change(
                row, f"access of {email} in room {room_id} set to {join.access}"
            )

    def changed(self, row: str, step: str, out: dict[str, Any]) -> None:
        """What the run changed on what existed before: listed, never taken back."""
        created = self.rooms.created
        if step == EnsureRoom.KEY and row.startswith("client:") and "id" in out:
            room_id = RoomOut.from_json(out).id
            if room_id not in created:
                said = self.rooms.titles.get(room_id, [])
                before = f' from "{said[0]}"' if len(said) > 1 else ""
                self.changes[f"rename:{room_id}"] = Change(
                    row, f'room {room_id} renamed{before} to "{said[-1] if said else ""}"'
                )
        elif step == EnsurePerson.KEY and row.startswith("user:"):
            email = row.split(":", 1)[1].lower()
            if email not in self.created_people:
                self.changes[f"type:{email}"] = Change(
                    row, f"{email}: type raised to the sheet's (undo never lowers a type)"
                )
        elif step == EnsureLink.KEY:
            rooms = [r for r in self.rooms.of_row.get(row, []) if r not in created]
            if rooms:
                self.changes[f"link:{rooms[-1]}"] = Change(
                    row, f"the link of room {rooms[-1]}: access set to the playbook's"
                )

    def done(self) -> RunEffects:
        effects = self.effects
        effects.members = [self.members[k] for k in sorted(self.members)]
        effects.announced = [self.announced[k] for k in sorted(self.announced)]
        effects.changes = list(self.changes.values())
        effects.groups = [self.groups[k] for k in sorted(self.groups)]
        effects.group_members = [  # a group the run made goes with its members
            e for k, e in sorted(self.group_members.items()) if e.group_id not in self.groups
        ]
        effects.group_shares = [self.group_shares[k] for k in sorted(self.group_shares)]
        return effects


def taken_back_rows(effects: RunEffects, undone: Checkpoint) -> set[str]:
    """The rows of the run something of which undo took back, by what its journal (`undone`,
    every undo of the run) holds: the next runs skip them (runs/undone_rows.py)."""
    every = (
        *effects.rooms,
        *effects.members,
        *effects.people,
        *effects.announced,
        *effects.groups,
        *effects.group_members,
        *effects.group_shares,
    )
    return {e.row for e in every if e.key in undone.steps}


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
