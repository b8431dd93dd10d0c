"""The rows `undo` took back, remembered for the portal, so the next run does not make them
again (and mail everyone a second time) only because the same export still lists them. Kept
in the portal's store (state/store.py: its state folder, and Redis when a fleet shares it):

    <state folder>/portals/<host>-<hash>/undone-rows.json
    {"<row key>": {"run": "<run id>", "at": "<ISO time, UTC>", "file": "<input file>"}}

A row is remembered by its key (`client:<client_id>`, `user:<e-mail>`) when undo took back
something of it: the room of a client row, a member its share added, the person a user row
made, the person a client's share invited. `run`, `retry` and `run --resume` report such a row
`skipped` and send nothing for it (engine/undone.py) until the admin runs with `--redo`, or
until a run reads its input file and the row is gone from it: then it is forgotten. `file` is
the input file the row came from (as the report names it; "" when undo could not tell), so
a run of another export to the same portal forgets nothing of this one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bulk_onboard.state.store import PortalStore

NAME = "undone-rows.json"


@dataclass(frozen=True, slots=True)
class Undone:
    """A row undo took back: which run's undo, when (ISO, UTC), from which input file."""

    run_id: str
    at: str
    file: str = ""

    @property
    def day(self) -> str:
        return self.at[:10]

    def note(self) -> str:
        """What the row's report line says."""
        return (
            f"taken back by undo of run {self.run_id} on {self.day}; run with --redo to "
            "create it again"
        )


def read_undone(store: PortalStore) -> dict[str, Undone]:
    """The remembered rows by key; none when the file is missing or unreadable."""
    try:
        raw = json.loads(store.read(NAME) or "{}")
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    rows: dict[str, Undone] = {}
    for key, entry in raw.items():
        if isinstance(entry, dict) and entry.get("run") and entry.get("at"):
            rows[str(key)] = Undone(str(entry["run"]), str(entry["at"]), str(entry.get("file", "")))
    return rows


def _write(store: PortalStore, rows: Mapping[str, Undone]) -> None:
    data = {k: {"run": u.run_id, "at": u.at, "file": u.file} for k, u in sorted(rows.items())}
    store.write(NAME, json.dumps(data, indent=1, ensure_ascii=False) + "\n")  # at once


def remember_undone(
    store: PortalStore, rows: Mapping[str, str], run_id: str, at: datetime
) -> dict[str, Undone]:
    """Remember `rows` (key -> input file) as taken back by the undo of `run_id` at `at`. A
    row the undo of the same run remembered already keeps its date (undo run again after a
    stop). Returns the rows remembered now."""
    known = read_undone(store)
    when = at.isoformat(timespec="seconds")
    for key, file in rows.items():
        earlier = known.get(key)
        if earlier is None or earlier.run_id != run_id:
            known[key] = Undone(run_id, when, file)
    _write(store, known)
    return {key: known[key] for key in rows}


def forget_undone(store: PortalStore, keys: Iterable[str]) -> None:
    """Forget these rows (redone, or gone from their export)."""
    gone = set(keys)
    known = read_undone(store)
    if gone & known.keys():
        _write(store, {k: u for k, u in known.items() if k not in gone})
