"""What follows a run once it has ended, for `run` (and `retry`) as for each portal of a fleet:
its failed rows remembered for the portal (`failing_since`), the playbook's [notify] told
when wanted (runs/notice.py), and its [runs] keep applied to the report folder
(runs/history.py). Nothing here changes how the run ended: a notification that fails, or a
report folder another run holds, is logged and returned for saying, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog

from bulk_onboard.errors import ConfigError, RunLocked
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.runs.history import PastRun, prune, removed_lines
from bulk_onboard.runs.notice import notify_after_run
from bulk_onboard.runs.report import RowResult
from bulk_onboard.state.store import PortalStore

log = structlog.get_logger("bulk_onboard")


class Ended(Protocol):
    """What the after-run work reads of a run that has ended (engine/root.py's RunSummary)."""

    @property
    def run_id(self) -> str: ...

    @property
    def run_dir(self) -> Path: ...

    @property
    def problems(self) -> Sequence[RowResult]: ...


@dataclass(frozen=True, slots=True)
class AfterRun:
    """What became of the after-run work: each [notify] channel's outcome (summary.json's
    "notify"), the run folders [runs] keep removed, and why it removed none when it could not
    prune."""

    notified: list[dict[str, Any]] = field(default_factory=list)
    keep: int | None = None
    pruned: list[PastRun] = field(default_factory=list)
    not_pruned: str | None = None

    def lines(self) -> list[str]:
        """For people: each notification that failed, then what the pruning did."""
        lines = [
            f"warning: the notification to {o['to']} failed: {o['error']}"
            for o in self.notified
            if not o["sent"]
        ]
        if self.not_pruned is not None:
            lines.append(f"runs not pruned: {self.not_pruned}")
        elif self.pruned and self.keep is not None:
            lines += removed_lines(self.pruned, self.keep)
        return lines


async def after_run(
    playbook: Playbook, summary: Ended, store: PortalStore, env: Mapping[str, str]
) -> AfterRun:
    """Once the run has ended (its summary.json written): its failed rows remembered in the
    portal's `store`, [notify] told, [runs] keep applied; from inside a running loop."""
    notified = await notify_after_run(
        playbook.notify, summary.run_dir / "summary.json", summary.problems, store, env
    )
    keep = playbook.keep_runs
    if keep is None:
        return AfterRun(notified)
    try:
        pruned = prune(summary.run_dir.parent, keep)
    except (RunLocked, ConfigError) as exc:  # a run starting meanwhile keeps the folder as is
        log.info("runs_not_pruned", run_id=summary.run_id, error=str(exc))
        return AfterRun(notified, keep, not_pruned=str(exc))
    if pruned:
        log.info("runs_pruned", run_id=summary.run_id, keep=keep, removed=len(pruned))
    return AfterRun(notified, keep, pruned)
