"""Run steps exactly once: the one place that decides whether a step runs, and what is recorded.

For every step, alone or in a group:
1. a step the journal already holds is not run again: its outputs are taken from the journal,
   unless the step itself changed since (a corrected cell: the journal keeps a digest of each
   step), the row's room had to be made again, or the step's result is checked against the
   portal every time (the room: journal ids are hints, the portal is the truth). Such a step
   runs with the journalled outputs as a hint (`RowState.hints`); finding again what the
   journal holds counts as the journal says (a room this run created stays `created`);
2. otherwise its action runs; when a write fails ambiguously (a timeout, 5xx or dropped
   connection after the request was sent, so the portal may have applied it), the runner
   waits (backoff with jitter) and runs the action again with `recheck=True`, and the action
   looks at the portal before it writes, so nothing is created twice. The portal may apply a
   request after the client gave up on it, so one look is not enough: `LookAgain.find` looks
   several times, spaced out over at least the request timeout, before an action may create
   again;
3. what the action confirmed is recorded in the row's state and the journal, never before.

Actions are handed in (a mapping from step type to action); they never call the runner.
Any failure leaves as StepFailed, carrying the step key and the cause.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from structlog.contextvars import bound_contextvars

from bulk_onboard.backoff import RetryPolicy, Sleep
from bulk_onboard.engine.row import RowState, StepDone, journalled, landed
from bulk_onboard.errors import AmbiguousWrite, ApiError, CrmError, RowRefused, StepFailed
from bulk_onboard.model.steps import EnsureRoom, Step
from bulk_onboard.runs.journal import Checkpoint, Journal

log = structlog.get_logger("bulk_onboard")

T = TypeVar("T")

# An action: (row, step, recheck) -> what the portal confirmed. recheck is True after an
# ambiguous failure of the same step: the action must look before it writes.
Action = Callable[[RowState, Any, bool], Awaitable[StepDone]]
# An action for several rows at once (one request for many): (members, recheck) -> the
# outcome of each member by row key, or raises for all of them.
GroupAction = Callable[[Sequence[tuple[RowState, Step]], bool], Awaitable[dict[str, StepDone]]]

# What a step may fail with and still be reported as the row's failure.
STEP_ERRORS = (ApiError, CrmError, RowRefused)

# Steps whose journalled outputs are only hints: the action looks at the portal every time.
CHECKED_AGAINST_PORTAL: tuple[type[Step], ...] = (EnsureRoom,)
DIGEST = "_step"  # journal outputs: the digest of the step that produced them
INTENT = "~intent"  # journal step key suffix: a create was about to be sent
SPENT = "spent"  # in an intent line: that create was refused outright, it made nothing


def step_digest(step: Step) -> str:
    """A short digest of what the step asks for (titles, e-mails, accesses, references)."""
    return hashlib.sha256(repr(step).encode()).hexdigest()[:16]


# Set while an action looks again after a write the portal answered with a 500: the server's
# own error answer comes after its action ended, so the write cannot land later; one look does.
_ANSWERED: ContextVar[bool] = ContextVar("answered", default=False)
FINISHED_STATUSES = frozenset({500})


@dataclass(frozen=True, slots=True)
class LookAgain:
    """After an ambiguous create: look `looks` times, spaced evenly over `window` seconds (at
    least the request timeout: a request the client gave up on may still be applied that late),
    and take the first thing found. Only when every look found nothing may the action create
    again. After a 500 (the portal's own error answer, given once its action ended) one look
    is enough. `sleep` waits in real time: what is waited for happens on the portal."""

    window: float = 60.0
    looks: int = 3
    sleep: Sleep = field(default=asyncio.sleep, compare=False, repr=False)

    async def find(self, look: Callable[[], Awaitable[T | None]]) -> T | None:
        looks = 1 if _ANSWERED.get() else self.looks
        gap = self.window / max(looks - 1, 1)
        for number in range(looks):
            if number:
                await self.sleep(gap)
            found = await look()
            if found is not None:
                log.debug("looked_again", look=number + 1, found=True)
                return found
        log.info("looked_again", looks=looks, window_s=self.window, found=False)
        return None


class StepRunner:
    """Skip what is journalled, run, look again after ambiguity, record what was confirmed."""

    def __init__(
        self,
        journal: Journal,
        checkpoint: Checkpoint,
        retry: RetryPolicy,
        actions: Mapping[type[Step], Action],
    ) -> None:
        self.journal = journal
        self.checkpoint = checkpoint
        self.retry = retry
        self.actions = actions

    async def run_row(self, state: RowState, kinds: tuple[type[Step], ...]) -> None:
        """Run the row's steps of these kinds, in plan order."""
        for step in state.plan.steps:
            if isinstance(step, kinds):
                await self.run_step(state, step)

    async def run_step(self, state: RowState, step: Step) -> None:
        if self.take_journalled(state, step):
            return
        action = self.actions[type(step)]
        with bound_contextvars(row=state.plan.row_key, step=step.key):
            state.attempted.pop(step.key, None)
            try:
                result, rechecked = await self.confirm(lambda recheck: action(state, step, recheck))
            except STEP_ERRORS as exc:
                raise StepFailed(step.key, exc) from exc
            finally:
                attempted = state.attempted.pop(step.key, None)
            if rechecked and attempted is not None:
                result = landed(result, attempted)
            self.as_journalled(state, step, result)
            self.record(state, step, result)

    async def run_group(
        self, members: Sequence[tuple[RowState, Step]], action: GroupAction
    ) -> dict[str, StepFailed]:
        """Run one action for several rows' steps; returns the failures by row key."""
        todo = [(state, step) for state, step in members if not self.take_journalled(state, step)]
        if not todo:
            return {}
        try:
            with bound_contextvars(rows=len(todo), step=todo[0][1].key):
                done, _ = await self.confirm(lambda recheck: action(todo, recheck))
        except STEP_ERRORS as exc:
            return {state.plan.row_key: StepFailed(step.key, exc) for state, step in todo}
        for state, step in todo:
            self.record(state, step, done[state.plan.row_key])
        return {}

    async def confirm(
        self, attempt: Callable[[bool], Awaitable[T]], **context: Any
    ) -> tuple[T, bool]:
        """Run `attempt(recheck)` until it returns; after an AmbiguousWrite, pause with
        backoff and run it again with recheck=True. Returns the result and whether a second
        look was needed. The last AmbiguousWrite is raised when the attempts are spent."""
        recheck = False
        answered = _ANSWERED.set(False)
        try:
            for number in range(1, self.retry.max_attempts + 1):
                try:
                    return await attempt(recheck), recheck
                except AmbiguousWrite as exc:
                    log.warning("ambiguous_write", attempt=number, error=str(exc), **context)
                    if number == self.retry.max_attempts:
                        raise
                    recheck = True
                    _ANSWERED.set(exc.status in FINISHED_STATUSES)
                    await self.retry.sleep(self.retry.backoff(number))
        finally:
            _ANSWERED.reset(answered)
        raise AssertionError("unreachable: max_attempts is at least 1")

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

    def intend(self, row: str, step_key: str) -> None:
        """Journal that a create is about to be sent, so an attempt that dies before the
        answer still knows, when it finds the object, that this run made it."""
        self.journal.record(row, step_key + INTENT, {}, "intent")

    def withdraw(self, row: str, step_key: str) -> None:
        """The create journalled as intended was refused outright: it made nothing, so a
        later find of the object is not this run's."""
        self.journal.record(row, step_key + INTENT, {SPENT: True}, "intent")

    def record(self, state: RowState, step: Step, result: StepDone) -> None:
        row = state.plan.row_key
        state.outputs[step.key] = result.outputs
        state.outcomes[step.key] = result.outcome
        if result.outcome != "found":
            log.debug("step_finished", row=row, step=step.key, outcome=result.outcome)
        self.journal.record(
            row, step.key, {**result.outputs, DIGEST: step_digest(step)}, result.outcome
        )
