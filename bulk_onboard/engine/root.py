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
from collections.abc import Mapping, Sequence
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
from bulk_onboard.engine.actions.people import PersonActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.phases import Phases, Progress, RunState
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.row import RowState
from bulk_onboard.engine.step_runner import Action, LookAgain, StepRunner
from bulk_onboard.errors import GuardTripped, PortalDown, PortalUnusable
from bulk_onboard.intake import Intake
from bulk_onboard.model.records import RowKind
from bulk_onboard.model.steps import JoinRoom, Plan, Step
from bulk_onboard.runs.html_report import write_html
from bulk_onboard.runs.journal import Checkpoint, Journal
from bulk_onboard.runs.portal_memory import remember_budget_refused
from bulk_onboard.runs.report import (
    OK_STATUSES,
    RowResult,
    Status,
    status_counts,
    write_csv,
    write_summary,
    write_xlsx,
)
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
    # Count what the run would create against the playbook's [guard] (not in a dry run).
    check_guard: bool = True


@dataclass(frozen=True, slots=True)
class RunSummary:
    """How a run ended: every row's result, the counts, and summary.json as written."""

    run_id: str
    run_dir: Path
    results: tuple[RowResult, ...]
    statuses: Mapping[str, int]
    verdict: Verdict
    stopped: str | None
    document: Mapping[str, Any]  # the content of summary.json


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
    plans = list(intake.plans)
    job.run_dir.mkdir(parents=True, exist_ok=True)
    values = {r.row_key: r.values for r in intake.clients}
    values.update((r.row_key, r.values) for r in intake.users)
    state = RunState(
        states={p.row_key: RowState(plan=p, values=values.get(p.row_key, ())) for p in plans}
    )
    users = sum(1 for p in plans if p.kind is RowKind.USER)
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
        ctx = Context.open(portal, job.checkpoint, plans)
        guarded = None  # before anything is written anywhere, the CRM's files included
        if job.check_guard and intake.playbook.guard.set:
            timeline.phase("guard")
            with bound_contextvars(step="guard"):
                guarded = await guard.check(ctx, plans, job.checkpoint, intake.playbook.guard)
            if guarded.message is not None:
                state.fatal = GuardTripped(guarded.message)
                log.warning("guard_stopped_run", run_id=job.run_id, reason=guarded.message)
        actions: dict[type[Step], Action] = {}
        runner = StepRunner(journal, job.checkpoint, portal.retry_policy, actions)
        ctx.look_again = LookAgain(window=settings.request_timeout)
        ctx.intend = runner.intend
        ctx.withdraw = runner.withdraw
        persons = PersonActions(ctx, Inviter(ctx, runner))
        actions.update(persons.actions())
        actions.update(ClientActions(ctx).actions())
        playbook = intake.playbook
        announce = job.announce and playbook.crm.configured and state.fatal is None
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
            actions.update(crm_actions.actions())
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
            user_plans = [p for p in plans if p.kind is RowKind.USER]
            timeline.phase("invitations")
            # people without names: invited in full batches before anyone else is looked at
            await persons.invite_up_front(
                [state.states[p.row_key] for p in user_plans], job.checkpoint
            )
            timeline.phase("people")
            await phases.people(user_plans)
            timeline.phase("clients")
            await phases.clients([p for p in plans if p.kind is RowKind.CLIENT])
            timeline.phase("memberships")
            await phases.memberships(user_plans)
            if announce:
                timeline.phase("announcements")
            await phases.announcements()
        timeline.close()

    # Whatever has no result yet was never finished: the run stopped first.
    reason = str(state.fatal) if state.fatal else (stop.reason or "the run stopped")
    for key, row in state.states.items():
        if key not in state.results:
            state.interrupted(row, reason, progress)

    _show_joined_rooms(plans, state.results)
    ordered = [*job.settled, *(state.results[p.row_key] for p in plans)]
    ordered.sort(key=lambda r: (r.origin.file, r.origin.sheet or "", r.origin.line))
    write_csv(job.run_dir / "report.csv", ordered)
    write_xlsx(job.run_dir / "report.xlsx", ordered)
    log.info("report_written", run_id=job.run_id, folder=str(job.run_dir), rows=len(ordered))
    counts = status_counts(ordered)
    if counts.get(Status.DEFERRED.value) and client is None:
        # the next plan against this portal says so instead of promising the budget
        remember_budget_refused(portal_state_dir(settings.state_dir, settings.portal_url))
    stopped = reason if (state.fatal is not None or stop.requested) else None
    if stopped is not None:
        log.warning("run_stopped", run_id=job.run_id, reason=stopped)
    verdict = _verdict(ordered, stopped, state.fatal)
    document: dict[str, Any] = {
        "run_id": job.run_id,
        "inputs": list(intake.files),
        "started": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
        "rows": len(ordered),
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
    write_html(job.run_dir / "report.html", document, ordered, job.run_dir)
    progress.close()
    log.info("run_finished", run_id=job.run_id, verdict=verdict, **counts)
    return RunSummary(
        run_id=job.run_id,
        run_dir=job.run_dir,
        results=tuple(ordered),
        statuses=counts,
        verdict=verdict,
        stopped=stopped,
        document=document,
    )


def _show_joined_rooms(plans: Sequence[Plan], results: Mapping[str, RowResult]) -> None:
    """A person row shows the room it joined (its id and title), also when that room is a
    client row's of this run, so the report says where everyone went."""
    for plan in plans:
        result = results[plan.row_key]
        join = next((s for s in plan.steps if isinstance(s, JoinRoom)), None)
        if join is None or "room" in result.outputs or join.room.row is None:
            continue
        owner = results.get(join.room.row)
        room = owner.outputs.get("room") if owner is not None else None
        if room and "id" in room:
            result.outputs["room"] = {"id": room["id"], "title": room.get("title", "")}


def _verdict(results: Sequence[RowResult], stopped: str | None, fatal: Exception | None) -> Verdict:
    if isinstance(fatal, PortalDown | PortalUnusable):
        return "portal_unreachable"
    if isinstance(fatal, GuardTripped):
        return "guarded"
    if stopped is not None:
        return "stopped"
    if any(r.status is Status.DEFERRED for r in results):
        return "deferred"
    if all(r.status in OK_STATUSES for r in results):
        return "ok"
    return "rows_need_attention"
