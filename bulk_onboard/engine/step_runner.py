"""Run a row's steps by their kind: each step's action from the step table, exactly once.

The step runner dispatches; engine/exactly_once.py decides whether a step runs and what is
recorded. A planned step of a kind the step table does not list, or whose action this run
does not have, fails its row (never silently skipped with the row reported as done). Any
failure leaves as StepFailed, carrying the step key and the cause.
"""

from __future__ import annotations

from collections.abc import Sequence

from bulk_onboard.engine.exactly_once import STEP_ERRORS, ExactlyOnce
from bulk_onboard.engine.row import RowState
from bulk_onboard.engine.step_table import BY_STEP, Registry
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
        """Run the row's steps of these kinds, in plan order. A step of a kind the step table
        does not list fails the row, whatever the phase."""
        again = self.once.waits(state.plan.row_key) is not None  # taken up after a wait
        for step in state.plan.steps:
            if type(step) not in BY_STEP:
                raise StepFailed(step.key, NoAction(f"no step kind {type(step).__name__}"))
            if again and step.key in state.outcomes:
                continue  # done before the row waited
            if isinstance(step, kinds):
                await self.run_step(state, step)

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
