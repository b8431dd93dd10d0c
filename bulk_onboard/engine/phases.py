"""The phases of a run, each a worker pool over rows, and how a row ends.

people       every user row's person (and the existing room it joins, looked up first), so
             account managers and members exist before anything refers to them
clients      room, folders, copies, access, link: the steps of a row in order, rows concurrently
             (the people of its share checked first, so a row they would fail makes no room)
memberships  grouped per room: one look at the members, one share request per room and batch
announcements  each onboarded client to the CRM sinks of the playbook, after all DocSpace work

A step failure is a value (the row fails, the run goes on); a refused token stops the run; a
spent daily budget defers the row; a bug in one row fails that row, not the run.

An outage is the run's failure, not the rows': a row that fails because no connection could be
opened while the portal has not answered a single request yet, or OUTAGE_ROWS rows in a row
that fail on outages (no connection, 5xx, timeouts: retries spent) with no row finishing well
in between, stop the run with PortalDown; those rows and every unfinished one are interrupted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import structlog

from bulk_onboard.api.metering import Meter, metered
from bulk_onboard.engine.actions.shares import check_share_people
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.pool import Pool, Stop
from bulk_onboard.engine.row import Outcome, RowState, StepDone, finish, row_status
from bulk_onboard.engine.step_runner import STEP_ERRORS, StepRunner
from bulk_onboard.engine.step_table import phase_steps
from bulk_onboard.errors import (
    BudgetExhausted,
    FatalError,
    PortalDown,
    PortalUnreachable,
    RateLimited,
    RowRefused,
    StepFailed,
    TransientError,
)
from bulk_onboard.model import Json
from bulk_onboard.model.records import RowKind
from bulk_onboard.model.steps import AnnounceCrm, FindRoom, JoinRoom, Plan, ShareRoom, Step
from bulk_onboard.runs.report import OK_STATUSES, RowResult, Status
from bulk_onboard.runs.report_stream import ReportStream

log = structlog.get_logger("bulk_onboard")

# The step kinds each phase runs, from the step table (memberships: grouped, per room).
PERSON_STEPS = phase_steps("people")
CLIENT_STEPS = phase_steps("clients")
CRM_STEPS = phase_steps("announcements")
MEMBERSHIP_BATCH = 50
OUTAGE_ROWS = 3  # rows in a row failing on an outage that make it the run's failure

T = TypeVar("T")
R = TypeVar("R")


class Progress:
    """What the run tells whoever watches it (a progress bar, periodic log lines)."""

    def start(self, total: int, extra_work: int = 0) -> None:
        """`total` rows; `extra_work` units done before some rows finish (the people phase of
        each user row), so an ETA counts them from the start."""

    def work_done(self) -> None:
        """One unit of extra work done (a user row's person is in place)."""

    def row_done(self, status: Status) -> None:
        pass

    def row_changed(self, old: Status, new: Status) -> None:
        """A finished row's status was corrected (failed rows of an outage: interrupted)."""

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class ClientEnd:
    """How a client row ended, for the people who join its room."""

    status: Status
    failed_step: str | None
    error: str | None
    has_room: bool

    @classmethod
    def of(cls, result: RowResult) -> ClientEnd:
        if result.status in OK_STATUSES:
            return cls(result.status, None, None, True)
        has_room = "id" in result.outputs.get("room", {})
        return cls(result.status, result.failed_step, result.error, has_room)


@dataclass(slots=True)
class Parked:
    """A person row between its person step and its membership: what the row has done so far,
    without its plan and state (made again when the memberships phase takes the row). About
    350 bytes instead of 1.2 KB: every person who joins a room waits here while the other
    people and the clients are worked on."""

    outputs: tuple[tuple[str, Json], ...]
    outcomes: tuple[tuple[str, Outcome], ...]
    hints: tuple[tuple[str, Json], ...]
    attempted: tuple[tuple[str, StepDone], ...]
    notes: tuple[str, ...]
    started: float
    requests: int
    attempts: int
    journal_stale: bool

    @classmethod
    def of(cls, state: RowState) -> Parked:
        return cls(
            tuple(state.outputs.items()),
            tuple(state.outcomes.items()),
            tuple(state.hints.items()),
            tuple(state.attempted.items()),
            tuple(state.notes),
            state.started,
            state.requests,
            state.attempts,
            state.journal_stale,
        )

    def state(self, plan: Plan, values: tuple[tuple[str, str], ...]) -> RowState:
        return RowState(
            plan=plan,
            values=values,
            outputs=dict(self.outputs),
            outcomes=dict(self.outcomes),
            started=self.started,
            requests=self.requests,
            attempts=self.attempts,
            hints=dict(self.hints),
            attempted=dict(self.attempted),
            journal_stale=self.journal_stale,
            notes=list(self.notes),
        )


@dataclass
class RunState:
    """The rows of the run in progress, and what the run keeps of the finished ones.

    A row's state exists while the row is worked on: made when its first phase takes it up,
    dropped when it settles. A finished row's result goes to the report stream at once and is
    not kept; what stays is its key (so the end of the run knows which rows never finished)
    and, of a client row, its status and failed step (the people who join its room share its
    fate). A row that failed on what may turn out to be the portal's outage is held back until
    that is known, since an outage makes it interrupted (at most OUTAGE_ROWS - 1 rows).
    """

    report: ReportStream
    values: Callable[[Plan], tuple[tuple[str, str], ...]]
    states: dict[str, RowState] = field(default_factory=dict)
    parked: dict[str, Parked] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    clients: dict[str, ClientEnd] = field(default_factory=dict)
    held: dict[str, RowResult] = field(default_factory=dict)
    fatal: Exception | None = None

    def state(self, plan: Plan) -> RowState:
        """The row's state, made when first asked for."""
        state = self.states.get(plan.row_key)
        if state is None:
            parked = self.parked.pop(plan.row_key, None)
            if parked is not None:
                state = parked.state(plan, self.values(plan))
            else:
                state = RowState(plan=plan, values=self.values(plan))
            self.states[plan.row_key] = state
        return state

    def park(self, state: RowState) -> None:
        """The row waits for a later phase: keep what it has done, not its state."""
        key = state.plan.row_key
        if self.states.get(key) is state:
            del self.states[key]
            self.parked[key] = Parked.of(state)

    def done(self, result: RowResult, *, hold: bool = False) -> None:
        key = result.row_key
        self.finished.add(key)
        self.states.pop(key, None)
        self.parked.pop(key, None)
        if result.kind == RowKind.CLIENT:
            self.clients[key] = ClientEnd.of(result)
        if hold:
            self.held[key] = result
        else:
            self.report.add(result)

    def release(self) -> None:
        """The rows held back were not an outage's after all (or the run ends): report them."""
        for result in self.held.values():
            self.report.add(result)
        self.held.clear()

    def interrupted(self, state: RowState, reason: str, progress: Progress) -> None:
        """A row the run stopped before finishing."""
        error = StepFailed(_next_step(state), RuntimeError(f"not finished: {reason}"))
        self.done(finish(state, Status.INTERRUPTED, error))
        progress.row_done(Status.INTERRUPTED)


def is_outage(cause: BaseException) -> bool:
    """A failure of the portal as a whole (no connection, 5xx, timeouts), not of the row."""
    if isinstance(cause, PortalUnreachable):
        return True
    if isinstance(cause, RateLimited) or not isinstance(cause, TransientError):
        return False
    return cause.status is None or cause.status >= 500


def fail_status(failed: StepFailed) -> Status:
    if isinstance(failed.cause, BudgetExhausted):
        return Status.DEFERRED  # nothing wrong with the row: the day's writes are spent
    return Status.INTERRUPTED if isinstance(failed.cause, FatalError) else Status.FAILED


class Phases:
    def __init__(
        self,
        ctx: Context,
        runner: StepRunner,
        run: RunState,
        *,
        progress: Progress,
        stop: Stop,
        concurrency: int,
        announce: bool = False,
    ) -> None:
        self.ctx = ctx
        self.runner = runner
        self.announce = announce
        self.to_announce: list[RowState] = []
        self.run = run
        self.progress = progress
        self.stop = stop
        self.concurrency = concurrency
        self.outage_streak: list[RowState] = []  # rows failed on outages since the last good one
        # a succeeded row's line is built only when someone reads debug lines
        self.debug = bool(log.is_enabled_for(logging.DEBUG))

    # ------------------------------------------------------------------ bookkeeping

    def settle(self, state: RowState, status: Status, error: StepFailed | None = None) -> None:
        if status in OK_STATUSES:
            self.outage_streak.clear()
            self.run.release()
        result = finish(state, status, error)
        key = state.plan.row_key
        if state.plan.kind is RowKind.CLIENT:
            self._keep_room(key, state.outputs)
        else:
            self._show_joined_room(state, result)
        self.run.done(result, hold=any(s is state for s in self.outage_streak))
        self.progress.row_done(status)
        # every row at debug; a row that did not succeed also at the default level
        if status not in OK_STATUSES:
            log.info(
                "row_finished",
                row=key,
                status=status.value,
                failed_step=result.failed_step,
                error=result.error,
            )
        elif self.debug:
            log.debug("row_finished", row=key, status=status.value)

    def _keep_room(self, key: str, outputs: dict[str, Json]) -> None:
        """What the people who join a client's room need of that row: the room's id and
        title, nothing else of it."""
        room = outputs.get("room")
        if room is not None and "id" in room:
            self.ctx.row_outputs[key] = {"room": {"id": room["id"], "title": room.get("title", "")}}

    def _show_joined_room(self, state: RowState, result: RowResult) -> None:
        """A person row shows the room it joined (its id and title), also when that room is a
        client row's of this run, so the report says where everyone went."""
        if "room" in result.outputs:
            return
        join = next((s for s in state.plan.steps if isinstance(s, JoinRoom)), None)
        if join is None or join.room.row is None:
            return
        room = self.ctx.row_outputs.get(join.room.row, {}).get("room")
        if room and "id" in room:
            result.outputs["room"] = {"id": room["id"], "title": room.get("title", "")}

    def failed(self, state: RowState, failure: StepFailed) -> None:
        if self._outage(state, failure):
            self.settle(state, Status.INTERRUPTED, failure)
            return
        if isinstance(failure.cause, FatalError) and self.run.fatal is None:
            self.run.fatal = failure.cause
            self.stop.request(f"fatal: {failure.cause}")
        self.settle(state, fail_status(failure), failure)

    def _outage(self, state: RowState, failure: StepFailed) -> bool:
        """Is this failure (with the ones before it) the portal's outage? Then the run stops
        and the rows of the streak become interrupted too."""
        if self.run.fatal is not None:
            return isinstance(self.run.fatal, PortalDown) and is_outage(failure.cause)
        if not is_outage(failure.cause):
            return False
        self.outage_streak.append(state)
        never_answered = (
            isinstance(failure.cause, PortalUnreachable) and self.ctx.client.stats.answers == 0
        )
        if not never_answered and len(self.outage_streak) < OUTAGE_ROWS:
            return False
        if never_answered:
            why = "it has not answered a single request"
        else:
            why = f"{len(self.outage_streak)} rows in a row failed on it"
        self.run.fatal = PortalDown(f"the portal cannot be reached ({why}): {failure.cause}")
        self.stop.request(str(self.run.fatal))
        for earlier in self.outage_streak[:-1]:
            done = self.run.held.get(earlier.plan.row_key)
            if done is not None and done.status is Status.FAILED:
                done.status = Status.INTERRUPTED
                if done.kind == RowKind.CLIENT:
                    self.run.clients[done.row_key] = ClientEnd.of(done)
                self.progress.row_changed(Status.FAILED, Status.INTERRUPTED)
        return True

    async def guarded(self, state: RowState, kinds: tuple[type[Step], ...]) -> StepFailed | None:
        """Run the row's steps of these kinds, counting its requests; a failure comes back as
        a value."""
        with metered(Meter()) as meter:
            try:
                await self.runner.run_row(state, kinds)
                return None
            except StepFailed as failure:
                return failure
            except Exception as exc:
                log.exception("row_failed", row=state.plan.row_key)
                return StepFailed("internal", exc)
            finally:
                state.requests += meter.requests
                state.attempts += meter.attempts

    async def guarded_check(self, state: RowState) -> StepFailed | None:
        """The people of a client row's share as the portal has them (the manager a room
        admin, nobody disabled), checked before its room is made; skipped once journalled."""
        share = next((s for s in state.plan.steps if isinstance(s, ShareRoom)), None)
        if share is None or share.key in self.runner.checkpoint.outputs(state.plan.row_key):
            return None
        with metered(Meter()) as meter:
            try:
                await check_share_people(self.ctx, share)
            except STEP_ERRORS as exc:
                return StepFailed(share.key, exc)
            finally:
                state.requests += meter.requests
                state.attempts += meter.attempts
        return None

    def _pool(
        self,
        work: Callable[[T], Awaitable[R]],
        done: Callable[[T, R], None],
        weight: Callable[[T], int] = lambda item: 1,
    ) -> Pool[T, R]:
        """Items skipped or cancelled by a stop keep no result: they end as interrupted."""
        return Pool(
            work,
            concurrency=self.concurrency,
            stop=self.stop,
            on_done=done,
            on_skipped=lambda item: None,
            on_cancelled=lambda item: None,
            weight=weight,
        )

    # ------------------------------------------------------------------ phases

    async def people(self, plans: Iterable[Plan]) -> None:
        async def work(plan: Plan) -> StepFailed | None:
            return await self.guarded(self.run.state(plan), PERSON_STEPS)

        def done(plan: Plan, failure: StepFailed | None) -> None:
            self.progress.work_done()
            state = self.run.states[plan.row_key]
            if failure is not None:
                self.failed(state, failure)
            elif not any(isinstance(step, JoinRoom) for step in plan.steps):
                self.settle(state, row_status(state, "person"))  # nothing left to do
            else:
                self.run.park(state)  # until the memberships phase

        await self._pool(work, done).run(plans)

    async def clients(self, plans: Iterable[Plan]) -> None:
        async def work(plan: Plan) -> StepFailed | None:
            state = self.run.state(plan)
            refused = await self.guarded_check(state)  # before its room is made
            return refused or await self.guarded(state, CLIENT_STEPS)

        def done(plan: Plan, failure: StepFailed | None) -> None:
            state = self.run.states[plan.row_key]
            if failure is not None:
                self.failed(state, failure)
            elif self.announce and any(isinstance(s, AnnounceCrm) for s in plan.steps):
                # Its room is ready for the people who join it; the row itself is settled
                # by the announcements phase.
                self._keep_room(plan.row_key, state.outputs)
                self.to_announce.append(state)
            else:
                self.settle(state, row_status(state, "room"))

        await self._pool(work, done).run(plans)

    async def announcements(self) -> None:
        """Every client whose DocSpace work is done, to the CRM: its own pool, last."""
        if not self.announce:
            return

        async def work(state: RowState) -> StepFailed | None:
            return await self.guarded(state, CRM_STEPS)

        def done(state: RowState, failure: StepFailed | None) -> None:
            if failure is not None:
                self.failed(state, failure)
            else:
                self.settle(state, row_status(state, "room"))

        await self._pool(work, done).run(self.to_announce)

    async def memberships(self, plans: Iterable[Plan]) -> None:
        """The people who join rooms, grouped per room; a row's state is made again (from
        what it parked) only when its group is taken up, so the joiners waiting for their
        turn cost their plans, not their states."""
        waiting: list[Plan] = []
        for plan in plans:
            if plan.row_key in self.run.finished:
                continue
            if not any(isinstance(step, JoinRoom) for step in plan.steps):
                state = self.run.state(plan)
                self.settle(state, row_status(state, "person"))
            elif self._room_is_there(plan):
                waiting.append(plan)

        async def work(group: list[Plan]) -> dict[str, StepFailed]:
            members = [(self.run.state(plan), _join(plan)) for plan in group]
            with metered(Meter()) as meter:
                try:
                    failures = await self.runner.run_group(members)
                except Exception as exc:
                    log.exception("row_failed", row=group[0].row_key)
                    failures = {s.plan.row_key: StepFailed(step.key, exc) for s, step in members}
            for state, _ in members:  # the group's requests, shared out for the report
                state.requests += -(-meter.requests // len(group))
                state.attempts += -(-meter.attempts // len(group))
            return failures

        def done(group: list[Plan], failures: dict[str, StepFailed]) -> None:
            for plan in group:
                state = self.run.states[plan.row_key]
                failure = failures.get(plan.row_key)
                if failure is not None:
                    self.failed(state, failure)
                else:
                    self.settle(state, row_status(state, "person"))

        await self._pool(work, done, weight=len).run(membership_groups(waiting))

    def _room_is_there(self, plan: Plan) -> bool:
        """A person whose client row has no room shares that row's fate and ends here."""
        join = _join(plan)
        owner = join.room.row
        blocking = self.run.clients.get(owner) if owner else None
        if blocking is None or blocking.status in OK_STATUSES:
            return True
        where = f" at step {blocking.failed_step}" if blocking.failed_step else ""
        if blocking.has_room:
            # The room is there; what failed is a later step of that row, e.g. its share.
            step = "share" if blocking.failed_step == "share" else f"step {blocking.failed_step}"
            why = f": {blocking.error}" if blocking.error else ""
            cause = RowRefused(
                f"the room of {owner} exists, but its {step} failed{why}; this person joins "
                "it once that row is fixed (`bulk-onboard retry`)"
            )
        else:
            why = f" ({blocking.error})" if blocking.error else ""
            cause = RowRefused(
                f"the room of {owner} is not there: that row is {blocking.status.value}{where}{why}"
            )
        status = Status.FAILED if blocking.status is Status.INVALID else blocking.status
        self.settle(self.run.state(plan), status, StepFailed(join.key, cause))
        return False


def _join(plan: Plan) -> JoinRoom:
    return next(s for s in plan.steps if isinstance(s, JoinRoom))


def membership_groups(plans: Sequence[Plan]) -> list[list[Plan]]:
    """Joiners per room, in batches of MEMBERSHIP_BATCH (one share request each)."""
    by_room: dict[tuple[str, str], list[Plan]] = {}
    for plan in plans:
        find = next((s for s in plan.steps if isinstance(s, FindRoom)), None)
        key = ("title", find.title) if find is not None else ("row", str(_join(plan).room.row))
        by_room.setdefault(key, []).append(plan)
    groups: list[list[Plan]] = []
    for joiners in by_room.values():
        for start in range(0, len(joiners), MEMBERSHIP_BATCH):
            groups.append(joiners[start : start + MEMBERSHIP_BATCH])
    return groups


def _next_step(state: RowState) -> str:
    for step in state.plan.steps:
        if step.key not in state.outputs:
            return step.key
    return state.plan.steps[-1].key if state.plan.steps else "-"
