"""The phases of a run, each a worker pool over rows, and how a row ends in them.

people       every user row's person (and the existing room it joins, looked up first), so
             account managers and members exist before anything refers to them
clients      room, folders, copies, access, link: a row's steps as soon as those they wait for
             are done (engine/step_order.py), rows concurrently
             (the people of its share checked first, so a row they would fail makes no room)
people again the people who join a room a client row of this run makes, once it was made:
             nobody is created or invited for a room that failed (their rows fail naming it)
memberships  grouped per room: one look at the members, one share request per room and batch
announcements  each onboarded client to the CRM sinks of the playbook, after all DocSpace work

A step failure is a value (the row fails, the run goes on); a refused token stops the run; a
spent daily budget defers the row; a bug in one row fails that row, not the run. A row whose
write's answer was lost and that a look at once did not find waits without its worker (the
phase's pool goes on) and is taken up again as soon as the window since that write has passed
(after a first Ctrl-C too); one still uncertain after a few rounds, or when
the run stops now (a second Ctrl-C, or the run's own stop), ends interrupted (a retry or
--resume looks before writing). An outage is
the run's failure, not the rows' (engine/outage.py judges which). A row's phases in the run
(active, parked, held, finished) are engine/rows.py's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import structlog

from bulk_onboard.api.metering import Meter, metered
from bulk_onboard.engine.actions.shares import check_share_people
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import StillUncertain
from bulk_onboard.engine.memberships import blocked, join_step, membership_groups
from bulk_onboard.engine.outage import Judgement, judge, portal_down
from bulk_onboard.engine.pool import Pool, Stop
from bulk_onboard.engine.room_view import RoomView
from bulk_onboard.engine.row import RowState, finish, row_status
from bulk_onboard.engine.rows import Phase, Rows
from bulk_onboard.engine.step_runner import STEP_ERRORS, StepRunner
from bulk_onboard.engine.step_table import phase_steps
from bulk_onboard.errors import BudgetExhausted, FatalError, StepFailed
from bulk_onboard.model import Json
from bulk_onboard.model.records import RowKind
from bulk_onboard.model.steps import (
    AnnounceCrm,
    EnsurePerson,
    EnsureRoom,
    JoinRoom,
    Plan,
    ShareRoom,
    Step,
)
from bulk_onboard.runs.progress import Progress
from bulk_onboard.runs.report import OK_STATUSES, RowResult, Status

log = structlog.get_logger("bulk_onboard")

# The step kinds each phase runs, from the step table (memberships: grouped, per room).
PERSON_STEPS = phase_steps("people")
CLIENT_STEPS = phase_steps("clients")
CRM_STEPS = phase_steps("announcements")

T = TypeVar("T")
R = TypeVar("R")

ROUNDS = 3  # how often one step of a row may be left uncertain before the row is interrupted


def _deadline(failure: StepFailed) -> float:
    cause = failure.cause
    return cause.deadline if isinstance(cause, StillUncertain) else 0.0


class _Cancelled:
    """A waiting row's attempt that the run's second stop cancelled."""


_CANCELLED = _Cancelled()


class NotStarted(Exception):
    """A row that waited for another and found the run stopping: it was not started."""


class WaitsFor(NotStarted):
    """A row not started yet: it needs rows still uncertain (`tasks`: their waits), and waits
    for them without its worker."""

    def __init__(self, tasks: list[asyncio.Task[None]]) -> None:
        super().__init__("waits for rows still uncertain")
        self.tasks = tasks


def again_after(failure: StepFailed, stopping: bool) -> float | None:
    """When a row whose step failed so is worked on again (time.monotonic); None: it ends now
    (its own failure; a step left uncertain ROUNDS times, or when the run stops, ends it
    interrupted: a retry looks before writing)."""
    cause = failure.cause
    if not isinstance(cause, StillUncertain) or stopping or cause.rounds >= ROUNDS:
        return None
    return cause.deadline


def _email(plan: Plan) -> str:
    person = next((s for s in plan.steps if isinstance(s, EnsurePerson)), None)
    return person.email.lower() if person is not None else plan.row_key


def _shared_with(plan: Plan) -> set[str]:
    """The e-mails of the people a client row's room is shared with."""
    share = next((s for s in plan.steps if isinstance(s, ShareRoom)), None)
    return {m.email.lower() for m in share.members} if share is not None else set()


