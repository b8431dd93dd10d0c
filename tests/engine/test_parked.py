"""A person row parked between its person step and its membership comes back as it was."""

from __future__ import annotations

import dataclasses

from bulk_onboard.engine.row import RowState, StepDone
from bulk_onboard.engine.rows import Parked
from bulk_onboard.model.records import Origin, RowKind
from bulk_onboard.model.steps import Plan


def test_a_parked_row_comes_back_with_everything_but_its_plan() -> None:
    plan = Plan("user:a@example.com", RowKind.USER, Origin("users.csv", None, 2), ())
    state = RowState(plan=plan, values=(("email", "a@example.com"),))
    state.outputs["person"] = {"id": "u-1"}
    state.outcomes["person"] = "created"
    state.hints["person"] = {"id": "u-0"}
    state.attempted["person"] = StepDone({"id": "u-1"}, "created")
    state.note("the name was kept as the portal had it")
    state.requests, state.attempts, state.journal_stale = 3, 4, True
    back = Parked.of(state).state(plan, state.values)
    # every field a RowState has, so a field added later is not lost while a row waits
    for f in dataclasses.fields(RowState):
        assert getattr(back, f.name) == getattr(state, f.name), f.name
    assert back.outputs is not state.outputs
