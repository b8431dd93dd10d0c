"""The composition root: a job in, portal work under limits, the run's summary out.

`run()` is the one place where a run is put together: it opens (on one AsyncExitStack) the
portal client, the CRM sinks and the journal, builds the run's view of the portal, the step
runner with every action and the phases, runs the phases (people, clients, memberships, CRM),
then writes the report and summary.json. Every row ends in the report with a status, whatever
happens to the run. It returns a frozen RunSummary; what the summary means for an exit code or
for the lines a person reads is the command line's business.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import structlog
from structlog.contextvars import bound_contextvars

from bulk_onboard.api import metering
from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.config import Settings, portal_state_dir
from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.crm.ledger import LEDGER_NAME, Ledger
from bulk_onboard.engine import guard
from bulk_onboard.engine.actions.client import ClientActions
from bulk_onboard.engine.actions.crm import CrmActions
from bulk_onboard.engine.actions.invitations import Inviter
from bulk_onboard.engine.actions.people import MembershipActions, PersonActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import ExactlyOnce, LookAgain
from bulk_onboard.engine.phases import Phases, Progress, RunState
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.step_runner import StepRunner
from bulk_onboard.engine.step_table import Actions, actions_of
from bulk_onboard.errors import GuardTripped, PortalDown, PortalUnusable
from bulk_onboard.intake import Intake, Plans
from bulk_onboard.model.records import ClientRecord, RowKind, UserRecord
from bulk_onboard.model.steps import Plan
from bulk_onboard.runs.html_report import write_html
from bulk_onboard.runs.journal import Checkpoint, Journal
from bulk_onboard.runs.portal_memory import remember_budget_refused
from bulk_onboard.runs.report import OK_STATUSES, RowResult, Status, write_summary
from bulk_onboard.runs.report_reader import read_results
from bulk_onboard.runs.report_stream import ReportStream
from bulk_onboard.runs.timeline import Timeline

log = structlog.get_logger("bulk_onboard")

# How a run ended, for whoever acts on it (the command line maps it to an exit code).
# portal_unreachable: the run as a whole failed on the portal (no connection, TLS refused, not a
# DocSpace API, or an outage that kept failing rows); its unfinished rows are interrupted.
# guarded: the run would have created more than the playbook's [guard] allows; nothing written.
Verdict = Literal[
    "ok", "rows_need_attention", "deferred", "stopped", "portal_unreachable", "guarded"
]


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    # Sortable by start time (to the millisecond), unique by a random suffix.
    return f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}{secrets.token_hex(1)}"


@dataclass(frozen=True, slots=True)
class Job:
    """What one run is asked to do: the checked input, where the run folder is, the rows that
    are already settled (invalid, or carried over by a retry) and what the journal holds."""

    intake: Intake
    run_id: str
    run_dir: Path
    settled: tuple[RowResult, ...] = ()
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    # A retry starts a new run folder: its journal begins with what is already done, so a
    # retry of this retry finds it too.
    carry_checkpoint: bool = False
    reannounce: bool = False  # announce to the CRM even what the portal's ledger holds
    extra_summary: Mapping[str, Any] = field(default_factory=dict)
    # Announce onboarded clients to the playbook's CRM sinks (never in a dry run).
    announce: bool = True
    # Keep every row's result in memory for the caller (the dry run shows each step's
    # outcome); a run streams them to the report and keeps only the rows that did not succeed.
    keep_results: bool = False
    # Count what the run would create against the playbook's [guard] (not in a dry run).
    check_guard: bool = True


@dataclass(frozen=True, slots=True)
class RunSummary:
    """How a run ended: the rows that did not succeed, the counts, and summary.json as
    written. `results` has every row: kept in memory when the job asked, else read back
    from report.csv."""

    run_id: str
    run_dir: Path
    problems: tuple[RowResult, ...]
    statuses: Mapping[str, int]
    verdict: Verdict
    stopped: str | None
    document: Mapping[str, Any]  # the content of summary.json
    kept: tuple[RowResult, ...] | None = None

    @property
    def results(self) -> tuple[RowResult, ...]:
        if self.kept is not None:
            return self.kept
        return tuple(read_results(self.run_dir / "report.csv"))


async def run(
    settings: Settings,
    job: Job,
    *,
    progress: Progress,
    stop: Stop,
    env: Mapping[str, str] | None = None,
    client: PortalClient | None = None,
) -> RunSummary:
    """Onboard every planned row of the job; write journal, report and summary into its
    folder. `client` replaces the real portal client (the dry run's planning client)."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    intake = job.intake
    plans = intake.plans
    job.run_dir.mkdir(parents=True, exist_ok=True)
    report = ReportStream(job.run_dir, input_columns(job.settled, intake), keep=job.keep_results)
    report.add_all(job.settled)
    state = RunState(report=report, values=values_of(intake))
    users = len(intake.users)
    progress.start(len(plans) + len(job.settled), extra_work=users)
    for result in job.settled:
        progress.row_done(result.status)
    log.info("run_started", run_id=job.run_id, rows=len(plans), settled=len(job.settled))

    timeline = Timeline()
    async with AsyncExitStack() as stack:
        stack.enter_context(metering.watching(timeline))
        portal: PortalClient
        if client is None:
            portal = await stack.enter_async_context(DocSpaceClient(settings))
        else:
            portal = client
        journal = stack.enter_context(Journal(job.run_dir / "journal.jsonl"))
        if job.carry_checkpoint:
            for row_key, steps in job.checkpoint.steps.items():
                for step_key, out in steps.items():
                    journal.record(
                        row_key, step_key, out, job.checkpoint.outcome(row_key, step_key)
                    )
        ctx = Context.open(
            portal,
            job.checkpoint,
            clients=plans.rows_of(RowKind.CLIENT),
            users=plans.rows_of(RowKind.USER),
        )
        guarded = None  # before anything is written anywhere, the CRM's files included
        if job.check_guard and intake.playbook.guard.set:
            timeline.phase("guard")
            with bound_contextvars(step="guard"):
                guarded = await guard.check(ctx, plans, job.checkpoint, intake.playbook.guard)
            if guarded.message is not None:
                state.fatal = GuardTripped(guarded.message)
                log.warning("guard_stopped_run", run_id=job.run_id, reason=guarded.message)
        playbook = intake.playbook
        announce = job.announce and playbook.crm.configured and state.fatal is None
        crm_actions = None
        if announce:
            crm = await stack.enter_async_context(
                CrmDelivery(playbook.crm, env=env or {}, source=playbook.source)
            )
            ledger = Ledger.for_portal(
                settings.state_dir, settings.portal_url, legacy=job.run_dir.parent / LEDGER_NAME
            )
            crm_actions = CrmActions(
                ctx,
                crm,
                ledger,
                run_id=job.run_id,
                portal_url=settings.portal_url,
                reannounce=job.reannounce,
            )
        look_again = LookAgain(window=settings.request_timeout)
        once = ExactlyOnce(journal, job.checkpoint, portal.retry_policy, look_again)
        persons = PersonActions(ctx, once, Inviter(ctx, once))
        actions = Actions(ClientActions(ctx, once), persons, MembershipActions(ctx), crm_actions)
        runner = StepRunner(once, actions_of(actions))
        phases = Phases(
            ctx,
            runner,
            state,
            progress=progress,
            stop=stop,
            concurrency=settings.concurrency,
            announce=announce,
        )
        if state.fatal is None:
            timeline.phase("invitations")
            # people without names: invited in full batches before anyone else is looked at
            await persons.invite_up_front(plans.of(RowKind.USER), job.checkpoint)
            timeline.phase("people")
            await phases.people(plans.of(RowKind.USER))
            timeline.phase("clients")
            await phases.clients(plans.of(RowKind.CLIENT))
            timeline.phase("memberships")
            await phases.memberships(plans.of(RowKind.USER))
            if announce:
                timeline.phase("announcements")
            await phases.announcements()
        timeline.close()

    # Whatever has no result yet was never finished: the run stopped first.
    reason = str(state.fatal) if state.fatal else (stop.reason or "the run stopped")
    finished = state.finished
    if isinstance(plans, Plans):
        pending: Iterable[Plan] = plans.unfinished(finished)
    else:
        pending = [p for p in plans if p.row_key not in finished]
    for plan in pending:
        state.interrupted(state.state(plan), reason, progress)
    state.release()
    report.close()
    log.info("report_written", run_id=job.run_id, folder=str(job.run_dir), rows=report.rows)
    counts = report.counts()
    if counts.get(Status.DEFERRED.value) and client is None:
        # the next plan against this portal says so instead of promising the budget
        remember_budget_refused(portal_state_dir(settings.state_dir, settings.portal_url))
    stopped = reason if (state.fatal is not None or stop.requested) else None
    if stopped is not None:
        log.warning("run_stopped", run_id=job.run_id, reason=stopped)
    verdict = _verdict(counts, stopped, state.fatal)
    document: dict[str, Any] = {
        "run_id": job.run_id,
        "inputs": list(intake.files),
        "started": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
        "rows": report.rows,
        "statuses": counts,
        "verdict": verdict,
        "stopped": stopped,
        "portal": settings.portal_url,
        "requests": portal.stats.as_dict(),  # the API requests of the run
        "limits": {  # what the client kept to
            "requests_per_second": settings.requests_per_second,
            "max_write_inflight": settings.max_write_inflight,
            "max_read_inflight": settings.max_read_inflight,
            "concurrency": settings.concurrency,
        },
        "report": {
            "csv": str(job.run_dir / "report.csv"),
            "xlsx": str(job.run_dir / "report.xlsx"),
            "html": str(job.run_dir / "report.html"),
        },
        "journal": str(job.run_dir / "journal.jsonl"),
        **({"guard": guarded.as_dict()} if guarded is not None else {}),
        **job.extra_summary,
        "timeline": timeline.as_dict(),  # what report.html draws
    }
    write_summary(job.run_dir / "summary.json", document)
    # the page lists the rows that did not succeed: the only ones the run kept
    write_html(job.run_dir / "report.html", document, report.problems, job.run_dir)
    progress.close()
    log.info("run_finished", run_id=job.run_id, verdict=verdict, **counts)
    return RunSummary(
        run_id=job.run_id,
        run_dir=job.run_dir,
        problems=tuple(report.problems),
        kept=tuple(report.kept) if job.keep_results else None,
        statuses=counts,
        verdict=verdict,
        stopped=stopped,
        document=document,
    )


def input_columns(settled: Sequence[RowResult], intake: Intake) -> list[str]:
    """The report's input columns: every column of every row, in the order the rows first
    show them (rows in input order), without going through the rows one by one twice."""
    first: dict[tuple[str, ...], tuple[str, str, int]] = {}
    rows: Iterable[RowResult | ClientRecord | UserRecord] = (
        *settled,
        *intake.clients,
        *intake.users,
    )
    for row in rows:
        names = tuple(name for name, _ in row.values)
        place = (row.origin.file, row.origin.sheet or "", row.origin.line)
        if names not in first or place < first[names]:
            first[names] = place
    seen: dict[str, None] = {}
    for names in sorted(first, key=first.__getitem__):
        for name in names:
            seen.setdefault(name, None)
    return list(seen)


def values_of(intake: Intake) -> Callable[[Plan], tuple[tuple[str, str], ...]]:
    """A plan's input values: the record's own tuple, which the plan carries (no index of
    rows: that cost about 180 bytes a row)."""
    return lambda plan: plan.values


def _verdict(counts: Mapping[str, int], stopped: str | None, fatal: Exception | None) -> Verdict:
    if isinstance(fatal, PortalDown | PortalUnusable):
        return "portal_unreachable"
    if isinstance(fatal, GuardTripped):
        return "guarded"
    if stopped is not None:
        return "stopped"
    if counts.get(Status.DEFERRED.value):
        return "deferred"
    if all(n == 0 for status, n in counts.items() if Status(status) not in OK_STATUSES):
        return "ok"
    return "rows_need_attention"