def fail_status(failed: StepFailed) -> Status:
    if isinstance(failed.cause, BudgetExhausted):
        return Status.DEFERRED  # nothing wrong with the row: the day's writes are spent
    if isinstance(failed.cause, StillUncertain):
        return Status.INTERRUPTED  # its write may have landed: a retry looks before writing
    return Status.INTERRUPTED if isinstance(failed.cause, FatalError) else Status.FAILED


class Phases:
    def __init__(
        self,
        ctx: Context,
        runner: StepRunner,
        run: Rows,
        *,
        progress: Progress,
        stop: Stop,
        concurrency: int,
        announce: bool = False,
        fatal: Exception | None = None,
    ) -> None:
        self.ctx = ctx
        self.runner = runner
        self.announce = announce
        self.to_announce: list[RowState] = []
        self.run = run
        self.progress = progress
        self.stop = stop
        self.concurrency = concurrency
        # what stops the run as a whole (a refused token, an outage, a tripped guard)
        self.fatal = fatal
        # whether client rooms may be made (a key that cannot see every room may not)
        self.room_view: RoomView | None = None
        self.outage_streak: list[str] = []  # rows failed on outages since the last good one
        # A first Ctrl-C lets the rows waiting on an uncertain write see whether it landed
        # (they are taken up at their deadline, as without a stop); a second ends them now.
        self.stopped = asyncio.Event()  # set when waiting rows end now (see _stop_requested)
        self.stop_now = Stop()  # the stop of the rows waiting: the run's second request
        stop.uncertain = self._uncertain
        # a phase's waiting rows, taken up while the next phase runs: people, clients
        self.behind: dict[str, list[asyncio.Task[None]]] = {}
        self.retrying = asyncio.Semaphore(concurrency)  # waiting rows worked on again at once
        # the person rows waiting behind, by e-mail; the client rows, by key
        self.waiting_people: dict[str, asyncio.Task[None]] = {}
        self.waiting_clients: dict[str, asyncio.Task[None]] = {}
        # the client rows taken whose room is not made yet and that have not ended; once none
        # is left (every client row taken), `rooms_made` is set: the people joining new rooms
        # may go while the client rows make their folders
        self.rooms_pending: set[str] = set()
        self.clients_taken = False
        self.rooms_made = asyncio.Event()
        self.client_ended = asyncio.Event()  # set when a client row ends (cleared by waiters)
        # the people a client's share names that a person row of this run makes, until it ends
        self.people_expected: dict[str, asyncio.Event] = {}
        # people of this run deferred by the day's write budget: the clients sharing with them
        # are deferred too (they would fail for want of the account)
        self.people_deferred: dict[str, BudgetExhausted] = {}
        runner.once.on_record = self._recorded
        stop.on_request(self._stop_requested)
        # a succeeded row's line is built only when someone reads debug lines
        self.debug = bool(log.is_enabled_for(logging.DEBUG))

    # ------------------------------------------------------------------ bookkeeping

    def settle(self, state: RowState, status: Status, error: StepFailed | None = None) -> None:
        if status in OK_STATUSES:
            self.outage_streak.clear()
            self.run.release()
        result = finish(state, status, error)
        key = state.plan.row_key
        if self.runner.once.waiting:
            self.runner.once.give_up(key)  # a row that ends waits for nothing more
        if state.plan.kind is RowKind.CLIENT:
            self._keep_room(key, state.outputs)
            self.client_ended.set()
        else:
            self._show_joined_room(state, result)
        self.run.finish(result, hold=key in self.outage_streak)
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

    def _stop_requested(self, stop: Stop, reason: str) -> None:
        """A stop someone asked for (a signal) lets the waiting rows wait; the run's own (a
        refused token, an outage) ends them now, as a second request does, which also
        cancels what their pools run."""
        if stop.requests < 2 and reason.startswith("signal"):
            return
        self.stopped.set()
        for _ in range(min(stop.requests, 2) - self.stop_now.requests):
            self.stop_now.request(reason)

    def _uncertain(self) -> list[float]:
        """When the writes rows wait on may land until (time.monotonic), one per write."""
        return [waiting.deadline for waiting in self.runner.once.waiting.values()]

    def _recorded(self, state: RowState, step: Step) -> None:
        """A client row's room is made: the people who join it need it, not the rest of the
        row."""
        if isinstance(step, EnsureRoom) and state.plan.kind is RowKind.CLIENT:
            self._keep_room(state.plan.row_key, state.outputs)
            self._room_settled(state.plan.row_key)

    def _room_settled(self, key: str) -> None:
        self.rooms_pending.discard(key)
        if self.clients_taken and not self.rooms_pending:
            self.rooms_made.set()

    def _taking(self, plans: Iterable[Plan]) -> Iterator[Plan]:
        """The client rows as the phase takes them, each pending until its room is made."""
        for plan in plans:
            self.rooms_pending.add(plan.row_key)
            yield plan
        self.clients_taken = True
        self._room_settled("")

    def expect_people(self, plans: Iterable[Plan], shared: frozenset[str]) -> None:
        """The person rows of these plans that client shares name: a client waits for them."""
        for plan in plans:
            if _email(plan) in shared:
                self.people_expected.setdefault(_email(plan), asyncio.Event())

    async def people_made(self, emails: set[str]) -> list[asyncio.Task[None]]:
        """The person rows of these e-mails, once they have ended or were left uncertain
        after their look at once; returns the waits of those still uncertain."""
        for email in sorted(emails & self.people_expected.keys()):
            event = self.people_expected.get(email)
            if event is not None:
                await event.wait()
        return [self.waiting_people[e] for e in sorted(emails & self.waiting_people.keys())]

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
        """A row failed: its own failure, or (with the ones before it) the portal's outage,
        which stops the run and makes the rows of the streak interrupted."""
        judgement = judge(
            failure.cause,
            fatal=self.fatal,
            streak=len(self.outage_streak),
            answers=self.ctx.client.stats.answers,
        )
        if judgement.in_streak:
            self.outage_streak.append(state.plan.row_key)
        if judgement.fails_run:
            self.fatal = portal_down(judgement, len(self.outage_streak), failure.cause)
            self.stop.request(str(self.fatal))
            if judgement is Judgement.SILENT:  # nothing it sent got through: the rows in
                self.stop.request(str(self.fatal))  # flight are cancelled, not retried out
            self.run.interrupt_held(self.outage_streak[:-1])
        if judgement.interrupts:
            self.settle(state, Status.INTERRUPTED, failure)
            return
        if isinstance(failure.cause, FatalError) and self.fatal is None:
            self.fatal = failure.cause
            self.stop.request(f"fatal: {failure.cause}")
        self.settle(state, fail_status(failure), failure)

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

    async def room_refused(self, plan: Plan) -> StepFailed | None:
        """A client row that would create a room with a key that cannot see every room, not
        acknowledged (engine/room_view): it fails before anything is made."""
        if self.room_view is None or not any(isinstance(s, EnsureRoom) for s in plan.steps):
            return None
        try:
            refused = await self.room_view.refused()
        except STEP_ERRORS as exc:
            return StepFailed(EnsureRoom.KEY, exc)
        return StepFailed(EnsureRoom.KEY, refused) if refused is not None else None

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
        stop: Stop | None = None,
    ) -> Pool[T, R]:
        """Items skipped or cancelled by a stop keep no result: the run ends them as
        interrupted."""
        return Pool(
            work,
            concurrency=self.concurrency,
            stop=stop or self.stop,
            on_done=done,
            weight=weight,
        )

    async def _phase(
        self,
        items: Iterable[T],
        work: Callable[[T], Awaitable[StepFailed | None]],
        done: Callable[[T, StepFailed | None], None],
        *,
        lane: str | None = None,
        behind: Callable[[T, asyncio.Task[None]], None] = lambda item, task: None,
    ) -> None:
        """The phase's pool over its items; a row left uncertain waits at once, without its
        worker, and is taken up again as soon as its write's window has passed (`_again`);
        a step left uncertain ROUNDS times ends its row interrupted. With a `lane`, the
        waiting rows go on while the next phase runs (each told to `behind` with its task
        when it starts to wait; `catch_up(lane)` waits for them all); without, the phase
        ends with them."""
        tasks = self.behind.setdefault(lane, []) if lane is not None else []

        def finished(item: T, failure: StepFailed | None) -> None:
            if failure is not None and isinstance(failure.cause, (StillUncertain, WaitsFor)):
                task = asyncio.create_task(self._again(item, failure, work, done))
                tasks.append(task)
                behind(item, task)
            else:
                done(item, failure)

        await self._pool(work, finished).run(items)
        if lane is None:
            await asyncio.gather(*tasks)

    async def catch_up(self, lane: str) -> None:
        """The rows a phase left waiting (in `lane`), taken up and ended. Every caller waits
        for all of them: rows working at once may each need them (a task is awaited by as
        many as ask)."""
        tasks = self.behind.get(lane, [])
        done = 0
        while done < len(tasks):
            # shielded: a waiter cancelled by a second stop leaves the lane's rows to end
            # themselves (a stop ends waiting rows interrupted), for the next to await
            await asyncio.shield(tasks[done])
            done += 1

    async def drain(self) -> None:
        """Whatever the lanes still hold when the phases end early (an error): cancelled and
        awaited before the client and the journal close; `sweep` ends their rows."""
        tasks = [task for lane in self.behind.values() for task in lane]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _until(self, deadline: float) -> None:
        """Wait until `deadline` (time.monotonic), or until the run stops now."""
        wait = deadline - time.monotonic()
        if wait > 0 and not self.stopped.is_set():
            # not wait_for: a cancel (the second stop) coming as `stopped` is set must not be
            # swallowed (Python 3.11's wait_for can)
            stopped = asyncio.ensure_future(self.stopped.wait())
            try:
                await asyncio.wait({stopped}, timeout=wait)
            finally:
                stopped.cancel()

    async def _again(
        self,
        item: T,
        failure: StepFailed,
        work: Callable[[T], Awaitable[StepFailed | None]],
        done: Callable[[T, StepFailed | None], None],
    ) -> None:
        """One row left uncertain: it waits until its write's window has passed (or the run
        stops), then is worked on again (with at most `concurrency` such rows at once); left
        uncertain again, it waits again, until its step was left so ROUNDS times."""
        result: StepFailed | None = failure
        while result is not None:
            if isinstance(result.cause, WaitsFor):
                for task in result.cause.tasks:
                    await asyncio.shield(task)  # as catch_up: a second stop leaves it to end
                if self.stop.requested:
                    break  # a row not started is not started once a stop is asked for
            elif again_after(result, self.stopped.is_set()) is None:
                break
            else:
                await self._until(_deadline(result))
                if self.stopped.is_set():
                    break  # the run stops now: the row ends interrupted
            async with self.retrying:
                self.stop.in_flight += 1
                try:
                    attempt = await self._attempt(item, work)
                finally:
                    self.stop.in_flight -= 1
            if isinstance(attempt, _Cancelled):
                return  # cancelled by the second stop: it keeps no result (interrupted)
            result = attempt
        done(item, result)

    async def _attempt(
        self, item: T, work: Callable[[T], Awaitable[StepFailed | None]]
    ) -> StepFailed | _Cancelled | None:
        """`work(item)`, cancelled by the run's second stop (then `_CANCELLED`)."""
        attempt = asyncio.ensure_future(work(item))

        def cancel() -> None:
            attempt.cancel()

        remove = self.stop_now.on_cancel(cancel)
        try:
            return await attempt
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if attempt.cancelled() and task is not None and not task.cancelling():
                return _CANCELLED
            raise
        finally:
            remove()

    # ------------------------------------------------------------------ phases

    async def people(self, plans: Iterable[Plan]) -> None:
        async def work(plan: Plan) -> StepFailed | None:
            return await self.guarded(self.run.state(plan), PERSON_STEPS)

        def done(plan: Plan, failure: StepFailed | None) -> None:
            self.waiting_people.pop(_email(plan), None)
            if failure is not None and isinstance(failure.cause, BudgetExhausted):
                self.people_deferred[_email(plan)] = failure.cause
            expected = self.people_expected.pop(_email(plan), None)
            if expected is not None:
                expected.set()
            self.progress.work_done()
            state = self.run.active(plan.row_key)
            if failure is not None:
                self.failed(state, failure)
            elif not any(isinstance(step, JoinRoom) for step in plan.steps):
                self.settle(state, row_status(state, "person"))  # nothing left to do
            else:
                self.run.park(state)  # until the memberships phase

        def behind(plan: Plan, task: asyncio.Task[None]) -> None:
            self.waiting_people[_email(plan)] = task

        # a person whose create stays uncertain waits while the clients are worked on
        try:
            await self._phase(plans, work, done, lane="people", behind=behind)
        finally:  # rows never taken (a stop) keep no client waiting; uncertain ones do
            for event in self.people_expected.values():
                event.set()
            self.people_expected.clear()

    def rooms_there(self, plans: Iterable[Plan]) -> Iterator[Plan]:
        """The rows whose client row's room was made (after the clients phase); any other
        ends here, failing with that client's failure, before its person is made."""
        return (plan for plan in plans if self._unended(plan) and self._room_made(plan))

    def _unended(self, plan: Plan) -> bool:
        return plan.row_key not in self.run.ended

    def _room_made(self, plan: Plan) -> bool:
        """The client row's room exists (a later step of that row may have failed: the
        memberships phase says so); a row whose room was never made ends here."""
        owner = join_step(plan).room.row
        end = self.run.client_end(owner) if owner else None
        return end is None or end.has_room or self._room_is_there(plan)

    async def clients(self, plans: Iterable[Plan]) -> None:
        started: set[str] = set()  # the client rows that got past their people

        async def work(plan: Plan) -> StepFailed | None:
            uncertain = await self.people_made(_shared_with(plan))  # its people first
            if uncertain:  # it waits for them without its worker
                return StepFailed(EnsureRoom.KEY, WaitsFor(uncertain))
            if self.stop.requested and plan.row_key not in started:
                # meanwhile: the row is not started (it ends interrupted); one started and
                # waiting to see whether its write landed goes on (a first Ctrl-C waits)
                return StepFailed(EnsureRoom.KEY, NotStarted())
            started.add(plan.row_key)
            state = self.run.state(plan)
            refused = await self.room_refused(plan) or await self.guarded_check(state)
            return (
                self._deferred(plan, refused) or refused or await self.guarded(state, CLIENT_STEPS)
            )

        def done(plan: Plan, failure: StepFailed | None) -> None:
            self.waiting_clients.pop(plan.row_key, None)
            self._room_settled(plan.row_key)
            if failure is not None and isinstance(failure.cause, NotStarted):
                return  # left for the run's end, as the rows a stop kept from starting
            state = self.run.active(plan.row_key)
            if failure is not None:
                self.failed(state, failure)
            elif self.announce and any(isinstance(s, AnnounceCrm) for s in plan.steps):
                # Its room is ready for the people who join it; the row itself is settled
                # by the announcements phase.
                self._keep_room(plan.row_key, state.outputs)
                self.to_announce.append(state)
            else:
                self.settle(state, row_status(state, "room"))

        # a client whose write stays uncertain waits while the people join the other rooms
        def behind(plan: Plan, task: asyncio.Task[None]) -> None:
            self.waiting_clients[plan.row_key] = task

        try:
            await self._phase(self._taking(plans), work, done, lane="clients", behind=behind)
        finally:  # rows never taken (a stop): nobody waits for their rooms
            self.rooms_made.set()

    def _deferred(self, plan: Plan, refused: StepFailed | None) -> StepFailed | None:
        """A client row refused for want of a person whose row the day's write budget
        deferred: deferred with it, not failed."""
        if refused is None:
            return None
        spent = [self.people_deferred[e] for e in _shared_with(plan) & self.people_deferred.keys()]
        return StepFailed(refused.step, spent[0]) if spent else None

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

        await self._phase(self.to_announce, work, done)

    async def memberships(self, plans: Iterable[Plan]) -> None:
        """The people who join rooms, grouped per room; a row's state is made again (from
        what it parked) only when its group is taken up, so the joiners waiting for their
        turn cost their plans, not their states. The people still uncertain are settled
        first; the joiners of a client row still uncertain go once it is settled."""
        await self.catch_up("people")
        later: list[Plan] = []
        await self._join(self._joiners(plans, later))
        await self.catch_up("clients")
        await self._join(self._joiners(later, []))

    async def join_as_rows_end(self, plans: Sequence[Plan], clients: asyncio.Task[None]) -> None:
        """The people joining new rooms join each room as soon as its client row has ended
        (its room made and its share done, the row settled), in waves as those rows end,
        rather than after every row of the run: the run's last client rows, still copying
        files, no longer hold every membership back. A row whose client row is still at work
        when the clients end, waits on an uncertain write, or is not parked yet, is left to
        the memberships phase."""
        waiting = list(plans)
        while waiting and not self.stop.requested:
            ended = [p for p in waiting if self._client_row_ended(p)]
            done = {p.row_key for p in ended}
            waiting = [p for p in waiting if p.row_key not in done]
            if ended:
                await self._join(self._joiners(ended, []))
                continue
            if clients.done():
                return
            self.client_ended.clear()
            ending = asyncio.ensure_future(self.client_ended.wait())
            try:
                await asyncio.wait({ending, clients}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ending.cancel()

    def _client_row_ended(self, plan: Plan) -> bool:
        owner = join_step(plan).room.row
        return owner is None or self.run.client_end(owner) is not None

    def _joiners(self, plans: Iterable[Plan], later: list[Plan]) -> list[Plan]:
        """The plans that join a room now; those whose client row is still uncertain into
        `later`; the others end here."""
        joining: list[Plan] = []
        for plan in plans:
            # Only a row the people phase parked joins a room: one it never reached (the run
            # stopped) or never finished is left to end as interrupted, not as unchanged.
            if self.run.phase(plan.row_key) is not Phase.PARKED:
                continue
            if not any(isinstance(step, JoinRoom) for step in plan.steps):
                state = self.run.state(plan)
                self.settle(state, row_status(state, "person"))
            elif join_step(plan).room.row in self.waiting_clients:
                later.append(plan)
            elif self._room_is_there(plan):
                joining.append(plan)
        return joining

    async def _join(self, joining: list[Plan]) -> None:
        async def work(group: list[Plan]) -> dict[str, StepFailed]:
            members = [(self.run.state(plan), join_step(plan)) for plan in group]
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
                state = self.run.active(plan.row_key)
                failure = failures.get(plan.row_key)
                if failure is not None:
                    self.failed(state, failure)
                else:
                    self.settle(state, row_status(state, "person"))

        await self._pool(work, done, weight=len).run(membership_groups(joining))

    def _room_is_there(self, plan: Plan) -> bool:
        """A person whose client row has no room shares that row's fate and ends here."""
        join = join_step(plan)
        owner = join.room.row
        fate = blocked(owner, self.run.client_end(owner)) if owner else None
        if fate is None:
            return True
        status, cause = fate
        self.settle(self.run.state(plan), status, StepFailed(join.key, cause))
        return False
