"""Whom this tool made each client room's manager and contact, per portal, across runs.

Kept in the portal's state folder (config.portal_state_dir), next to the CRM ledger:

    <state folder>/portals/<host>-<hash>/room-members.jsonl
    {"row": "client:K-1", "room": 123, "set": [["manager", "m@x", 9], ["contact", "c@x", 2]]}

One line per change, the last line of a row wins; the file is rewritten compactly when it
holds many more lines than rows. The share step reads a row's entry: when the sheet names
someone else, the member it remembers is removed (if their access is still the one it gave)
and the new one added; a member it does not remember (someone added them by hand) is never
touched. Before a share that changes the room, the step claims old and new members together
(`claim`), and after it records whom it gave access (`record`): a run stopped in between
still knows on its resume whom to take back. A room made again (another id) forgets the
entry. A dry run (`plan --against-portal`) reads it and writes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bulk_onboard.config import portal_state_dir

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
    """The memory of one portal; `path` None: none kept (in memory only, as a dry run)."""

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only or path is None
        self.rows: dict[str, Entry] = {}
        self._lines = 0
        if path is not None:
            self._load(path)

    @classmethod
    def for_portal(cls, state_dir: Path, portal_url: str, *, read_only: bool = False) -> SetMembers:
        return cls(portal_state_dir(state_dir, portal_url) / NAME, read_only=read_only)

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
            fh.flush()
            os.fsync(fh.fileno())
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
