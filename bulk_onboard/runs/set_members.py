"""Whom this tool made each client room's manager and contact, per portal, across runs.

Kept in the portal's store (state/store.py: its state folder, next to the CRM ledger, and Redis
when a fleet shares its state, so that a run of the portal on another machine knows it too):

    <state folder>/portals/<host>-<hash>/room-members.jsonl
    {"row": "client:K-1", "room": 123, "set": [["manager", "m@x", 9], ["contact", "c@x", 2]]}

One line per change, the last line of a row wins; the file is rewritten compactly when it
holds many more lines than rows. The share step reads a row's entry: when the sheet names
someone else, the member it remembers is removed (if their access is still the one it gave)
and the new one added; a member it does not remember (someone added them by hand) is never
touched.

A portal that has no such file yet (its rooms onboarded by a version that did not keep one)
learns it once from the journals of the runs against it in the report folder: per client, the
room and the members of the last share that gave anyone access there. Their roles are not in a
journal ("" in the file); the share step tells them by the sheet (engine/actions/member_changes.py).
Rooms no such journal covers have no entry: nobody is removed from them until bulk-onboard has
set someone there itself.

Before a share that changes a room that existed, the step claims old and new members together
(`claim`), and after it records whom it gave access (`record`): a run stopped in between
still knows on its resume whom to take back (in a room the row made, whoever has the row's
access is the tool's, so no claim is needed). Each line is flushed at once (a process that
dies keeps it; with Redis, sent before `record` returns) and synced to disk at most once a
second, as the journal is. A room made again (another id) forgets the
entry. A dry run (`plan --against-portal`) reads it and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.runs.history import past_runs
from bulk_onboard.runs.journal import read_journal
from bulk_onboard.state.store import PortalStore

NAME = "room-members.jsonl"
MANAGER, CONTACT = "manager", "contact"


@dataclass(frozen=True, slots=True)
class SetMember:
    """A member this tool gave access in a client's room, as which role (manager, contact;
    "" for one it learnt of without its role)."""

    role: str
    email: str
    access: int


@dataclass(frozen=True, slots=True)
class Entry:
    room: int
    members: tuple[SetMember, ...]


class SetMembers:
    """The memory of one portal; `store` None: none kept (in memory only, as a dry run)."""

    def __init__(self, store: PortalStore | None, *, read_only: bool = False) -> None:
        self.store = store
        self.read_only = read_only or store is None
        self.rows: dict[str, Entry] = {}
        self._lines = 0
        self.known = False  # the store had the memory (learnt or kept), even an empty one
        if store is not None:
            self._load(store)

    @classmethod
    def for_portal(
        cls,
        store: PortalStore,
        portal_url: str,
        *,
        read_only: bool = False,
        earlier_runs: Path | None = None,
    ) -> SetMembers:
        """The portal's memory (`store`: the portal's, state/store.py); the first time, learnt
        from the journals of the runs against it in `earlier_runs` (a report folder)."""
        memory = cls(store, read_only=read_only)
        if earlier_runs is not None and not memory.known:
            memory.rows.update(learnt_from_runs(earlier_runs, portal_url))
            if not read_only:  # learnt once, even when there was nothing to learn
                memory._compact(store)
        return memory

    def _load(self, store: PortalStore) -> None:
        try:
            lines = store.entries(NAME)
        except (OSError, UnicodeDecodeError):
            return
        self.known = lines is not None
        for line in lines or ():
            self._lines += 1
            try:
                data = json.loads(line)
                row, room = str(data["row"]), int(data["room"])
                members = tuple(
                    SetMember(str(r), str(e).lower(), int(a)) for r, e, a in data["set"]
                )
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line: the entry before it holds
            self.rows[row] = Entry(room, members)

    def get(self, row: str, room: int) -> tuple[SetMember, ...]:
        """Whom this tool gave access in the row's room (none when it remembers another room)."""
        entry = self.rows.get(row)
        return entry.members if entry is not None and entry.room == room else ()

    def claim(self, row: str, room: int, members: Iterable[SetMember]) -> None:
        """Before a share that changes the room: old and new members together, so a run
        stopped before the answer still takes back the old ones and keeps the new ones."""
        self.record(row, room, (*self.get(row, room), *members))

    def record(self, row: str, room: int, members: Iterable[SetMember]) -> None:
        """Whom this tool gave access in the row's room now (written only when it changed)."""
        unique = tuple(dict.fromkeys(members))
        if self.rows.get(row) == Entry(room, unique):
            return
        self.rows[row] = Entry(room, unique)
        if self.read_only or self.store is None:
            return
        self.store.add_entries(NAME, [_line(row, self.rows[row])])
        self._lines += 1
        if self._lines > 2 * len(self.rows) + 100:
            self._compact(self.store)

    def _compact(self, store: PortalStore) -> None:
        """One line per row, put in place at once."""
        store.replace_entries(NAME, [_line(row, entry) for row, entry in self.rows.items()])
        self._lines = len(self.rows)
        self.known = True


def _line(row: str, entry: Entry) -> str:
    members = [[m.role, m.email, m.access] for m in entry.members]
    return json.dumps({"row": row, "room": entry.room, "set": members}, ensure_ascii=False)


def _same_portal(a: str, b: str) -> bool:
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def learnt_from_runs(report_dir: Path, portal_url: str) -> dict[str, Entry]:
    """Per client row: the room and the members of the last share that gave anyone access
    there, in the journals of the runs against `portal_url` in `report_dir` (oldest first)."""
    learnt: dict[str, Entry] = {}
    for run in past_runs(report_dir):
        if run.portal is None or not _same_portal(run.portal, portal_url):
            continue
        for row, steps in read_journal(run.path / "journal.jsonl").steps.items():
            entry = _share_of(steps)
            if entry is not None:
                learnt[row] = entry
    return learnt


def _share_of(steps: Mapping[str, Mapping[str, Any]]) -> Entry | None:
    share, room = steps.get("share") or {}, steps.get("room") or {}
    room_id = share.get("room", room.get("id"))
    given = share.get("set") or []
    if room_id is None or not given:
        return None
    try:
        return Entry(int(room_id), tuple(SetMember("", str(e).lower(), int(a)) for e, a in given))
    except (TypeError, ValueError):
        return None
