"""A row's lifecycle in a run: one entry per row, in one phase at a time, and one way to end.

    (not taken up yet)
        │ a phase takes the row up: Rows.state
        ▼
      ACTIVE  ◀──────────┐   worked on: its whole state (plan, outputs, what it cost)
        │ Rows.park      │ Rows.state (a later phase takes it up again)
        ▼                │
      PARKED  ───────────┘   waits for a later phase: what it has done, not its plan
        │
        │ Rows.finish (from ACTIVE; a row the run stopped is taken up to be interrupted)
        ▼
      HELD                   ended, its result held back: it failed on what may be the
        │                    portal's outage, which would make it interrupted
        │ Rows.release
        ▼
      FINISHED               its result is in the report; only its key stays (and, of a
                             client row, how it ended: the people who join its room share it)

A row ends once, through `Rows.finish`, which reports it (or holds it) and tells the progress
display. The run keeps no finished row's result: a few dozen bytes a row.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import Field, dataclass, fields
from enum import Enum
from typing import Any, ClassVar

from bulk_onboard.engine.row import RowState, finish
from bulk_onboard.errors import StepFailed
from bulk_onboard.model.records import RowKind
from bulk_onboard.model.steps import Plan
from bulk_onboard.runs.progress import Progress
from bulk_onboard.runs.report import OK_STATUSES, RowResult, Status
from bulk_onboard.runs.report_stream import ReportStream


class Phase(Enum):
    ACTIVE = "active"
    PARKED = "parked"
    HELD = "held"
    FINISHED = "finished"


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


@dataclass(frozen=True, slots=True)
class Active:
    phase: ClassVar[Phase] = Phase.ACTIVE
    state: RowState


def _kept_fields() -> tuple[Field[Any], ...]:
    """What a parked row keeps: every field of RowState but its plan and the plan's values."""
    return tuple(f for f in fields(RowState) if f.name not in ("plan", "values"))


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(value.items())
    if isinstance(value, list | set):
        return tuple(value)
    return value


def _thaw(field: Field[Any]) -> Callable[[Any], Any]:
    factory = field.default_factory
    if factory in (dict, list, set):
        return factory
    return lambda value: value


class Parked:
    """A row between two phases (a person between its person step and its membership): the
    values of its state's fields, dicts and lists as tuples, without its plan (made again when
    the row is taken up): a few hundred bytes instead of 1.2 KB, and every person who joins a
    room waits here while the other people and the clients are worked on. The fields are
    RowState's own, so a field added there is kept here too."""

    phase: ClassVar[Phase] = Phase.PARKED
    KEPT: ClassVar[tuple[Field[Any], ...]] = _kept_fields()
    THAW: ClassVar[tuple[Callable[[Any], Any], ...]] = tuple(_thaw(f) for f in KEPT)
    __slots__ = ("_values",)

    def __init__(self, values: tuple[Any, ...]) -> None:
        self._values = values

    @classmethod
    def of(cls, state: RowState) -> Parked:
        return cls(tuple(_frozen(getattr(state, f.name)) for f in cls.KEPT))

    def state(self, plan: Plan, values: tuple[tuple[str, str], ...]) -> RowState:
        kept = {
            f.name: thaw(v) for f, thaw, v in zip(self.KEPT, self.THAW, self._values, strict=True)
        }
        return RowState(plan=plan, values=values, **kept)


@dataclass(frozen=True, slots=True)
class Held:
    phase: ClassVar[Phase] = Phase.HELD
    result: RowResult


@dataclass(frozen=True, slots=True)
class Finished:
    phase: ClassVar[Phase] = Phase.FINISHED
    client: ClientEnd | None = None  # of a client row: how it ended


Row = Active | Parked | Held | Finished
_FINISHED = Finished()  # every finished person row shares it


def _finished(result: RowResult) -> Finished:
    return Finished(ClientEnd.of(result)) if result.kind == RowKind.CLIENT else _FINISHED


class Ended(Container[str]):
    """The keys of the rows that have ended (held or finished)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[str, Row]) -> None:
        self._rows = rows

    def __contains__(self, key: object) -> bool:
        row = self._rows.get(key) if isinstance(key, str) else None
        return isinstance(row, Held | Finished)


class Rows:
    """The rows of a run that a phase has taken up, each in its phase (see the module)."""

    def __init__(self, report: ReportStream, progress: Progress) -> None:
        self._report = report
        self._progress = progress
        self._rows: dict[str, Row] = {}
        self._held: list[str] = []  # in the order they were held
        self.ended = Ended(self._rows)

    def phase(self, key: str) -> Phase | None:
        row = self._rows.get(key)
        return None if row is None else row.phase

    def count(self, phase: Phase) -> int:
        return sum(1 for row in self._rows.values() if row.phase is phase)

    def state(self, plan: Plan) -> RowState:
        """The row's state, to work on it: made when first asked for, or again from what it
        parked."""
        row = self._rows.get(plan.row_key)
        if isinstance(row, Active):
            return row.state
        if isinstance(row, Held | Finished):
            raise RuntimeError(f"row {plan.row_key} has ended already")
        if row is None:
            state = RowState(plan=plan, values=plan.values)
        else:
            state = row.state(plan, plan.values)
        self._rows[plan.row_key] = Active(state)
        return state

    def active(self, key: str) -> RowState:
        row = self._rows[key]
        if not isinstance(row, Active):
            raise RuntimeError(f"row {key} is {row.phase.value}, not active")
        return row.state

    def park(self, state: RowState) -> None:
        """The row waits for a later phase: keep what it has done, not its state."""
        key = state.plan.row_key
        row = self._rows.get(key)
        if isinstance(row, Active) and row.state is state:
            self._rows[key] = Parked.of(state)

    def finish(self, result: RowResult, *, hold: bool = False) -> None:
        """The one way a row ends: reported (or held back, `hold`), its state dropped."""
        key = result.row_key
        if hold:
            self._rows[key] = Held(result)
            self._held.append(key)
        else:
            self._rows[key] = _finished(result)
            self._report.add(result)
        self._progress.row_done(result.status)

    def interrupt(self, plan: Plan, reason: str) -> None:
        """A row the run stopped before finishing."""
        state = self.state(plan)
        error = StepFailed(_next_step(state), RuntimeError(f"not finished: {reason}"))
        self.finish(finish(state, Status.INTERRUPTED, error))

    def release(self) -> None:
        """The rows held back were not an outage's after all (or the run ends): report them."""
        for key in self._held:
            row = self._rows[key]
            if isinstance(row, Held):
                self._report.add(row.result)
                self._rows[key] = _finished(row.result)
        self._held.clear()

    def interrupt_held(self, keys: Iterable[str]) -> None:
        """The rows held back failed on the portal's outage: interrupted, not failed."""
        for key in keys:
            row = self._rows.get(key)
            if isinstance(row, Held) and row.result.status is Status.FAILED:
                row.result.status = Status.INTERRUPTED
                self._progress.row_changed(Status.FAILED, Status.INTERRUPTED)

    def client_end(self, key: str) -> ClientEnd | None:
        """How a client row ended, if it has."""
        row = self._rows.get(key)
        if isinstance(row, Held) and row.result.kind == RowKind.CLIENT:
            return ClientEnd.of(row.result)
        return row.client if isinstance(row, Finished) else None


def _next_step(state: RowState) -> str:
    for step in state.plan.steps:
        if step.key not in state.outputs:
            return step.key
    return state.plan.steps[-1].key if state.plan.steps else "-"
