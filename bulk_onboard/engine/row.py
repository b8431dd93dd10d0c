"""A row in progress and how it ends: its state, the outcome of each step, its result."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from bulk_onboard.errors import AmbiguousWrite, StepFailed
from bulk_onboard.model import Json
from bulk_onboard.model.outputs import Output
from bulk_onboard.model.steps import Plan
from bulk_onboard.runs.report import RowResult, Status

Outcome = Literal["created", "changed", "found", "journal"]


@dataclass
class StepDone:
    """What a step's action confirmed: the outputs later steps use, and what it did."""

    outputs: Json
    outcome: Outcome

    @classmethod
    def of(cls, output: Output, outcome: Outcome) -> StepDone:
        """A step's typed output, as the row and the journal hold it (its JSON form)."""
        return cls(output.to_json(), outcome)


@dataclass
class RowState:
    """A row in progress: its plan, what its steps produced, what they cost."""

    plan: Plan
    values: tuple[tuple[str, str], ...]
    outputs: dict[str, Json] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    attempts: int = 0
    # What the journal held for steps that run again (a changed step, a step whose result
    # is checked against the portal): the earlier outputs, for the action to compare with.
    hints: dict[str, Json] = field(default_factory=dict)
    # The journal's later steps of this row no longer hold (its room was made again).
    journal_stale: bool = False
    # What the row should tell the user although nothing failed (said once each).
    notes: list[str] = field(default_factory=list)
    # What each step's write in flight would confirm (set by the action just before it
    # writes, ExactlyOnce.writing): when the answer is lost and a second look finds the write
    # applied, the step counts as this, with these outputs (what undo needs), not as "found".
    attempted: dict[str, StepDone] = field(default_factory=dict)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def row_status(state: RowState, primary: str) -> Status:
    """created if the row's main object was made now, updated if anything else was, else unchanged."""
    outcomes = state.outcomes
    if outcomes.get(primary) == "created":
        return Status.CREATED
    if any(o in ("created", "changed") for o in outcomes.values()):
        return Status.UPDATED
    return Status.UNCHANGED


def finish(state: RowState, status: Status, error: StepFailed | None = None) -> RowResult:
    return RowResult(
        row_key=state.plan.row_key,
        kind=state.plan.kind,
        origin=state.plan.origin,
        values=state.values,
        status=status,
        failed_step=error.step if error else None,
        error=explain(error.cause) if error else None,
        note="; ".join(state.notes) or None,
        outputs=dict(state.outputs),
        outcomes=dict(state.outcomes),
        requests=state.requests,
        attempts=state.attempts,
        duration=time.monotonic() - state.started,
    )


def explain(cause: Exception) -> str:
    """One sentence for the report: what failed and what the user can do."""
    if isinstance(cause, AmbiguousWrite):
        return f"{cause}; the portal kept failing without a clear answer: run `bulk-onboard retry` later"
    return str(cause)
