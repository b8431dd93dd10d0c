"""The jobs behind `run` and `demo`: an intake and settings in, a finished run out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.config import Settings
from bulk_onboard.intake import Intake
from bulk_onboard.pipeline import Progress, RunOutcome, new_run_id, onboard
from bulk_onboard.report import RowResult, Status
from bulk_onboard.runner import Stop
from bulk_onboard.validate import Invalid

log = structlog.get_logger("bulk_onboard")


def invalid_result(row: Invalid) -> RowResult:
    problems = "; ".join(f"{issue.label or issue.column}: {issue.problem}" for issue in row.issues)
    kind = "client" if str(row.kind).startswith("client") else "user"
    return RowResult(
        row_key=f"{kind}:{row.key}" if row.key else f"{kind}:line-{row.origin.line}",
        kind=kind,
        origin=row.origin,
        values=row.values,
        status=Status.INVALID,
        failed_step="validate",
        error=problems,
    )


def row_values(intake: Intake) -> dict[str, tuple[tuple[str, str], ...]]:
    values: dict[str, tuple[tuple[str, str], ...]] = {}
    for client in intake.clients:
        values[client.row_key] = client.values
    for user in intake.users:
        values[user.row_key] = user.values
    return values


async def run_job(
    settings: Settings,
    intake: Intake,
    *,
    progress: Progress,
    stop: Stop,
    run_id: str | None = None,
    client: DocSpaceClient | None = None,
) -> RunOutcome:
    """Onboard an intake into the portal of `settings`; the run folder is report_dir/run_id."""
    run_id = run_id or new_run_id()
    run_dir = Path(settings.report_dir) / run_id
    invalid = [invalid_result(row) for row in intake.invalid]
    owned = client is None
    api = client or DocSpaceClient(settings)
    try:
        if owned:
            await api.__aenter__()
        return await onboard(
            api,
            intake.plans,
            row_values(intake),
            invalid,
            run_id=run_id,
            run_dir=run_dir,
            concurrency=settings.concurrency,
            stop=stop,
            progress=progress,
            inputs=intake.files,
        )
    finally:
        if owned:
            await api.__aexit__(None, None, None)


def summary_lines(outcome: RunOutcome) -> list[str]:
    """The few lines a person reads at the end of a run."""
    s: dict[str, Any] = outcome.summary
    counts = ", ".join(f"{n} {status}" for status, n in s["statuses"].items() if n)
    client = s["client"]
    lines = [
        f"run {outcome.run_id}: {s['rows']} rows in {s['duration_s']:.1f}s: {counts or 'nothing to do'}",
        (
            f"requests: {client['requests_total']} ({client['attempts']} sent, "
            f"{client['retries']} retries, {client['rate_limited']} rate-limited)"
        ),
        f"report: {s['report']['xlsx']}",
        f"        {s['report']['csv']}",
    ]
    if s.get("stopped"):
        lines.append(f"stopped: {s['stopped']}")
    return lines
