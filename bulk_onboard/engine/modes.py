"""The three ways a run starts: a new run, a resumed one, a retry of a report's failed rows.

Each takes the report folder's lock, the portal's lock in this user's state folder (one run at
a time writes to a portal from this machine, whatever its report folder) and the portal's lease
on the portal itself (one run at a time whatever the machine, engine/lease.py), prepares the run folder and the job (which rows are settled
already, what the journal holds), and hands the job to `root.run`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Required, TypedDict, Unpack

import structlog

from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.config import Settings, portal_state_dir
from bulk_onboard.engine.lease import Leased, portal_lease
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import Job, RunSummary, new_run_id, run
from bulk_onboard.intake import Intake
from bulk_onboard.runs.folder import RunFolder, create_run_folder, portal_lock, report_dir_lock
from bulk_onboard.runs.journal import read_journal
from bulk_onboard.runs.progress import Progress
from bulk_onboard.runs.report import RowResult, Status
from bulk_onboard.runs.report_reader import Retry
from bulk_onboard.validate.files import Invalid

log = structlog.get_logger("bulk_onboard")


class Launch(TypedDict, total=False):
    """What every mode hands on to the run: how it is watched and stopped, a portal client to
    use instead of the real one (if any), the environment with the CRM sinks' secrets, and
    whether to announce again what the portal's CRM ledger holds."""

    progress: Required[Progress]
    stop: Required[Stop]
    client: PortalClient | None
    env: Mapping[str, str] | None
    reannounce: bool
    redo: bool  # make again the rows undo took back (else they are skipped)
    on_held: Callable[[str], None]  # told the run id once the portal's lock and lease are held


def portal_locked(settings: Settings, run_id: str, folder: Path) -> AbstractContextManager[None]:
    """The lock of the settings' portal, held by this run (RunLocked if another holds it)."""
    where = portal_state_dir(settings.state_dir, settings.portal_url)
    return portal_lock(where, settings.portal_url, run_id, folder)


def invalid_result(row: Invalid) -> RowResult:
    problems = "; ".join(f"{p.label or p.column}: {p.text}" for p in row.problems)
    kind = row.kind
    return RowResult(
        row_key=f"{kind}:{row.key}" if row.key else f"{kind}:line-{row.origin.line}",
        kind=kind,
        origin=row.origin,
        values=row.values,
        status=Status.INVALID,
        failed_step="validate",
        error=problems,
    )


def invalid_results(intake: Intake) -> tuple[RowResult, ...]:
    return tuple(invalid_result(row) for row in intake.invalid)


async def locked_run(
    settings: Settings,
    folder: Path,
    run_id: str,
    job: Callable[[], Job],
    launch: Launch,
) -> RunSummary:
    """Run the job under the lock of the report folder holding `folder` (the run's folder)
    and the portal's; `job` is made once both are held (and the portal's lease: then
    `on_held` is told the run id)."""
    with report_dir_lock(folder.parent), portal_locked(settings, run_id, folder):
        async with leased(settings, run_id, launch) as lease:
            held = launch.get("on_held")
            if held is not None:
                held(run_id)
            made = replace(job(), reannounce=launch.get("reannounce", False))
            return await run(
                settings,
                made,
                progress=launch["progress"],
                stop=launch["stop"],
                env=launch.get("env"),
                client=launch.get("client"),
                lease=lease,
            )


@asynccontextmanager
async def leased(settings: Settings, run_id: str, launch: Launch) -> AsyncIterator[Leased | None]:
    """The portal's lease for the run (RunLocked when another run holds it), unless it is
    switched off or the run writes through a client of its own; its client's counters. A
    lost lease stops the run at once, its rows in flight cancelled (as a second Ctrl-C does)."""
    if not settings.portal_lease or launch.get("client") is not None:
        yield None
        return
    stop = launch["stop"]

    def lost(reason: str) -> None:
        for _ in range(max(0, 2 - stop.requests)):
            stop.request(reason)

    async with portal_lease(settings, run_id, lost) as counted:
        yield counted


async def start(
    settings: Settings,
    intake: Intake,
    *,
    run_id: str | None = None,
    sources: Sequence[Path] = (),
    playbook_path: Path | None = None,
    kind: str | None = None,
    **launch: Unpack[Launch],
) -> RunSummary:
    """A new run: reports/<run-id>/ keeps copies of the sources and playbook for --resume."""
    report_dir = Path(settings.report_dir)
    run_id = run_id or new_run_id()

    def job() -> Job:
        folder = create_run_folder(
            report_dir, run_id, sources, playbook_path, kind, portal_url=settings.portal_url
        )
        return Job(
            intake,
            folder.run_id,
            folder.path,
            settled=invalid_results(intake),
            redo=launch.get("redo", False),
        )

    return await locked_run(settings, report_dir / run_id, run_id, job, launch)


async def resume(
    settings: Settings,
    folder: RunFolder,
    intake: Intake,
    *,
    carried: Sequence[RowResult] = (),
    **launch: Unpack[Launch],
) -> RunSummary:
    """Continue a run in its own folder: journalled steps are not done again."""

    def job() -> Job:
        checkpoint = read_journal(folder.journal)
        log.info(
            "journal_loaded",
            run_id=folder.run_id,
            rows=len(checkpoint.steps),
            torn_lines=checkpoint.torn_lines,
        )
        extra: dict[str, object] = {"resumed": True}
        if folder.retry_of:
            extra["retry_of"] = folder.retry_of
        return Job(
            intake,
            folder.run_id,
            folder.path,
            settled=(*invalid_results(intake), *carried),
            checkpoint=checkpoint,
            extra_summary=extra,
            redo=launch.get("redo", False),
        )

    return await locked_run(settings, folder.path, folder.run_id, job, launch)


async def retry(
    settings: Settings,
    report: Path,
    retry: Retry,
    *,
    playbook_path: Path | None = None,
    **launch: Unpack[Launch],
) -> RunSummary:
    """Run the failed rows of a report again, in a new run folder that names the old one."""
    checkpoint = read_journal(report.parent / "journal.jsonl")
    retry_of = report.parent.name if (report.parent / "run.json").is_file() else str(report)
    report_dir = Path(settings.report_dir)
    run_id = new_run_id()

    def job() -> Job:
        folder = create_run_folder(
            report_dir,
            run_id,
            [report],
            playbook_path,
            None,
            retry_of=retry_of,
            portal_url=settings.portal_url,
        )
        return Job(
            retry.intake,
            folder.run_id,
            folder.path,
            settled=(*invalid_results(retry.intake), *retry.carried),
            checkpoint=checkpoint,
            carry_checkpoint=True,
            extra_summary={
                "retry_of": retry_of,
                "retried_rows": len(retry.intake.plans) + len(retry.intake.invalid),
            },
            redo=launch.get("redo", False),
        )

    return await locked_run(settings, report_dir / run_id, run_id, job, launch)
