"""The composition root: plans in, portal work under limits, report and exit code out.

A run has three phases, each a worker pool over rows: people first (every user row's person,
so account managers and members exist before anything refers to them), then clients (room,
folders, copies, access, link: the steps of a row in order, rows concurrently), then
memberships (grouped per room: one look at the members, one share request per room and
batch). Every row ends in the report with a status, whatever happens to the run.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.metering import Meter, metered
from bulk_onboard.errors import BudgetExhausted, FatalError, PermanentError
from bulk_onboard.execute import ClientSteps, Context, RowState, StepFailed, finish, row_status
from bulk_onboard.journal import Checkpoint, Journal
from bulk_onboard.lookups import ContentsIndex, PeopleIndex, RoomIndex, TemplateIndex
from bulk_onboard.membership import Inviter, Joiner, MembershipSteps, PersonSteps
from bulk_onboard.report import (
    OK_STATUSES,
    RowResult,
    Status,
    status_counts,
    write_csv,
    write_summary,
    write_xlsx,
)
from bulk_onboard.runner import Pool, Stop
from bulk_onboard.steps import FindRoom, JoinRoom, Plan

log = structlog.get_logger("bulk_onboard")

MEMBERSHIP_BATCH = 50

EXIT_OK, EXIT_ROWS_FAILED, EXIT_INPUT, EXIT_ABORTED, EXIT_LOCKED, EXIT_DEFERRED = 0, 1, 2, 3, 4, 5


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    # Sortable by start time (to the millisecond), unique by a random suffix.
    return f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}{secrets.token_hex(1)}"


class Progress:
    """What the run tells whoever watches it (a progress bar, periodic log lines)."""

    def start(self, total: int) -> None:
        pass

    def row_done(self, status: Status) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class RunOutcome:
    run_id: str
    run_dir: Path
    results: list[RowResult]
    summary: dict[str, Any]
    exit_code: int


@dataclass
class _Run:
    """Mutable bookkeeping of one run."""

    states: dict[str, RowState]
    results: dict[str, RowResult] = field(default_factory=dict)
    fatal: Exception | None = None


async def onboard(
    client: DocSpaceClient,
    plans: Sequence[Plan],
    values: dict[str, tuple[tuple[str, str], ...]],
    settled: Sequence[RowResult],
    *,
    run_id: str,
    run_dir: Path,
    concurrency: int,
    stop: Stop,
    progress: Progress,
    checkpoint: Checkpoint | None = None,
    carry_checkpoint: bool = False,
    inputs: Sequence[str] = (),
    extra_summary: dict[str, Any] | None = None,
) -> RunOutcome:
    """Onboard every planned row; write journal, report and summary into run_dir."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    run_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(
        states={p.row_key: RowState(plan=p, values=values.get(p.row_key, ())) for p in plans}
    )
    user_plans = [p for p in plans if p.kind == "user"]
    client_plans = [p for p in plans if p.kind == "client"]
    progress.start(len(plans) + len(settled))
    for result in settled:
        progress.row_done(result.status)
    log.info("run_started", run_id=run_id, rows=len(plans), settled=len(settled))

    with Journal(run_dir / "journal.jsonl") as journal:
        if checkpoint is not None and carry_checkpoint:
            # A retry starts a new run folder: its journal begins with what is already done,
            # so a retry of this retry finds it too.
            for row_key, steps in checkpoint.steps.items():
                for step_key, out in steps.items():
                    journal.record(row_key, step_key, out, checkpoint.outcome(row_key, step_key))
        rooms = RoomIndex(client)
        contents = ContentsIndex(client)
        ctx = Context(
            client,
            journal=journal,
            checkpoint=checkpoint or Checkpoint(),
            rooms=rooms,
            people=PeopleIndex(client, expected_lookups=len(user_plans) + 2 * len(client_plans)),
            contents=contents,
            templates=TemplateIndex(rooms, contents),
            retry=client.retry_policy,
        )
        for key, outputs in ctx.checkpoint.steps.items():
            ctx.row_outputs[key] = dict(outputs)
        people_steps = PersonSteps(ctx, Inviter(ctx))
        client_steps = ClientSteps(ctx)
        memberships = MembershipSteps(ctx)

        def settle(state: RowState, status: Status, error: StepFailed | None = None) -> None:
            result = finish(state, status, error)
            run.results[state.plan.row_key] = result
            ctx.row_outputs[state.plan.row_key] = dict(state.outputs)
            progress.row_done(status)
            log.info(
                "row_finished",
                row=state.plan.row_key,
                status=status.value,
                failed_step=result.failed_step,
                error=result.error,
            )

        async def guarded(state: RowState, body: Callable[[RowState], Any]) -> StepFailed | None:
            """Run body for a row; a step failure is a value, a fatal error stops the run."""
            with metered(Meter()) as meter:
                try:
                    await body(state)
                    return None
                except StepFailed as failed:
                    if isinstance(failed.cause, FatalError):
                        if run.fatal is None:
                            run.fatal = failed.cause
                        stop.request(f"fatal: {failed.cause}")
                    return failed
                except Exception as exc:  # a bug must not lose the other rows or the report
                    log.exception("row_crashed", row=state.plan.row_key)
                    return StepFailed("internal", exc)
                finally:
                    state.requests += meter.requests
                    state.attempts += meter.attempts

        def fail_status(failed: StepFailed) -> Status:
            if isinstance(failed.cause, BudgetExhausted):
                return Status.DEFERRED  # nothing wrong with the row: the day's writes are spent
            return Status.INTERRUPTED if isinstance(failed.cause, FatalError) else Status.FAILED

        # Phase 1: people.
        async def person(plan: Plan) -> StepFailed | None:
            return await guarded(run.states[plan.row_key], people_steps.run)

        def person_done(plan: Plan, failed: StepFailed | None) -> None:
            if failed is not None:
                settle(run.states[plan.row_key], fail_status(failed), failed)

        await _pool(person, concurrency, stop, person_done).run(user_plans)

        # Phase 2: clients.
        async def client_row(plan: Plan) -> StepFailed | None:
            return await guarded(run.states[plan.row_key], client_steps.run)

        def client_done(plan: Plan, failed: StepFailed | None) -> None:
            state = run.states[plan.row_key]
            if failed is not None:
                settle(state, fail_status(failed), failed)
            else:
                settle(state, row_status(state, "room"))

        await _pool(client_row, concurrency, stop, client_done).run(client_plans)

        # Phase 3: memberships, grouped per room. A person whose client row did not get its
        # room shares that row's fate: deferred or interrupted with it, failed if it failed.
        for state in [run.states[p.row_key] for p in user_plans]:
            if state.plan.row_key in run.results:
                continue
            if not _joins(state.plan):
                settle(state, row_status(state, "person"))
                continue
            owner = _room_owner(state.plan)
            blocking = run.results.get(owner) if owner else None
            if blocking is not None and blocking.status not in OK_STATUSES:
                cause = PermanentError(
                    f"the room of {owner} is not there: that row is {blocking.status.value}"
                    + (f" at step {blocking.failed_step}" if blocking.failed_step else ""),
                    method="-",
                    path="-",
                )
                status = blocking.status if blocking.status is not Status.INVALID else Status.FAILED
                settle(state, status, StepFailed("membership", cause))
        groups = _membership_groups(
            [run.states[p.row_key] for p in user_plans if p.row_key not in run.results]
        )

        async def join(group: list[Joiner]) -> dict[str, StepFailed]:
            with metered(Meter()) as meter:
                try:
                    failures = await memberships.run_room(group)
                finally:
                    share = (meter.requests, meter.attempts)
            for joiner in group:  # the group's requests, shared out for the report
                joiner.state.requests += -(-share[0] // len(group))
                joiner.state.attempts += -(-share[1] // len(group))
            return failures

        def join_done(group: list[Joiner], failures: dict[str, StepFailed]) -> None:
            for joiner in group:
                failed = failures.get(joiner.state.plan.row_key)
                if failed is not None:
                    if isinstance(failed.cause, FatalError) and run.fatal is None:
                        run.fatal = failed.cause
                        stop.request(f"fatal: {failed.cause}")
                    settle(joiner.state, fail_status(failed), failed)
                else:
                    settle(joiner.state, row_status(joiner.state, "person"))

        await _pool(join, concurrency, stop, join_done).run(groups)

    # Whatever has no result yet was never finished: the run stopped first.
    reason = str(run.fatal) if run.fatal else (stop.reason or "the run stopped")
    for key, state in run.states.items():
        if key not in run.results:
            settle_interrupted(run, state, reason, progress)

    ordered = [*settled, *(run.results[p.row_key] for p in plans)]
    ordered.sort(key=lambda r: (r.origin.file, r.origin.sheet or "", r.origin.line))
    write_csv(run_dir / "report.csv", ordered)
    write_xlsx(run_dir / "report.xlsx", ordered)
    counts = status_counts(ordered)
    if run.fatal is not None or stop.requested:
        exit_code = EXIT_ABORTED
    elif any(r.status is Status.DEFERRED for r in ordered):
        exit_code = EXIT_DEFERRED
    elif all(r.status in OK_STATUSES for r in ordered):
        exit_code = EXIT_OK
    else:
        exit_code = EXIT_ROWS_FAILED
    summary: dict[str, Any] = {
        "run_id": run_id,
        "inputs": list(inputs),
        "started": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
        "rows": len(ordered),
        "statuses": counts,
        "exit_code": exit_code,
        "stopped": reason if (run.fatal or stop.requested) else None,
        "client": client.stats.as_dict(),
        "report": {"csv": str(run_dir / "report.csv"), "xlsx": str(run_dir / "report.xlsx")},
        "journal": str(run_dir / "journal.jsonl"),
        **(extra_summary or {}),
    }
    write_summary(run_dir / "summary.json", summary)
    progress.close()
    log.info("run_finished", run_id=run_id, exit_code=exit_code, **counts)
    return RunOutcome(run_id, run_dir, ordered, summary, exit_code)


def settle_interrupted(run: _Run, state: RowState, reason: str, progress: Progress) -> None:
    error = StepFailed(_next_step(state), RuntimeError(f"not finished: {reason}"))
    run.results[state.plan.row_key] = finish(state, Status.INTERRUPTED, error)
    progress.row_done(Status.INTERRUPTED)


def _next_step(state: RowState) -> str:
    for step in state.plan.steps:
        if step.key not in state.outputs:
            return step.key
    return state.plan.steps[-1].key if state.plan.steps else "-"


def _room_owner(plan: Plan) -> str | None:
    """The row whose room this person joins, when it is a client row of this run."""
    join = next((s for s in plan.steps if isinstance(s, JoinRoom)), None)
    return join.room.row if join is not None else None


def _joins(plan: Plan) -> bool:
    return any(isinstance(step, JoinRoom) for step in plan.steps)


def _membership_groups(states: Sequence[RowState]) -> list[list[Joiner]]:
    by_room: dict[tuple[str, str], list[Joiner]] = {}
    for state in states:
        find = next((s for s in state.plan.steps if isinstance(s, FindRoom)), None)
        join = next((s for s in state.plan.steps if isinstance(s, JoinRoom)), None)
        if join is None:
            continue
        key = ("title", find.title) if find is not None else ("row", str(join.room.row))
        by_room.setdefault(key, []).append(Joiner(state, join, find))
    groups: list[list[Joiner]] = []
    for joiners in by_room.values():
        for start in range(0, len(joiners), MEMBERSHIP_BATCH):
            groups.append(joiners[start : start + MEMBERSHIP_BATCH])
    return groups


def _pool(work: Any, concurrency: int, stop: Stop, done: Any) -> Pool[Any, Any]:
    """A pool whose skipped or cancelled items are left without a result (interrupted later)."""
    return Pool(
        work,
        concurrency=concurrency,
        stop=stop,
        on_done=done,
        on_skipped=lambda item: None,
        on_cancelled=lambda item: None,
    )
