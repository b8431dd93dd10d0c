"""The composition root: a job in, portal work under limits, the run's summary out.

`run()` is the one place where a run is put together. `build()` opens (on one AsyncExitStack)
the portal client, the journal and the CRM sinks, makes the run's view of the portal, counts
what the guard allows, and builds the step runner with every action and the phases: an
`Engine`, complete before anything runs. `run_phases()` runs the phases (people, clients,
memberships, CRM); then every row without a result is interrupted, and the report,
summary.json (laid out by runs/summary.py) and report.html are written. Every row ends in the
report with a status, whatever happens to the run. It returns a frozen RunSummary; what the
summary means for an exit code or for the lines a person reads is the command line's business.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from bulk_onboard.api import inflight, metering
from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.limits import ClientStats
from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.api.user_limits import UserLimits
from bulk_onboard.config import Settings
from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.crm.ledger import LEDGER_NAME, Ledger
from bulk_onboard.engine import guard
from bulk_onboard.engine.actions.client import ClientActions
from bulk_onboard.engine.actions.crm import CrmActions
from bulk_onboard.engine.actions.invitations import Inviter
from bulk_onboard.engine.actions.people import MembershipActions, PersonActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import ExactlyOnce, LookAgain
from bulk_onboard.engine.guard import GuardCount
from bulk_onboard.engine.lease import Leased
from bulk_onboard.engine.memberships import join_step, share_emails, waits_for_room
from bulk_onboard.engine.phases import Phases
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.room_view import RoomView
from bulk_onboard.engine.rows import Rows
from bulk_onboard.engine.step_runner import StepRunner
from bulk_onboard.engine.step_table import Actions, actions_of
from bulk_onboard.engine.undone import hold_back
from bulk_onboard.errors import ApiError, GuardTripped
from bulk_onboard.intake import Intake, Plans
from bulk_onboard.model.records import ClientRecord, RowKind, UserRecord
from bulk_onboard.model.steps import EnsurePerson, Plan
from bulk_onboard.runs.html_report import write_html
from bulk_onboard.runs.journal import Checkpoint, Journal
from bulk_onboard.runs.portal_memory import remember_budget_refused
from bulk_onboard.runs.progress import Progress
from bulk_onboard.runs.report import RowResult, Status, write_summary
from bulk_onboard.runs.report_reader import read_results
from bulk_onboard.runs.report_stream import ReportStream
from bulk_onboard.runs.set_members import SetMembers
from bulk_onboard.runs.summary import RunFacts, Verdict, summary_document, verdict_of
from bulk_onboard.runs.timeline import Timeline
from bulk_onboard.runs.undone_rows import forget_undone, read_undone
from bulk_onboard.state.run_store import journal_mirror
from bulk_onboard.state.store import portal_store

log = structlog.get_logger("bulk_onboard")


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
    # Make again the rows undo took back (--redo); else they are skipped (engine/undone.py).
    redo: bool = False
    # Forget the rows undo took back that are redone or gone from the export (not in a dry run).
    forget_undone: bool = True


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


@dataclass(frozen=True, slots=True)
class Outside:
    """What the run is handed from outside: how it is watched and stopped, and what it talks
    to (`client` replaces the real portal client: the dry run's planning client; `env` holds
    the CRM sinks' secrets)."""

    progress: Progress
    stop: Stop
    env: Mapping[str, str] | None = None
    client: PortalClient | None = None
    shared: UserLimits | None = None  # the pacer and caps shared with the lease's client


@dataclass(frozen=True, slots=True)
class Engine:
    """A run put together: everything its phases need, built before the first of them runs."""

    report: ReportStream
    rows: Rows
    portal: PortalClient
    persons: PersonActions
    phases: Phases
    timeline: Timeline
    guarded: GuardCount | None  # what the guard counted, when it ran
    announce: bool  # onboarded clients go to the CRM sinks


async def run(
    settings: Settings,
    job: Job,
    *,
    progress: Progress,
    stop: Stop,
    env: Mapping[str, str] | None = None,
    client: PortalClient | None = None,
    lease: Leased | None = None,
) -> RunSummary:
    """Onboard every planned row of the job; write journal, report and summary into its
    folder. `client` replaces the real portal client (the dry run's planning client); `lease`
    is the portal's lease's client (engine/lease.py): its requests are counted apart, its
    pacer and in-flight caps are the run client's too."""
    began = (datetime.now(UTC), time.monotonic())
    outside = Outside(progress, stop, env, client, lease.shared if lease is not None else None)
    job = held_back(settings, job)
    report, rows = open_rows(job, progress)
    timeline = Timeline()
    async with AsyncExitStack() as stack:
        stack.enter_context(metering.watching(timeline))
        engine = await build(stack, settings, job, outside, report, rows, timeline)
        await run_phases(engine, job)
        timeline.close()
    stopped = sweep(engine, job, stop)
    counts = report.counts()
    if counts.get(Status.DEFERRED.value) and client is None:
        # the next plan against this portal says so instead of promising the budget
        remember_budget_refused(portal_store(settings))
    lease_stats = lease.stats if lease is not None else None
    facts = gather(settings, job, engine, began, counts, stopped, lease_stats)
    return write_summaries(job, facts, report, progress)


def held_back(settings: Settings, job: Job) -> Job:
    """The job with the rows undo took back settled as skipped (engine/undone.py); those
    redone or gone from their export are forgotten (not by a dry run)."""
    store = portal_store(settings)
    undone = read_undone(store)
    if not undone:
        return job
    held = hold_back(job.intake, undone, settled=job.settled, redo=job.redo)
    if job.forget_undone and held.forget:
        try:
            forget_undone(store, held.forget)
            log.info("undone_rows_forgotten", rows=len(held.forget), redo=job.redo)
        except OSError as exc:  # they stay remembered: skipped, never made twice
            log.warning("undone_rows_forgotten", rows=0, error=str(exc))
    skipped = len(held.skipped) + sum(r.status is Status.SKIPPED for r in held.settled)
    if skipped:
        log.info("rows_held_back", rows=skipped)
    return replace(job, intake=held.intake, settled=(*held.settled, *held.skipped))


def open_rows(job: Job, progress: Progress) -> tuple[ReportStream, Rows]:
    """The report stream (the settled rows in it already) and the run's rows, none taken up."""
    intake = job.intake
    job.run_dir.mkdir(parents=True, exist_ok=True)
    report = ReportStream(job.run_dir, input_columns(job.settled, intake), keep=job.keep_results)
    report.add_all(job.settled)
    rows = Rows(report, progress)
    progress.start(len(intake.plans) + len(job.settled), extra_work=len(intake.users))
    for result in job.settled:
        progress.row_done(result.status)
    log.info("run_started", run_id=job.run_id, rows=len(intake.plans), settled=len(job.settled))
    return report, rows


async def build(
    stack: AsyncExitStack,
    settings: Settings,
    job: Job,
    outside: Outside,
    report: ReportStream,
    rows: Rows,
    timeline: Timeline,
) -> Engine:
    """Open what the run talks to (on `stack`) and put the run together."""
    portal: PortalClient
    if outside.client is None:
        portal = await stack.enter_async_context(DocSpaceClient(settings, shared=outside.shared))
    else:
        portal = outside.client
    mirror = journal_mirror(settings, job.run_id, job.run_dir)  # shared state: resumable elsewhere
    journal = stack.enter_context(Journal(job.run_dir / "journal.jsonl", mirror=mirror))
    if job.carry_checkpoint:
        carry(journal, job.checkpoint)
    plans = job.intake.plans
    clients, users = plans.rows_of(RowKind.CLIENT), plans.rows_of(RowKind.USER)
    ctx = Context.open(portal, job.checkpoint, clients=clients, users=users)
    ctx.set_members = SetMembers.for_portal(  # a dry run reads it and writes nothing
        portal_store(settings),
        settings.portal_url,
        read_only=outside.client is not None,
        earlier_runs=settings.report_dir,
    )
    guarded = await check_guard(ctx, job, timeline)  # before anything is written anywhere
    tripped = guarded.message if guarded is not None else None
    fatal = GuardTripped(tripped) if tripped is not None else None
    crm = job.intake.playbook.crm
    announce = job.announce and crm.configured and fatal is None
    crm_actions = await _crm(stack, ctx, settings, job, outside.env) if announce else None
    runner, persons = _steps(ctx, journal, job, settings, portal, crm_actions)
    phases = Phases(
        ctx,
        runner,
        rows,
        progress=outside.progress,
        stop=outside.stop,
        concurrency=settings.concurrency,
        announce=announce,
        fatal=fatal,
    )
    return Engine(report, rows, portal, persons, phases, timeline, guarded, announce)


def carry(journal: Journal, checkpoint: Checkpoint) -> None:
    """A retry's journal begins with what is already done, so a retry of it finds it too."""
    for row_key, steps in checkpoint.steps.items():
        for step_key, out in steps.items():
            journal.record(row_key, step_key, out, checkpoint.outcome(row_key, step_key))


async def check_guard(ctx: Context, job: Job, timeline: Timeline) -> GuardCount | None:
    """What the run would create, against the playbook's [guard] (None: no guard to keep)."""
    limits = job.intake.playbook.guard
    if not (job.check_guard and limits.set):
        return None
    timeline.phase("guard")
    with bound_contextvars(step="guard"):
        guarded = await guard.check(ctx, job.intake.plans, job.checkpoint, limits)
    if guarded.message is not None:
        log.warning("guard_stopped_run", run_id=job.run_id, reason=guarded.message)
    return guarded


def _steps(
    ctx: Context,
    journal: Journal,
    job: Job,
    settings: Settings,
    portal: PortalClient,
    crm: CrmActions | None,
) -> tuple[StepRunner, PersonActions]:
    """The step runner with the actions of every step kind (the step table), built complete."""
    # a client that knows the portal's outages (not the dry run's) tells when one ended
    restarted = getattr(portal, "restarted_since", None)
    look_again = LookAgain(window=settings.request_timeout)
    if restarted is not None:
        look_again = LookAgain(window=settings.request_timeout, restarted_since=restarted)
    once = ExactlyOnce(journal, job.checkpoint, portal.retry_policy, look_again)
    persons = PersonActions(ctx, once, Inviter(ctx, once))
    actions = Actions(ClientActions(ctx, once), persons, MembershipActions(ctx), crm)
    return StepRunner(once, actions_of(actions)), persons


async def _crm(
    stack: AsyncExitStack,
    ctx: Context,
    settings: Settings,
    job: Job,
    env: Mapping[str, str] | None,
) -> CrmActions:
    """The CRM sinks of the playbook, opened on `stack`, and the portal's ledger of them."""
    playbook = job.intake.playbook
    crm = await stack.enter_async_context(
        CrmDelivery(playbook.crm, env=env or {}, source=playbook.source)
    )
    ledger = Ledger.for_portal(
        settings.state_dir,
        settings.portal_url,
        legacy=job.run_dir.parent / LEDGER_NAME,
        store=portal_store(settings),
    )
    return CrmActions(
        ctx,
        crm,
        ledger,
        run_id=job.run_id,
        portal_url=settings.portal_url,
        reannounce=job.reannounce,
    )


async def run_phases(engine: Engine, job: Job) -> None:
    """The phases in order; none when the guard stopped the run. Rows a phase left waiting
    never outlive them."""
    if engine.phases.fatal is not None:
        return
    try:
        await _phases_in_order(engine, job)
    finally:
        await engine.phases.drain()


async def _phases_in_order(engine: Engine, job: Job) -> None:
    plans, timeline, phases = job.intake.plans, engine.timeline, engine.phases
    shared = share_emails(plans.of(RowKind.CLIENT))

    def users(after_rooms: bool) -> Iterator[Plan]:
        """The user rows whose person waits for their client's room (or does not)."""
        return (p for p in plans.of(RowKind.USER) if waits_for_room(p, shared) is after_rooms)

    # before any write: a key that cannot see every room makes no client room unacknowledged
    phases.room_view = RoomView(
        phases.ctx, plans.of(RowKind.CLIENT), acknowledged=job.intake.playbook.allow_partial_view
    )
    await first_reads(phases.ctx, phases.room_view, plans)
    # the people, the clients and the people joining new rooms at once, each row waiting for
    # what it needs: a client for the people its share names, a joiner for its room
    timeline.phase("people and clients")
    phases.expect_people(users(False), shared)
    try:
        async with asyncio.TaskGroup() as group:
            people = group.create_task(_people(engine, job, lambda: users(False)))
            clients = group.create_task(phases.clients(plans.of(RowKind.CLIENT)))
            others = frozenset(_email(plan) for plan in users(False))
            group.create_task(_joiners(engine, job, lambda: users(True), people, clients, others))
    except BaseExceptionGroup as failed:  # a bug in one of them: raised as itself
        raise failed.exceptions[0] from None
    timeline.phase("memberships")
    await phases.memberships(plans.of(RowKind.USER))
    if engine.announce:
        timeline.phase("announcements")
    await phases.announcements()


async def first_reads(ctx: Context, room_view: RoomView, plans: Plans) -> None:
    """The reads every row waits for, at once rather than one after another (on a portal
    taking 2 s a request, 4 s earlier to the first write): the account (whether it sees every
    room), the people listing and the rooms listing, each only when a row needs it. A read
    that fails is asked again by the first row that needs it, and fails that row."""
    reads = [room_view.announce()]
    if len(plans):
        reads.append(ctx.people.prefetch())
    if plans.find_rooms():
        reads.append(ctx.rooms.load())
    results = await asyncio.gather(*reads, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ApiError):
            raise result


async def _people(engine: Engine, job: Job, plans: Callable[[], Iterator[Plan]]) -> None:
    """The people who join no room this run makes (`plans()` lists them afresh): those
    without names invited in full batches first, then everyone made or looked at."""
    if not engine.phases.stop.requested:
        await engine.persons.invite_up_front(plans(), job.checkpoint)
    await engine.phases.people(plans())


async def _joiners(
    engine: Engine,
    job: Job,
    plans: Callable[[], Iterator[Plan]],
    people: asyncio.Task[None],
    clients: asyncio.Task[None],
    others: frozenset[str],
) -> None:
    """The people who join a room this run makes: only once it is there (none for a failed
    one); after the other people only when one of them is also another person row (its
    invitation goes once). Those of a client row whose room is still uncertain go once that
    row is settled, the others as soon as every other client row has made its room (while
    those rows make their folders)."""
    phases = engine.phases
    # their chain is the run's longest (invited, looked up, made, added): their requests first
    inflight.PRIORITY.set(inflight.FIRST)
    if any(_email(plan) in others for plan in plans()):
        await asyncio.shield(people)
    await phases.rooms_made.wait()
    held = frozenset(phases.rooms_pending)

    def joiners(of_held: bool) -> Iterator[Plan]:
        return (p for p in plans() if (join_step(p).room.row in held) is of_held)

    await _join_new_rooms(engine, job, lambda: joiners(False))
    await phases.join_as_rows_end(list(joiners(False)), clients)
    if held:
        await asyncio.shield(clients)
        await phases.catch_up("clients")
        await _join_new_rooms(engine, job, lambda: joiners(True))


def _email(plan: Plan) -> str:
    person = next(step for step in plan.steps if isinstance(step, EnsurePerson))
    return person.email.lower()


async def _join_new_rooms(engine: Engine, job: Job, plans: Callable[[], Iterator[Plan]]) -> None:
    """These people (`plans()` lists them afresh), once their rooms are made: invited in
    batches, then made."""
    phases = engine.phases
    if not phases.stop.requested:
        await engine.persons.invite_up_front(phases.rooms_there(plans()), job.checkpoint)
    await phases.people(phases.rooms_there(plans()))


def sweep(engine: Engine, job: Job, stop: Stop) -> str | None:
    """Whatever has no result yet was never finished: the run stopped first. Every row is
    in the report after this; returns why the run stopped, if it did."""
    fatal = engine.phases.fatal
    reason = str(fatal) if fatal else (stop.reason or "the run stopped")
    for plan in job.intake.plans.unfinished(engine.rows.ended):
        engine.rows.interrupt(plan, reason)
    engine.rows.release()
    engine.report.close()
    log.info("report_written", run_id=job.run_id, folder=str(job.run_dir), rows=engine.report.rows)
    stopped = reason if (fatal is not None or stop.requested) else None
    if stopped is not None:
        log.warning("run_stopped", run_id=job.run_id, reason=stopped)
    return stopped


def gather(
    settings: Settings,
    job: Job,
    engine: Engine,
    began: tuple[datetime, float],
    counts: Mapping[str, int],
    stopped: str | None,
    lease: ClientStats | None = None,
) -> RunFacts:
    """What summary.json tells of the run, now that it ended (`began`: its start, by the
    clock and by the monotonic clock)."""
    return RunFacts(
        run_id=job.run_id,
        folder=job.run_dir,
        inputs=job.intake.files,
        started=began[0],
        finished=datetime.now(UTC),
        seconds=time.monotonic() - began[1],
        rows=engine.report.rows,
        statuses=counts,
        verdict=verdict_of(counts, stopped, engine.phases.fatal),
        stopped=stopped,
        settings=settings,
        requests={
            **engine.portal.stats.as_dict(),
            # the lease's take and beats so far (its release's two come after this is written)
            "lease_requests": sum(lease.requests.values()) if lease is not None else 0,
        },
        timeline=engine.timeline.as_dict(),
        guard=engine.guarded.as_dict() if engine.guarded is not None else None,
        extra=job.extra_summary,
    )


def write_summaries(
    job: Job, facts: RunFacts, report: ReportStream, progress: Progress
) -> RunSummary:
    """summary.json and report.html; the run's summary for the caller."""
    document = summary_document(facts)
    write_summary(job.run_dir / "summary.json", document)
    # the page lists the rows that did not succeed: the only ones the run kept
    write_html(job.run_dir / "report.html", document, report.problems, job.run_dir)
    progress.close()
    log.info("run_finished", run_id=job.run_id, verdict=facts.verdict, **facts.statuses)
    return RunSummary(
        run_id=job.run_id,
        run_dir=job.run_dir,
        problems=tuple(report.problems),
        kept=tuple(report.kept) if job.keep_results else None,
        statuses=facts.statuses,
        verdict=facts.verdict,
        stopped=facts.stopped,
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
