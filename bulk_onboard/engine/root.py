"""The composition root: plans in, portal work under limits, report and exit code out.

A run opens its journal, runs its phases (phases.py: people, clients, memberships), then writes
the report and summary.json and decides the exit code. Every row ends in the report with a
status, whatever happens to the run.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.engine.actions.crm import Announcer, Ledger
from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.engine.step_runner import Context, RowState
from bulk_onboard.runs.journal import Checkpoint, Journal
from bulk_onboard.engine.phases import Phases, Progress, RunState
from bulk_onboard.runs.report import (
    OK_STATUSES,
    RowResult,
    Status,
    status_counts,
    write_csv,
    write_summary,
    write_xlsx,
)
from bulk_onboard.engine.pool import Stop
from bulk_onboard.model.steps import Plan

log = structlog.get_logger("bulk_onboard")

__all__ = ["Progress", "RunOutcome", "new_run_id", "onboard"]  # Progress is defined in phases

EXIT_OK, EXIT_ROWS_FAILED, EXIT_INPUT, EXIT_ABORTED, EXIT_LOCKED, EXIT_DEFERRED = 0, 1, 2, 3, 4, 5


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    # Sortable by start time (to the millisecond), unique by a random suffix.
    return f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}{secrets.token_hex(1)}"


@dataclass
class RunOutcome:
    run_id: str
    run_dir: Path
    results: list[RowResult]
    summary: dict[str, Any]
    exit_code: int


async def onboard(
    client: DocSpaceClient,
    plans: Sequence[Plan],
    values: dict[str, tuple[tuple[str, str], ...]],
    settled: Sequence[RowResult],
    *,
    run_id: str,
    run_dir: Path,
    concurrency: int,
    stop: Stop,
    progress: Progress,
    checkpoint: Checkpoint | None = None,
    carry_checkpoint: bool = False,
    inputs: Sequence[str] = (),
    extra_summary: dict[str, Any] | None = None,
    crm: CrmDelivery | None = None,
    portal_url: str = "",
) -> RunOutcome:
    """Onboard every planned row; write journal, report and summary into run_dir."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    run_dir.mkdir(parents=True, exist_ok=True)
    run = RunState(
        states={p.row_key: RowState(plan=p, values=values.get(p.row_key, ())) for p in plans}
    )
    user_plans = [p for p in plans if p.kind == "user"]
    client_plans = [p for p in plans if p.kind == "client"]
    progress.start(len(plans) + len(settled))
    for result in settled:
        progress.row_done(result.status)
    log.info("run_started", run_id=run_id, rows=len(plans), settled=len(settled))

    with Journal(run_dir / "journal.jsonl") as journal:
        if checkpoint is not None and carry_checkpoint:
            # A retry starts a new run folder: its journal begins with what is already done,
            # so a retry of this retry finds it too.
            for row_key, steps in checkpoint.steps.items():
                for step_key, out in steps.items():
                    journal.record(row_key, step_key, out, checkpoint.outcome(row_key, step_key))
        ctx = Context.open(client, journal, checkpoint or Checkpoint(), plans)
        announcer = None
        if crm is not None:
            ledger = Ledger(run_dir.parent / "crm-delivered.txt")
            announcer = Announcer(ctx, crm, ledger, run_id=run_id, portal_url=portal_url)
        phases = Phases(
            ctx, run, progress=progress, stop=stop, concurrency=concurrency, announcer=announcer
        )
        await phases.people(user_plans)
        await phases.clients(client_plans)
        await phases.memberships(user_plans)
        await phases.announcements()

    # Whatever has no result yet was never finished: the run stopped first.
    reason = str(run.fatal) if run.fatal else (stop.reason or "the run stopped")
    for key, state in run.states.items():
        if key not in run.results:
            run.interrupted(state, reason, progress)

    ordered = [*settled, *(run.results[p.row_key] for p in plans)]
    ordered.sort(key=lambda r: (r.origin.file, r.origin.sheet or "", r.origin.line))
    write_csv(run_dir / "report.csv", ordered)
    write_xlsx(run_dir / "report.xlsx", ordered)
    counts = status_counts(ordered)
    if run.fatal is not None or stop.requested:
        exit_code = EXIT_ABORTED
    elif any(r.status is Status.DEFERRED for r in ordered):
        exit_code = EXIT_DEFERRED
    elif all(r.status in OK_STATUSES for r in ordered):
        exit_code = EXIT_OK
    else:
        exit_code = EXIT_ROWS_FAILED
    summary: dict[str, Any] = {
        "run_id": run_id,
        "inputs": list(inputs),
        "started": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
        "rows": len(ordered),
        "statuses": counts,
        "exit_code": exit_code,
        "stopped": reason if (run.fatal or stop.requested) else None,
        "client": client.stats.as_dict(),
        "report": {"csv": str(run_dir / "report.csv"), "xlsx": str(run_dir / "report.xlsx")},
        "journal": str(run_dir / "journal.jsonl"),
        **(extra_summary or {}),
    }
    write_summary(run_dir / "summary.json", summary)
    progress.close()
    log.info("run_finished", run_id=run_id, exit_code=exit_code, **counts)
    return RunOutcome(run_id, run_dir, ordered, summary, exit_code)
