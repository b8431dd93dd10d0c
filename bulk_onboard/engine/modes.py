"""The jobs behind `run` and `demo`: an intake and settings in, a finished run out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.config import Settings
from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.intake import Intake
from bulk_onboard.runs.journal import Checkpoint, read_journal
from bulk_onboard.engine.root import Progress, RunOutcome, new_run_id, onboard
from bulk_onboard.runs.report import RowResult, Status
from bulk_onboard.runs.report_reader import Retry
from bulk_onboard.runs.folder import RunFolder, create_run_folder, report_dir_lock
from bulk_onboard.engine.pool import Stop
from bulk_onboard.validate.files import Invalid

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
    sources: Sequence[Path] = (),
    playbook_path: Path | None = None,
    kind: str | None = None,
    env: Mapping[str, str] | None = None,
) -> RunOutcome:
    """A new run: reports/<run-id>/ keeps copies of the sources and playbook for --resume."""
    report_dir = Path(settings.report_dir)
    with report_dir_lock(report_dir):
        folder = create_run_folder(report_dir, run_id or new_run_id(), sources, playbook_path, kind)
        return await _onboard(
            settings,
            intake,
            folder,
            progress=progress,
            stop=stop,
            client=client,
            settled=[invalid_result(row) for row in intake.invalid],
            env=env,
        )


async def resume_job(
    settings: Settings,
    folder: RunFolder,
    intake: Intake,
    *,
    progress: Progress,
    stop: Stop,
    carried: Sequence[RowResult] = (),
    client: DocSpaceClient | None = None,
    env: Mapping[str, str] | None = None,
) -> RunOutcome:
    """Continue a run in its own folder: journalled steps are not done again."""
    with report_dir_lock(folder.path.parent):
        checkpoint = read_journal(folder.journal)
        log.info(
            "journal_loaded",
            run_id=folder.run_id,
            rows=len(checkpoint.steps),
            torn_lines=checkpoint.torn_lines,
        )
        return await _onboard(
            settings,
            intake,
            folder,
            progress=progress,
            stop=stop,
            client=client,
            settled=[*(invalid_result(row) for row in intake.invalid), *carried],
            checkpoint=checkpoint,
            extra_summary={"resumed": True, "retry_of": folder.retry_of}
            if folder.retry_of
            else {"resumed": True},
            env=env,
        )


async def retry_job(
    settings: Settings,
    report: Path,
    retry: Retry,
    *,
    progress: Progress,
    stop: Stop,
    client: DocSpaceClient | None = None,
    playbook_path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> RunOutcome:
    """Run the failed rows of a report again, in a new run folder that names the old one."""
    old_journal = report.parent / "journal.jsonl"
    checkpoint = read_journal(old_journal)
    retry_of = report.parent.name if (report.parent / "run.json").is_file() else str(report)
    report_dir = Path(settings.report_dir)
    with report_dir_lock(report_dir):
        folder = create_run_folder(
            report_dir, new_run_id(), [report], playbook_path, None, retry_of=retry_of
        )
        return await _onboard(
            settings,
            retry.intake,
            folder,
            progress=progress,
            stop=stop,
            client=client,
            settled=[*(invalid_result(row) for row in retry.intake.invalid), *retry.carried],
            checkpoint=checkpoint,
            carry_checkpoint=True,
            extra_summary={
                "retry_of": retry_of,
                "retried_rows": len(retry.intake.plans) + len(retry.intake.invalid),
            },
            env=env,
        )


async def _onboard(
    settings: Settings,
    intake: Intake,
    folder: RunFolder,
    *,
    progress: Progress,
    stop: Stop,
    client: DocSpaceClient | None,
    settled: list[RowResult],
    checkpoint: Checkpoint | None = None,
    carry_checkpoint: bool = False,
    extra_summary: dict[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> RunOutcome:
    owned = client is None
    api = client or DocSpaceClient(settings)
    playbook = intake.playbook
    crm = (
        CrmDelivery(playbook.crm, env=env or {}, source=playbook.source)
        if playbook.crm.configured
        else None
    )
    try:
        if owned:
            await api.__aenter__()
        if crm is not None:
            await crm.__aenter__()
        return await onboard(
            api,
            intake.plans,
            row_values(intake),
            settled,
            run_id=folder.run_id,
            run_dir=folder.path,
            concurrency=settings.concurrency,
            stop=stop,
            progress=progress,
            checkpoint=checkpoint,
            carry_checkpoint=carry_checkpoint,
            inputs=intake.files,
            extra_summary=extra_summary,
            crm=crm,
            portal_url=settings.portal_url,
        )
    finally:
        if crm is not None:
            await crm.aclose()
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
    if s.get("retry_of"):
        lines.append(f"retried {s['retried_rows']} rows of run {s['retry_of']}")
    if s.get("stopped"):
        lines.append(f"stopped: {s['stopped']}")
    deferred = s["statuses"].get("deferred", 0)
    if deferred:
        lines.append(
            f"deferred: {deferred} rows wait for the portal's daily write budget; "
            f"continue with: bulk-onboard run --resume {outcome.run_id}"
        )
    return lines
