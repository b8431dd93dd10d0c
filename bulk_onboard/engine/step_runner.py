"""Run the steps of one row against the portal, exactly once.

Every step finds before it creates. A step the journal already holds is not run again. When a
write fails ambiguously (a timeout, 5xx or dropped connection after the request was sent, so
the portal may have applied it), the step looks at the portal again before trying once more,
so nothing is created twice. A step is journalled only after the portal confirmed it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.errors import AmbiguousWrite, ApiError, PermanentError
from bulk_onboard.runs.journal import Checkpoint, Journal
from bulk_onboard.engine.portal_cache import ContentsIndex, PeopleIndex, RoomIndex, TemplateIndex
from bulk_onboard.runs.report import RowResult, Status
from bulk_onboard.model.steps import (
    Plan,
    Ref,
    Step,
)

log = structlog.get_logger("bulk_onboard")

Json = dict[str, Any]
Outcome = Literal["created", "changed", "found", "journal"]


@dataclass
class StepDone:
    outputs: Json
    outcome: Outcome


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


class StepFailed(Exception):
    """A step of a row failed for good: carries the step key and the cause."""

    def __init__(self, step: str, cause: Exception) -> None:
        super().__init__(str(cause))
        self.step = step
        self.cause = cause


class Context:
    """Everything the steps share within a run."""

    def __init__(
        self,
        client: Any,
        *,
        journal: Journal,
        checkpoint: Checkpoint,
        rooms: RoomIndex,
        people: PeopleIndex,
        contents: ContentsIndex,
        templates: TemplateIndex,
        retry: RetryPolicy,
    ) -> None:
        self.client = client
        self.journal = journal
        self.checkpoint = checkpoint
        self.rooms = rooms
        self.people = people
        self.contents = contents
        self.templates = templates
        self.retry = retry
        self.ambiguous_attempts = retry.max_attempts
        # Rooms this run created: their members and links are known without asking.
        self.fresh_rooms: set[int] = set()
        # Members of each room as last seen or set by this run: e-mail -> (user id, access).
        self.members: dict[int, dict[str, tuple[str, int]]] = {}
        # Outputs of every row so far, for steps that refer to another row (memberships).
        self.row_outputs: dict[str, dict[str, Json]] = {}

    def resolve(self, ref: Ref, state: RowState) -> Any:
        outputs = state.outputs if ref.row is None else self.row_outputs.get(ref.row, {})
        try:
            return outputs[ref.step][ref.field]
        except KeyError:
            owner = ref.row or state.plan.row_key
            raise PermanentError(
                f"step {ref.step} of {owner} did not complete, so there is no {ref.field} to use",
                method="-",
                path="-",
            ) from None

    @classmethod
    def open(
        cls, client: Any, journal: Journal, checkpoint: Checkpoint, plans: Sequence[Plan]
    ) -> Context:
        """The context of a run: empty indexes over the portal, outputs of journalled rows."""
        users = sum(1 for plan in plans if plan.kind == "user")
        rooms = RoomIndex(client)
        contents = ContentsIndex(client)
        ctx = cls(
            client,
            journal=journal,
            checkpoint=checkpoint,
            rooms=rooms,
            # Prefetching people pays off when it takes fewer requests than one per address.
            people=PeopleIndex(client, expected_lookups=users + 2 * (len(plans) - users)),
            contents=contents,
            templates=TemplateIndex(rooms, contents),
            retry=client.retry_policy,
        )
        for key, outputs in checkpoint.steps.items():
            ctx.row_outputs[key] = dict(outputs)
        return ctx

    def forget_room(self, room_id: int) -> None:
        """After an ambiguous write to a room: ask the portal about it again."""
        self.fresh_rooms.discard(room_id)
        self.members.pop(room_id, None)

    async def pause_before_recheck(self, attempt: int) -> None:
        """Back off (with jitter) before looking again after an ambiguous write."""
        await self.retry.sleep(self.retry.backoff(attempt))

    async def run_step(
        self, state: RowState, step: Step, action: Callable[[bool], Awaitable[StepDone]]
    ) -> None:
        """Run one step once: skip it if journalled, look again after an ambiguous failure."""
        row = state.plan.row_key
        done = self.checkpoint.outputs(row).get(step.key)
        if done is not None:
            state.outputs[step.key] = done
            state.outcomes[step.key] = journalled(self.checkpoint.outcome(row, step.key))
            return
        recheck = False
        for attempt in range(1, self.ambiguous_attempts + 1):
            try:
                result = await action(recheck)
                break
            except AmbiguousWrite as exc:
                log.warning(
                    "ambiguous_write", row=row, step=step.key, attempt=attempt, error=str(exc)
                )
                if attempt == self.ambiguous_attempts:
                    raise StepFailed(step.key, exc) from exc
                recheck = True
                await self.pause_before_recheck(attempt)
            except ApiError as exc:
                raise StepFailed(step.key, exc) from exc
        if recheck and result.outcome == "found":
            # Found on a second look: the write that failed ambiguously had been applied.
            result.outcome = "created"
        state.outputs[step.key] = result.outputs
        state.outcomes[step.key] = result.outcome
        if result.outcome != "found":
            log.info("step_finished", row=row, step=step.key, outcome=result.outcome)
        self.journal.record(row, step.key, result.outputs, result.outcome)


def journalled(outcome: str | None) -> Outcome:
    """A step done by an earlier attempt at this run (resume) or row (retry) counts as it did."""
    return outcome if outcome in ("created", "changed", "found") else "journal"  # type: ignore[return-value]


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
    if isinstance(cause, ApiError) and cause.method == "-":
        return cause.message
    return str(cause)
