"""The runs a report folder keeps: listed from their run.json and summary.json, and pruned.

Pruning holds the report folder's lock (folder.report_dir_lock), the one a run holds from start
to end, so a folder a running run writes to is never removed: with a run going, prune is
refused (RunLocked) and removes nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulk_onboard.runs.folder import report_dir_lock

UNFINISHED = "unfinished"  # a run folder without summary.json: stopped hard, or still running


@dataclass(frozen=True, slots=True)
class PastRun:
    """One run folder as its run.json and summary.json tell it."""

    run_id: str
    path: Path
    started: str  # ISO time, UTC
    portal: str | None
    verdict: str  # summary.json's verdict, or "unfinished"
    statuses: dict[str, int] = field(default_factory=dict)
    exit_code: int | None = None
    retry_of: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "folder": str(self.path),
            "started": self.started,
            "portal": self.portal,
            "verdict": self.verdict,
            "statuses": self.statuses,
            "exit_code": self.exit_code,
            "retry_of": self.retry_of,
        }

    def counts(self) -> str:
        """'3 created, 1 failed': the statuses the run had, in summary.json's order."""
        return ", ".join(f"{n} {status}" for status, n in self.statuses.items() if n) or "-"


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_run(path: Path) -> PastRun | None:
    """The run in folder `path`, or None for a folder that is not a run's (no run.json)."""
    meta = _json(path / "run.json")
    if meta is None:
        return None
    summary = _json(path / "summary.json") or {}
    statuses = summary.get("statuses") or {}
    return PastRun(
        run_id=str(meta.get("run_id") or path.name),
        path=path,
        started=str(summary.get("started") or meta.get("created") or ""),
        portal=meta.get("portal") or summary.get("portal"),
        verdict=str(summary.get("verdict") or UNFINISHED),
        statuses={str(k): int(v) for k, v in statuses.items() if isinstance(v, int)},
        exit_code=summary.get("exit_code"),
        retry_of=meta.get("retry_of"),
    )


def past_runs(report_dir: Path) -> list[PastRun]:
    """Every run folder in `report_dir`, oldest first (by start, then id)."""
    if not report_dir.is_dir():
        return []
    found = (read_run(p) for p in report_dir.iterdir() if p.is_dir())
    return sorted((r for r in found if r is not None), key=lambda r: (r.started, r.run_id))


def run_lines(runs: Sequence[PastRun]) -> list[str]:
    """The runs as a table for people, newest last."""
    if not runs:
        return []
    rows = [("run", "started", "portal", "verdict", "rows")]
    rows += [(r.run_id, r.started, r.portal or "-", r.verdict, r.counts()) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)), row[4]])
        for row in rows
    ]


def prune(report_dir: Path, keep: int) -> list[PastRun]:
    """Remove all but the `keep` newest run folders of `report_dir`; the runs removed, oldest
    first. Holds the report folder's lock: RunLocked while a run (or an undo) uses it."""
    with report_dir_lock(report_dir):
        runs = past_runs(report_dir)
        removed = runs[: max(len(runs) - keep, 0)]
        for run in removed:
            shutil.rmtree(run.path)
    return removed


def removed_lines(removed: list[PastRun], keep: int) -> list[str]:
    """What `prune` removed, as lines for people."""
    if not removed:
        return [f"nothing to remove: {keep} or fewer runs"]
    lines = [f"removed {len(removed)} run folder{'s' if len(removed) != 1 else ''}:"]
    lines += [f"  {r.path}  ({r.started}, {r.verdict})" for r in removed]
    return lines
