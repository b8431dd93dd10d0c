"""Exactly once: whether a step runs, how it looks again after a lost answer, what is recorded.

For every step, alone or in a group:
1. **skip if journalled**: a step the journal already holds is not run again; its outputs
   are taken from the journal, unless the step itself changed since (a corrected cell: the
   journal keeps a digest of each step), the row's room had to be made again, or the step's
   result is checked against the portal every time (the room: journal ids are hints, the
   portal is the truth). Such a step runs with the journalled outputs as a hint
   (`RowState.hints`); finding again what the journal holds counts as the journal says (a room
   this run created stays `created`);
2. **intend / withdraw**: an action about to send a create may journal its intent first, so
   an attempt killed before the answer still knows, when a resume finds the object, that this
   run made it (`created`); a create refused outright withdraws the intent (it made nothing);
3. **look again**: when a write fails ambiguously (a timeout, 5xx or dropped connection after
   the request was sent, so the portal may have applied it), `confirm` waits (backoff with
   jitter) and runs the action again with a `Look` other than FIRST, and the action looks at
   the portal before it writes, so nothing is created twice. How often it looks is named by
   the Look: after a lost answer the portal may still apply the write as late as the request
   timeout, so `LookAgain` looks several times over that window; after the portal's own 500
   (its answer comes once its action ended) the write cannot land later, and one look does.
   A run's rows (`run(..., park=True)`) do not wait out that window: they look once at once,
   and a write not found then leaves the step as `StillUncertain` (its pool worker freed);
   the phase takes the row up again once the window since that write has passed, when one
   look is enough (engine/phases.py);
4. **record**: what the action confirmed goes into the row's state and the journal, never
   before.

Actions get this module's `ExactlyOnce` when they are built (to intend, withdraw and look
again); the invitation batches, which are no step of one row, use its `confirm`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, TypeVar

import structlog
from structlog.contextvars import bound_contextvars

from bulk_onboard.backoff import RetryPolicy, Sleep
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.errors import AmbiguousWrite, ApiError, CrmError, RowRefused, StepFailed
from bulk_onboard.model import Json
from bulk_onboard.model.outputs import Output
from bulk_onboard.model.steps import EnsureRoom, Step
from bulk_onboard.runs.journal import Checkpoint, Journal

log = structlog.get_logger("bulk_onboard")

T = TypeVar("T")

# What a step may fail with and still be reported as the row's failure.
STEP_ERRORS = (ApiError, CrmError, RowRefused)

# Steps whose journalled outputs are only hints: the action looks at the portal every time.
CHECKED_AGAINST_PORTAL: tuple[type[Step], ...] = (EnsureRoom,)
DIGEST = "_step"  # journal outputs: the digest of the step that produced them
INTENT = "~intent"  # journal step key suffix: a create was about to be sent
SPENT = "spent"  # in an intent line: that create was refused outright, it made nothing
# The portal's own error answer (500: its action has ended) and its refusal to take the
# request (503: the server is stopping, or its proxy has no server to hand it to; no action
# starts). After either, one look tells whether the write landed. A 502 or 504 is a proxy's
# word on a server that may still be running the action: the window applies.
FINISHED_STATUSES = frozenset({500, 503})


# Set by `confirm` for the attempt after a lost answer: when that answer was lost and when its
# write was sent, so a look knows how long the write may still land; and whether the step may
# park.
_LOST: ContextVar[Lost | None] = ContextVar("lost", default=None)
_PARKING: ContextVar[bool] = ContextVar("parking", default=False)


@dataclass(frozen=True, slots=True)
class Lost:
    """A write whose answer was lost: when (monotonic seconds), and when it was sent (None: not
    known, a write that never reached the transport's sending)."""

    at: float
    sent_at: float | None = None


def may_still_land(lost: Lost, now: float, window: float, restarted: bool) -> bool:
    """Whether a write whose answer was lost and that a look did not find may still land: not
    once `window` seconds have passed since its answer was lost (a request the client gave up
    on may still be applied that late), nor once the portal could not be reached after the
    write was sent and answers again (`restarted`): a server stopping ends the actions it is
    running before it stops listening (ASP.NET's graceful shutdown), and one that comes back
    runs none of them after."""
    return not restarted and now < lost.at + window


class StillUncertain(Exception):
    """A write whose answer was lost was not found by the look at once, and the portal may
    still apply it until `deadline` (time.monotonic): the row waits without its worker and is
    looked at again then."""

    def __init__(self, deadline: float, window: float, lost: Lost | None = None) -> None:
        super().__init__(
            f"a write whose answer was lost was not found; it may land for {window:g}s"
        )
        self.deadline = deadline
        self.lost = lost or Lost(deadline - window)
        self.rounds = 1  # how often this step was left uncertain (ExactlyOnce counts)


@dataclass(slots=True)
class Waiting:
    """A step left as StillUncertain: when its answer was lost, until when the write may land,
    and what it set out to do (so a late landing counts as that write's)."""

    lost: Lost
    deadline: float
    attempted: StepDone | None
    rounds: int = 1


class Look(Enum):
    """How an attempt at a step looks at the portal before it writes."""

    FIRST = "first"  # the first attempt: find before create, as always
    AFTER_LOST_ANSWER = "after_lost_answer"  # the write may still land: look over the window
    AFTER_ERROR_ANSWER = "after_error_answer"  # the portal answered 500: one look is enough

    @property
    def again(self) -> bool:
        """An earlier attempt's write may have been applied: look before writing again."""
        return self is not Look.FIRST

    def refused_twice(self) -> Look:
        """The look before a write the portal refuses to apply twice: a second account for
        one e-mail address ("User with this email is already registered", docspace-api.md 5.6)
        or a second invitation link of a room (5.5). One look is enough: a lost write that
        lands after the one sent again is refused, not applied twice, so the row does not
        wait out the window."""
        return Look.AFTER_ERROR_ANSWER if self.again else self

    @classmethod
    def after(cls, error: AmbiguousWrite) -> Look:
        if error.status in FINISHED_STATUSES:
            return cls.AFTER_ERROR_ANSWER
        return cls.AFTER_LOST_ANSWER


# An action: (row, step, look) -> what the portal confirmed.
Action = Callable[[RowState, Any, Look], Awaitable[StepDone]]
# An action for several rows at once (one request for many): (members, look) -> the outcome
# of each member by row key, or raises for all of them.
GroupAction = Callable[[Sequence[tuple[RowState, Step]], Look], Awaitable[dict[str, StepDone]]]


def step_digest(step: Step) -> str:
    """A short digest of what the step asks for (titles, e-mails, accesses, references)."""
    return hashlib.sha256(repr(step).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class LookAgain:
    """After an ambiguous create: look `looks` times, spaced evenly over `window` seconds (at
    least the request timeout: a request the client gave up on may still be applied that late),
    and take the first thing found. Only when every look found nothing may the action create
    again. `sleep` waits in real time: what is waited for happens on the portal."""

    window: float = 60.0
    looks: int = 3
    sleep: Sleep = field(default=asyncio.sleep, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    # whether the portal could not be reached after a time (monotonic) and answers again
    restarted_since: Callable[[float], bool] = field(
        default=lambda _at: False, compare=False, repr=False
    )

    def may_still_land(self, lost: Lost | None) -> bool:
        """`may_still_land` now (a write whose loss is not known may land for the window)."""
        if lost is None:
            return True
        restarted = lost.sent_at is not None and self.restarted_since(lost.sent_at)
        return may_still_land(lost, self.clock(), self.window, restarted)

    def looks_for(self, look: Look) -> int:
        return self.looks if look is Look.AFTER_LOST_ANSWER else 1

    async def find(self, look: Look, find: Callable[[], Awaitable[T | None]]) -> T | None:
        lost = _LOST.get()
        if look is Look.AFTER_LOST_ANSWER and _PARKING.get() and lost is not None:
            return await self.once_or_park(lost, find)
        looks = self.looks_for(look)
        gap = self.window / max(looks - 1, 1)
        for number in range(looks):
            if number:
                await self.sleep(gap)
            found = await find()
            if found is not None:
                log.debug("looked_again", look=number + 1, found=True)
                return found
            if lost is not None and not self.may_still_land(lost):
                break  # the portal was restarted since: nothing more will land
        log.info("looked_again", looks=looks, window_s=self.window, found=False)
        return None

    async def once_or_park(self, lost: Lost, find: Callable[[], Awaitable[T | None]]) -> T | None:
        """One look at once; nothing found while the write may still land is StillUncertain.
        Once the window since the lost answer has passed (or the portal was restarted since
        the write was sent), nothing found means nothing landed."""
        found = await find()
        deadline = lost.at + self.window
        if found is None and self.may_still_land(lost):
            log.info(
                "looked_again", looks=1, found=False, waits_s=round(deadline - self.clock(), 1)
            )
            raise StillUncertain(deadline, self.window, lost)
        log.debug("looked_again", looks=1, found=found is not None)
        return found


class Confirm(Protocol):
    """What a writer that is no step of one row (the invitation batches) needs: run an
    attempt until it returns, looking again after each ambiguous failure."""

    async def confirm(
        self, attempt: Callable[[Look], Awaitable[T]], **context: Any
    ) -> tuple[T, Look]: ...


class ExactlyOnce:
    """Skip what is journalled, intend and withdraw creates, look again after ambiguity,
    record what was confirmed."""

    def __init__(
        self,
        journal: Journal,
        checkpoint: Checkpoint,
        retry: RetryPolicy,
        look_again: LookAgain | None = None,
    ) -> None:
        self.journal = journal
        self.checkpoint = checkpoint
        self.retry = retry
        self.look_again = look_again or LookAgain()
        # (row, step) -> a step left as StillUncertain, until it is run again
        self.waiting: dict[tuple[str, str], Waiting] = {}
        # told of every step recorded (the phases start what waits for a room once it is made)
        self.on_record: Callable[[RowState, Step], None] | None = None

    # ------------------------------------------------------------------ one step

    async def run(self, state: RowState, step: Step, action: Action, *, park: bool = False) -> None:
        """The step once: taken from the journal, or run (again after ambiguity) and
        recorded. Any failure leaves as StepFailed. `park`: a write not found at once after a
        lost answer leaves as StepFailed(StillUncertain), to be run again after its window."""
        if self.take_journalled(state, step):
            return
        row = state.plan.row_key
        with bound_contextvars(row=row, step=step.key):
            waiting = self.waiting.pop((row, step.key), None)
            state.attempted.pop(step.key, None)
            if waiting is not None and waiting.attempted is not None:
                state.attempted[step.key] = waiting.attempted
            parking = _PARKING.set(park)
            try:
                result, look = await self._confirm(
                    lambda look: action(state, step, look),
                    Look.AFTER_LOST_ANSWER if waiting else Look.FIRST,
                    waiting.lost if waiting else None,
                )
            except StillUncertain as exc:
                self._wait(state, step, exc, waiting)
                raise StepFailed(step.key, exc) from exc
            except STEP_ERRORS as exc:
                raise StepFailed(step.key, exc) from exc
            finally:
                _PARKING.reset(parking)
                attempted = state.attempted.pop(step.key, None)
            if look.again and attempted is not None:
                result = landed(result, attempted)
            self.as_journalled(state, step, result)
            self.record(state, step, result)

    def _wait(
        self, state: RowState, step: Step, exc: StillUncertain, before: Waiting | None
    ) -> None:
        rounds = before.rounds + 1 if before else 1
        exc.rounds = rounds
        attempted = state.attempted.get(step.key)
        self.waiting[(state.plan.row_key, step.key)] = Waiting(
            exc.lost, exc.deadline, attempted, rounds
        )

    def waits(self, row: str) -> Waiting | None:
        """The row's step left as StillUncertain, if any."""
        return next((w for (key, _), w in self.waiting.items() if key == row), None)

    def give_up(self, row: str) -> None:
        """The row ends with its write still uncertain (interrupted: a retry looks first)."""
        for key in [k for k in self.waiting if k[0] == row]:
            del self.waiting[key]

    async def run_group(
        self, members: Sequence[tuple[RowState, Step]], action: GroupAction
    ) -> dict[str, StepFailed]:
        """One action for several rows' steps; returns the failures by row key."""
        todo = [(state, step) for state, step in members if not self.take_journalled(state, step)]
        if not todo:
            return {}
        try:
            with bound_contextvars(rows=len(todo), step=todo[0][1].key):
                done, _ = await self.confirm(lambda look: action(todo, look))
        except STEP_ERRORS as exc:
            return {state.plan.row_key: StepFailed(step.key, exc) for state, step in todo}
        for state, step in todo:
            self.record(state, step, done[state.plan.row_key])
        return {}

    # ------------------------------------------------------------------ the four parts

    async def confirm(
        self, attempt: Callable[[Look], Awaitable[T]], **context: Any
    ) -> tuple[T, Look]:
        """Run `attempt(look)` until it returns; after an AmbiguousWrite, pause with backoff
        and run it again with the Look that error calls for. Returns the result and the look
        of the attempt that gave it. The last AmbiguousWrite is raised when the attempts are
        spent."""
        return await self._confirm(attempt, Look.FIRST, None, **context)

    async def _confirm(
        self,
        attempt: Callable[[Look], Awaitable[T]],
        look: Look,
        lost: Lost | None,
        **context: Any,
    ) -> tuple[T, Look]:
        """`confirm` from `look`; `lost`: the lost answer that look follows."""
        for number in range(1, self.retry.max_attempts + 1):
            token = _LOST.set(lost)
            try:
                return await attempt(look), look
            except AmbiguousWrite as exc:
                log.warning("ambiguous_write", attempt=number, error=str(exc), **context)
                if number == self.retry.max_attempts:
                    raise
                look = Look.after(exc)
                lost = Lost(self.look_again.clock(), exc.sent_at)
                await self.retry.sleep(self.retry.backoff(number))
            finally:
                _LOST.reset(token)
        raise AssertionError("unreachable: max_attempts is at least 1")

    async def find(self, look: Look, find: Callable[[], Awaitable[T | None]]) -> T | None:
        """Look for what an earlier attempt may have made, as often as `look` calls for."""
        return await self.look_again.find(look, find)

    def writing(
        self, state: RowState, step_key: str, outcome: Outcome, output: Output | None = None
    ) -> None:
        """The action is about to write: if the answer is lost, this is what it did (joined
        with what an earlier try of the step set out to do: a share may land in part)."""
        done = StepDone(output.to_json() if output is not None else {}, outcome)
        earlier = state.attempted.get(step_key)
        state.attempted[step_key] = done if earlier is None else landed(earlier, done)

    def intend(self, row: str, step_key: str) -> None:
        """Journal that a create is about to be sent, so an attempt that dies before the
        answer still knows, when it finds the object, that this run made it."""
        self.journal.record(row, step_key + INTENT, {}, "intent")

    def withdraw(self, row: str, step_key: str) -> None:
        """The create journalled as intended was refused outright: it made nothing, so a
        later find of the object is not this run's."""
        self.journal.record(row, step_key + INTENT, {SPENT: True}, "intent")

    def take_journalled(self, state: RowState, step: Step) -> bool:
        """A step the journal holds and that still holds: its outputs into the row, and
        True. A step that must run again gets the journalled outputs as its hint."""
        row = state.plan.row_key
        done = self.checkpoint.outputs(row).get(step.key)
        if done is None:
            return False
        digest = done.get(DIGEST)
        outputs = {k: v for k, v in done.items() if k != DIGEST}
        changed = digest is not None and digest != step_digest(step)
        if changed or state.journal_stale or isinstance(step, CHECKED_AGAINST_PORTAL):
            state.hints[step.key] = outputs
            return False
        state.outputs[step.key] = outputs
        state.outcomes[step.key] = journalled(self.checkpoint.outcome(row, step.key))
        return True

    def as_journalled(self, state: RowState, step: Step, result: StepDone) -> None:
        """A step found what an earlier attempt at this run (or row) made: it counts as it did
        then. A room that is not the journal's makes the row's later journal entries stale."""
        row = state.plan.row_key
        hint = state.hints.get(step.key)
        if hint is not None and "id" in hint and hint["id"] != result.outputs.get("id"):
            state.journal_stale = True
            return
        intent = self.checkpoint.outputs(row).get(step.key + INTENT)
        if hint is not None:
            before = journalled(self.checkpoint.outcome(row, step.key))
            if result.outcome == "found":
                result.outcome = before
            elif result.outcome == "changed" and before == "created" and "id" in hint:
                result.outcome = "created"  # this run made it; a retry only renamed it
        elif intent is not None and not intent.get(SPENT) and result.outcome != "created":
            result.outcome = "created"  # sent by an attempt that died before it was journalled

    def record(self, state: RowState, step: Step, result: StepDone) -> None:
        row = state.plan.row_key
        state.outputs[step.key] = result.outputs
        state.outcomes[step.key] = result.outcome
        if result.outcome != "found":
            log.debug("step_finished", row=row, step=step.key, outcome=result.outcome)
        self.journal_done(row, step, result)
        if self.on_record is not None:
            self.on_record(state, step)

    def journal_done(self, row: str, step: Step, result: StepDone) -> None:
        """Journal what a step confirmed (also for a write that is no step of one row yet:
        an invitation sent up front for the row)."""
        self.journal.record(
            row, step.key, {**result.outputs, DIGEST: step_digest(step)}, result.outcome
        )


def landed(result: StepDone, attempted: StepDone) -> StepDone:
    """A step that looked again after its write's answer was lost: what it found is what
    that write did (`attempted`, said by the action before writing: created for a create,
    changed for a rename, a share or a link's access), with the outputs the write would
    have given (lists joined, so undo learns whom a share added even without its answer)."""
    outputs: Json = dict(result.outputs)
    for key, value in attempted.outputs.items():
        have = outputs.get(key)
        if isinstance(have, list) and isinstance(value, list):
            outputs[key] = _union(have, value)
        elif key not in outputs:
            outputs[key] = value
    outcome = attempted.outcome if result.outcome == "found" else result.outcome
    return StepDone(outputs, outcome)


def _union(first: list[object], second: list[object]) -> list[object]:
    seen = {repr(item) for item in first}
    joined = list(first)
    for item in second:
        if repr(item) not in seen:
            seen.add(repr(item))
            joined.append(item)
    return joined


_AS_JOURNALLED: dict[str | None, Outcome] = {
    "created": "created",
    "changed": "changed",
    "found": "found",
}


def journalled(outcome: str | None) -> Outcome:
    """A step done by an earlier attempt at this run (resume) or row (retry) counts as it did."""
    return _AS_JOURNALLED.get(outcome, "journal")
