"""A row's lifecycle in a run (engine/rows.py): one entry per row, in one phase at a time,
and one way to end; held rows reported once an outage is ruled out, or interrupted by it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_onboard.engine.row import RowState, finish
from bulk_onboard.engine.rows import ClientEnd, Phase, Rows
from bulk_onboard.errors import StepFailed
from bulk_onboard.model.records import Access, Origin, RoomType, RowKind
from bulk_onboard.model.steps import EnsureRoom, JoinRoom, Plan, Ref
from bulk_onboard.runs.report import Status
from bulk_onboard.runs.report_stream import ReportStream


class Watched:
    """A progress display that remembers what it was told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, ...]] = []

    def start(self, total: int, extra_work: int = 0) -> None:
        self.told.append(("start", str(total)))

    def work_done(self) -> None:
        self.told.append(("work",))

    def row_done(self, status: Status) -> None:
        self.told.append(("done", status.value))

    def row_changed(self, old: Status, new: Status) -> None:
        self.told.append(("changed", old.value, new.value))

    def close(self) -> None:
        self.told.append(("close",))


def _person(n: int) -> Plan:
    email = f"p{n}@example.com"
    join = JoinRoom(
        "join", Ref("room", "id", "client:C-1"), Ref("person", "id"), email, Access.READ, False
    )
    return Plan(
        f"user:{email}",
        RowKind.USER,
        Origin("users.csv", None, n + 1),
        (join,),
        (("email", email),),
    )


def _client(n: int) -> Plan:
    room = EnsureRoom("room", f"Client {n}", RoomType.CUSTOM, (f"client:C-{n}",))
    return Plan(f"client:C-{n}", RowKind.CLIENT, Origin("clients.csv", None, n + 1), (room,))


@pytest.fixture
def watched() -> Watched:
    return Watched()


@pytest.fixture
def report(tmp_path: Path) -> Iterator[ReportStream]:
    stream = ReportStream(tmp_path, ["email"], keep=True)
    yield stream
    stream.close()


@pytest.fixture
def rows(report: ReportStream, watched: Watched) -> Rows:
    return Rows(report, watched)


def test_a_row_is_taken_up_parked_taken_up_again_and_finished(
    rows: Rows, report: ReportStream, watched: Watched
) -> None:
    plan = _person(1)
    assert rows.phase(plan.row_key) is None
    state = rows.state(plan)
    assert rows.phase(plan.row_key) is Phase.ACTIVE
    assert rows.state(plan) is state and rows.active(plan.row_key) is state
    state.outputs["person"] = {"id": "u-1"}
    rows.park(state)
    assert rows.phase(plan.row_key) is Phase.PARKED
    with pytest.raises(RuntimeError, match="parked, not active"):
        rows.active(plan.row_key)
    again = rows.state(plan)
    assert again is not state and again.outputs == {"person": {"id": "u-1"}}
    assert again.values == plan.values
    rows.finish(finish(again, Status.CREATED))
    assert rows.phase(plan.row_key) is Phase.FINISHED
    assert plan.row_key in rows.ended
    assert [r.row_key for r in report.kept] == [plan.row_key]
    assert watched.told == [("done", "created")]


def test_an_ended_row_is_not_taken_up_again(rows: Rows) -> None:
    plan = _person(1)
    rows.finish(finish(rows.state(plan), Status.UNCHANGED))
    with pytest.raises(RuntimeError, match="has ended"):
        rows.state(plan)


def test_parking_a_state_that_is_not_the_rows_does_nothing(rows: Rows) -> None:
    plan = _person(1)
    rows.state(plan)
    rows.park(RowState(plan=plan, values=plan.values))
    assert rows.phase(plan.row_key) is Phase.ACTIVE


def _held(rows: Rows, *statuses: Status) -> list[Plan]:
    """People 1, 2, … finished with `statuses` after a failed join, each held, not reported."""
    failure = StepFailed("join", RuntimeError("503"))
    plans = [_person(n) for n in range(1, len(statuses) + 1)]
    for plan, status in zip(plans, statuses, strict=True):
        rows.finish(finish(rows.state(plan), status, failure), hold=True)
    return plans


