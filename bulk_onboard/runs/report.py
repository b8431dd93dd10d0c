"""Row results, the per-row report (CSV and XLSX) and summary.json.

`report_values` and `report_row` are pure: a result in, a flat row out. The writers
(runs/report_stream.py, runs/report_xlsx.py) put those rows on disk. Every CSV
cell a user could open in Excel is neutralised: text starting with = + - @, a tab or a
carriage return gets a leading apostrophe, so a crafted name cannot run a formula.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bulk_onboard.model.cells import neutralise
from bulk_onboard.model.outputs import changes_in, changes_text
from bulk_onboard.model.records import Origin
from bulk_onboard.model.steps import (
    CopyFile,
    EnsureFolder,
    EnsureLink,
    EnsurePerson,
    EnsureRoom,
    JoinGroup,
    ShareGroups,
)


class Status(StrEnum):
    CREATED = "created"  # the row's main object (room, person) was created by this run
    UPDATED = "updated"  # it existed; this run added or changed something
    UNCHANGED = "unchanged"  # everything was already in place: look-ups only
    FAILED = "failed"
    INVALID = "invalid"  # never sent: the row itself is wrong
    INTERRUPTED = "interrupted"  # the run stopped before or while doing this row
    DEFERRED = "deferred"  # the portal's daily write budget ran out: continue it later
    SKIPPED = "skipped"  # undo took it back: nothing is made for it until --redo


OK_STATUSES = frozenset({Status.CREATED, Status.UPDATED, Status.UNCHANGED})
# nothing for anyone to fix: a skipped row is held back on purpose, not a failure
FINE_STATUSES = OK_STATUSES | {Status.SKIPPED}
RETRY_STATUSES = frozenset({Status.FAILED, Status.INTERRUPTED, Status.INVALID, Status.DEFERRED})


@dataclass
class RowResult:
    """What happened to one input row."""

    row_key: str
    kind: str  # "client" | "user"
    origin: Origin
    values: tuple[tuple[str, str], ...]
    status: Status
    failed_step: str | None = None
    error: str | None = None
    note: str | None = None  # what a row that did not fail should still say
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)  # step -> created/changed/found
    requests: int = 0
    attempts: int = 0
    duration: float = 0.0
    # a row a retry leaves alone: its `changes` cell as the report had it (no step outputs)
    carried_changes: str | None = None


RESULT_COLUMNS = (
    "status",
    "failed_step",
    "error",
    "note",
    "changes",  # what the run changed on what existed: "title: A → B; contact: x → y"
    "room_id",
    "room_name",  # the room's title as the portal has it (room_title is an input column)
    "room_link",
    "person_id",
    "folder_ids",
    "file_ids",
    "group_ids",  # the DocSpace groups the person joined, or the client's room was shared with
    "requests",
    "attempts",
    "duration_s",
)
LEAD_COLUMNS = ("file", "sheet", "line", "kind")


def _joined(pairs: Iterable[tuple[str, Any]]) -> str:
    return "; ".join(f"{name}={value}" for name, value in pairs)


def report_values(result: RowResult, input_columns: Sequence[str]) -> dict[str, Any]:
    """One flat report row as values: where it came from, every input column (as text, as
    typed), what happened (numbers as numbers)."""
    out = result.outputs
    values = dict(result.values)
    folders = _titled(out, EnsureFolder.title_of)
    files = _titled(out, CopyFile.title_of)
    room = out.get(EnsureRoom.KEY, {})
    return {
        "file": result.origin.file,
        "sheet": result.origin.sheet or "",
        "line": result.origin.line,
        "kind": result.kind,
        **{report_name(column): values.get(column, "") for column in input_columns},
        "status": result.status.value,
        "failed_step": result.failed_step or "",
        "error": result.error or "",
        "note": result.note or "",
        "changes": result.carried_changes or changes_text(changes_in(out)),
        "room_id": room.get("id", ""),
        "room_name": room.get("title", ""),
        "room_link": out.get(EnsureLink.KEY, {}).get("url", ""),
        "person_id": out.get(EnsurePerson.KEY, {}).get("id", ""),
        "folder_ids": _joined(folders),
        "file_ids": _joined(files),
        "group_ids": _joined(_groups(out)),
        "requests": result.requests,
        "attempts": result.attempts,
        "duration_s": round(result.duration, 3),
    }


def _groups(outputs: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """(name, id) of the groups a person joined (group:<name>) or a room was shared with."""
    shared = outputs.get(ShareGroups.KEY, {}).get("given") or []
    joined = [(v.get("name", k), v.get("id")) for k, v in outputs.items() if _is_group(k, v)]
    return joined + [(name, gid) for gid, name, *_ in shared]


def _is_group(key: str, out: Mapping[str, Any]) -> bool:
    return key.startswith(JoinGroup.KEY) and "id" in out


def _titled(
    outputs: Mapping[str, Mapping[str, Any]], title_of: Callable[[str], str | None]
) -> list[tuple[str, Any]]:
    """(title, id) of the row's steps of one titled kind (folders, copies), in step order."""
    return [(t, v.get("id")) for k, v in outputs.items() if (t := title_of(k)) is not None]


def report_row(result: RowResult, input_columns: Sequence[str]) -> dict[str, str]:
    """The row as CSV text, every cell made inert for spreadsheet programs."""
    row = report_values(result, input_columns)
    row["duration_s"] = f"{result.duration:.3f}"
    return {key: neutralise(str(value)) for key, value in row.items()}


def input_columns_of(results: Iterable[RowResult]) -> list[str]:
    """The union of input columns, in first-seen order."""
    seen: dict[str, None] = {}
    for result in results:
        for name, _ in result.values:
            seen.setdefault(name, None)
    return list(seen)


INPUT_SUFFIX = " (input)"


def report_name(column: str) -> str:
    """An input column's name in the report: marked when the report has a column of its own
    by that name (an extra column called status, error, file...), so neither hides the other."""
    return column + INPUT_SUFFIX if column in LEAD_COLUMNS or column in RESULT_COLUMNS else column


def input_name(header: str) -> str:
    """The input column a report header stands for (undoes report_name)."""
    base = header.removesuffix(INPUT_SUFFIX)
    return base if header != base and (base in LEAD_COLUMNS or base in RESULT_COLUMNS) else header


def report_header(input_columns: Sequence[str]) -> list[str]:
    return [*LEAD_COLUMNS, *(report_name(c) for c in input_columns), *RESULT_COLUMNS]


NUMBER_COLUMNS = frozenset({"line", "room_id", "requests", "attempts", "duration_s"})


def status_counts(results: Iterable[RowResult]) -> dict[str, int]:
    counts = Counter(result.status.value for result in results)
    return {status.value: counts.get(status.value, 0) for status in Status}


def write_summary(path: Path, summary: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def record_exit_code(path: Path, code: int) -> None:
    """Add the command's exit code to a run's summary.json, for schedulers that read it."""
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary["exit_code"] = code
    write_summary(path, summary)
