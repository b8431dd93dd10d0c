"""Whom this tool made each client room's manager and contact, per portal, across runs.

Kept in the portal's state folder (config.portal_state_dir), next to the CRM ledger:

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
dies keeps it) and synced to disk at most once a second, as the journal is. A room made again (another id) forgets the
entry. A dry run (`plan --against-portal`) reads it and writes nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.config import portal_state_dir
from bulk_onboard.runs.history import past_runs
from bulk_onboard.runs.journal import read_journal

NAME = "room-members.jsonl"
SYNC_EVERY = 1.0  # seconds: fsync at most this often, as the journal does
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
    """The memory of one portal; `path` None: none kept (in memory only, as a dry run)."""

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only or path is None
        self.rows: dict[str, Entry] = {}
        self._lines = 0
        self._clock = time.monotonic
        self._synced = -SYNC_EVERY  # the first line goes to disk at once
        if path is not None:
            self._load(path)

    @classmethod
    def for_portal(
        cls,
        state_dir: Path,
        portal_url: str,
        *,
        read_only: bool = False,
        earlier_runs: Path | None = None,
    ) -> SetMembers:
        """The portal's memory; the first time, learnt from the journals of the runs against
        it in `earlier_runs` (a report folder)."""
        path = portal_state_dir(state_dir, portal_url) / NAME
        memory = cls(path, read_only=read_only)
        if earlier_runs is not None and not path.exists():
            memory.rows.update(learnt_from_runs(earlier_runs, portal_url))
            if not read_only:  # learnt once, even when there was nothing to learn
                path.parent.mkdir(parents=True, exist_ok=True)
                memory._compact(path)
        return memory

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return
        for line in text.splitlines():
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
        if self.read_only or self.path is None:
            return
        line = {"row": row, "room": room, "set": [[m.role, m.email, m.access] for m in unique]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()  # a process that dies keeps it; the disk has it within a second
            if self._clock() - self._synced >= SYNC_EVERY:
                os.fsync(fh.fileno())
                self._synced = self._clock()
        self._lines += 1
        if self._lines > 2 * len(self.rows) + 100:
            self._compact(self.path)

    def _compact(self, path: Path) -> None:
        """One line per row, written aside and put in place at once."""
        aside = path.with_name(path.name + ".new")
        with aside.open("w", encoding="utf-8") as fh:
            for row, entry in self.rows.items():
                members = [[m.role, m.email, m.access] for m in entry.members]
                line = {"row": row, "room": entry.room, "set": members}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(aside, path)
        self._lines = len(self.rows)


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