def test_held_rows_are_reported_when_released_in_the_order_they_were_held(
    rows: Rows, report: ReportStream, watched: Watched
) -> None:
    first, second = _held(rows, Status.FAILED, Status.FAILED)
    assert rows.phase(first.row_key) is Phase.HELD
    assert first.row_key in rows.ended and second.row_key in rows.ended
    assert report.kept == []  # not reported while held
    assert watched.told == [("done", "failed"), ("done", "failed")]  # but counted
    rows.release()
    assert [r.row_key for r in report.kept] == [first.row_key, second.row_key]
    assert rows.phase(first.row_key) is Phase.FINISHED
    rows.release()  # nothing held any more: nothing reported twice
    assert len(report.kept) == 2


def test_an_outage_makes_the_held_failed_rows_interrupted(
    rows: Rows, report: ReportStream, watched: Watched
) -> None:
    failed, deferred = _held(rows, Status.FAILED, Status.DEFERRED)
    rows.interrupt_held([failed.row_key, deferred.row_key, "user:never@example.com"])
    rows.release()
    statuses = {r.row_key: r.status for r in report.kept}
    assert statuses == {failed.row_key: Status.INTERRUPTED, deferred.row_key: Status.DEFERRED}
    assert watched.told[-1] == ("changed", "failed", "interrupted")
    assert watched.told.count(("changed", "failed", "interrupted")) == 1


def test_a_client_row_keeps_how_it_ended_held_or_finished(rows: Rows) -> None:
    ok, broken = _client(1), _client(2)
    state = rows.state(ok)
    state.outputs["room"] = {"id": 7, "title": "Acme"}
    rows.finish(finish(state, Status.CREATED))
    assert rows.client_end(ok.row_key) == ClientEnd(Status.CREATED, None, None, True)
    failure = StepFailed("room", RuntimeError("503"))
    rows.finish(finish(rows.state(broken), Status.FAILED, failure), hold=True)
    assert rows.client_end(broken.row_key) == ClientEnd(Status.FAILED, "room", "503", False)
    rows.interrupt_held([broken.row_key])
    assert rows.client_end(broken.row_key) == ClientEnd(Status.INTERRUPTED, "room", "503", False)
    rows.release()
    assert rows.client_end(broken.row_key) == ClientEnd(Status.INTERRUPTED, "room", "503", False)
    assert rows.client_end("client:C-9") is None
    assert rows.client_end(_person(1).row_key) is None


def test_a_row_the_run_stopped_is_interrupted_at_its_next_step(
    rows: Rows, report: ReportStream, watched: Watched
) -> None:
    parked, untouched = _person(1), _person(2)
    state = rows.state(parked)
    state.outputs["person"] = {"id": "u-1"}
    rows.park(state)
    rows.interrupt(parked, "signal SIGINT")
    rows.interrupt(untouched, "signal SIGINT")
    kept = {r.row_key: r for r in report.kept}
    assert kept[parked.row_key].status is Status.INTERRUPTED
    assert kept[parked.row_key].failed_step == "join"
    assert kept[parked.row_key].outputs == {"person": {"id": "u-1"}}  # what it had done
    assert kept[parked.row_key].error == "not finished: signal SIGINT"
    assert watched.told == [("done", "interrupted"), ("done", "interrupted")]


def test_phases_are_counted(rows: Rows) -> None:
    plans = [_person(n) for n in range(4)]
    for plan in plans:
        rows.state(plan)
    rows.park(rows.active(plans[0].row_key))
    rows.finish(finish(rows.active(plans[1].row_key), Status.CREATED))
    rows.finish(finish(rows.active(plans[2].row_key), Status.FAILED), hold=True)
    counts = {phase: rows.count(phase) for phase in Phase}
    assert counts == {Phase.ACTIVE: 1, Phase.PARKED: 1, Phase.HELD: 1, Phase.FINISHED: 1}
