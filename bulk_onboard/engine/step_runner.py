"""Run a row's steps by their kind: each step's action from the step table, exactly once.

The step runner dispatches; engine/exactly_once.py decides whether a step runs and what is
recorded. A planned step of a kind the step table does not list, or whose action this run
does not have, fails its row (never silently skipped with the row reported as done). Any
failure leaves as StepFailed, carrying the step key and the cause.

A row's steps run as soon as the steps they wait for are done (engine/step_order.py), side
by side (the run's in-flight caps bound the requests). Once one fails or is left uncertain,
no further step of the row starts; the ones in flight finish and are journalled, and the row
ends with the failure (a refusal before an uncertain write: the row fails rather than waits).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bulk_onboard.engine.exactly_once import STEP_ERRORS, ExactlyOnce, StillUncertain
from bulk_onboard.engine.row import RowState
from bulk_onboard.engine.step_order import in_plan_order, ready, waits_for
from bulk_onboard.engine.step_table import AFTER, BY_STEP, Registry
from bulk_onboard.errors import StepFailed
from bulk_onboard.model.steps import Step
from bulk_onboard.runs.journal import Checkpoint

__all__ = ["STEP_ERRORS", "StepRunner"]


class NoAction(RuntimeError):
    """A planned step that nothing in this run can do (a bug, not the row's fault)."""


class StepRunner:
    """Each step of a row to the action of its kind, through ExactlyOnce."""

    def __init__(self, once: ExactlyOnce, registry: Registry) -> None:
        self.once = once
        self.registry = registry

    @property
    def checkpoint(self) -> Checkpoint:
        return self.once.checkpoint

    async def run_row(self, state: RowState, kinds: tuple[type[Step], ...]) -> None:
        """Run the row's steps of these kinds, each once what it waits for is done. A step of
        a kind the step table does not list fails the row, whatever the phase."""
        again = self.once.waits(state.plan.row_key) is not None  # taken up after a wait
        todo: list[Step] = []
        for step in state.plan.steps:
            if type(step) not in BY_STEP:
                raise StepFailed(step.key, NoAction(f"no step kind {type(step).__name__}"))
            if again and step.key in state.outcomes:
                continue  # done before the row waited
            if isinstance(step, kinds):
                todo.append(step)
        try:
            await self._run_ready(state, todo)
        finally:  # what the steps gave, in plan order whatever order they finished in
            in_plan_order(state.plan, state.outputs)
            in_plan_order(state.plan, state.outcomes)

    async def _run_ready(self, state: RowState, todo: Sequence[Step]) -> None:
        """Start every step whose awaited steps are done, until all are done or one failed
        (then the ones in flight finish and the failure is raised)."""
        needs = waits_for(todo, AFTER)
        done: set[str] = set()
        started: set[str] = set()
        running: dict[asyncio.Task[None], Step] = {}
        failures: list[BaseException] = []
        try:
            while True:
                for step in () if failures else ready(todo, needs, done, started):
                    started.add(step.key)
                    task = asyncio.create_task(self._run_noted(state, step, failures))
                    running[task] = step
                if not running:
                    break
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    step = running.pop(task)
                    if task.cancelled():
                        raise asyncio.CancelledError
                    if task.exception() is None:
                        done.add(step.key)
        finally:
            await _cancel(running)
        if failures:
            raise first_failure(failures)
        if len(done) < len(todo):  # steps waiting on each other: a wrong step table
            left = [step.key for step in todo if step.key not in done]
            raise StepFailed(left[0], NoAction(f"steps {', '.join(left)} wait on each other"))

    async def _run_noted(self, state: RowState, step: Step, failures: list[BaseException]) -> None:
        """run_step, its failure noted in the order the failures happened: steps that fail
        in one turn of the loop (a write refused for the day, and a write then held back for
        it) end the row with the first, whatever order asyncio.wait returns them in."""
        try:
            await self.run_step(state, step)
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            failures.append(error)
            raise

    async def run_step(self, state: RowState, step: Step) -> None:
        """The step through ExactlyOnce; a write left uncertain parks the row's step
        (StepFailed with StillUncertain: the phase runs the row again after its window)."""
        action = self.registry.actions.get(type(step))
        if action is None:
            raise StepFailed(step.key, NoAction(f"no action runs {type(step).__name__} steps"))
        await self.once.run(state, step, action, park=True)

    async def run_group(self, members: Sequence[tuple[RowState, Step]]) -> dict[str, StepFailed]:
        """Run the group action of the members' step kind once for all of them; returns the
        failures by row key."""
        if not members:
            return {}
        kind = type(members[0][1])
        action = self.registry.groups.get(kind)
        if action is None:
            cause = NoAction(f"no group action runs {kind.__name__} steps")
            return {state.plan.row_key: StepFailed(step.key, cause) for state, step in members}
        return await self.once.run_group(members, action)


async def _cancel(running: dict[asyncio.Task[None], Step]) -> None:
    """The row's steps still in flight when it is cancelled: cancelled with it."""
    for task in running:
        task.cancel()
    if running:
        await asyncio.gather(*running, return_exceptions=True)


def first_failure(failures: Sequence[BaseException]) -> BaseException:
    """The failure a row ends with when several of its steps failed side by side: a bug
    first, then a step's own failure (the row fails), else the uncertain write the portal
    may apply last (the row waits until then)."""
    for error in failures:
        if not isinstance(error, StepFailed):
            return error
    hard = [e for e in failures if isinstance(e, StepFailed) and not _uncertain(e)]
    if hard:
        return hard[0]
    return max(failures, key=lambda e: _deadline(e))


def _uncertain(failure: StepFailed) -> bool:
    return isinstance(failure.cause, StillUncertain)


def _deadline(error: BaseException) -> float:
    cause = error.cause if isinstance(error, StepFailed) else None
    return cause.deadline if isinstance(cause, StillUncertain) else 0.0
