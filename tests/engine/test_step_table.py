"""The step table: every step kind a plan can hold has its line, and what it says is what
runs; a planned step of a kind the table does not list fails its row."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, cast

import pytest

from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.engine.actions.client import ClientActions
from bulk_onboard.engine.actions.crm import CrmActions
from bulk_onboard.engine.actions.invitations import Inviter
from bulk_onboard.engine.actions.people import MembershipActions, PersonActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import ExactlyOnce
from bulk_onboard.engine.row import RowState
from bulk_onboard.engine.step_runner import StepRunner
from bulk_onboard.engine.step_table import (
    BY_STEP,
    STEP_KINDS,
    Actions,
    actions_of,
    phase_steps,
)
from bulk_onboard.errors import StepFailed
from bulk_onboard.model.outputs import StepOutput
from bulk_onboard.model.records import Origin, RowKind
from bulk_onboard.model.steps import STEP_TYPES, JoinRoom, Plan, Step, output_type
from bulk_onboard.runs.journal import Checkpoint, Journal


def test_every_planned_step_type_has_a_line_in_the_table() -> None:
    planned = set(typing.get_args(Step))
    assert planned == set(STEP_TYPES)
    missing = [kind.__name__ for kind in planned if kind not in BY_STEP]
    assert missing == []
    assert len(STEP_KINDS) == len(BY_STEP)  # one line per kind


def test_every_step_kind_runs_in_exactly_one_phase() -> None:
    phases = ("people", "clients", "memberships", "announcements")
    listed = [kind for phase in phases for kind in phase_steps(phase)]
    assert sorted(k.__name__ for k in listed) == sorted(k.__name__ for k in STEP_TYPES)
    assert phase_steps("memberships") == (JoinRoom,)
    assert [k.step for k in STEP_KINDS if k.grouped] == [JoinRoom]


def test_a_journal_key_names_the_output_of_its_step_kind() -> None:
    for kind in STEP_KINDS:
        key = kind.key + "Title" if kind.key.endswith(":") else kind.key
        assert output_type(key) is kind.step.OUTPUT
    assert output_type("room~intent") is None


def _actions(tmp_path: Path, *, crm: bool) -> tuple[Actions, Journal]:
    ctx = Context(cast(PortalClient, object()))
    journal = Journal(tmp_path / "journal.jsonl")
    once = ExactlyOnce(journal, Checkpoint(), RetryPolicy.immediate())
    announce = (
        CrmActions(ctx, cast(typing.Any, None), cast(typing.Any, None), run_id="r", portal_url="u")
        if crm
        else None
    )
    people = PersonActions(ctx, once, Inviter(ctx, once))
    return Actions(ClientActions(ctx, once), people, MembershipActions(ctx), announce), journal


def test_the_registry_has_an_action_for_every_kind(tmp_path: Path) -> None:
    actions, journal = _actions(tmp_path, crm=True)
    with journal:
        registry = actions_of(actions)
    ran = {**registry.actions, **registry.groups}
    assert set(ran) == set(STEP_TYPES)
    assert set(registry.groups) == {JoinRoom}


def test_without_a_crm_sink_nothing_runs_the_announcement(tmp_path: Path) -> None:
    actions, journal = _actions(tmp_path, crm=False)
    with journal:
        registry = actions_of(actions)
    assert {k.__name__ for k in STEP_TYPES} - {k.__name__ for k in registry.actions} == {
        "AnnounceCrm",
        "JoinRoom",
    }


@dataclass(frozen=True, slots=True)
class Mystery:
    """A step kind a plan could hold but the table does not list."""

    KEY: ClassVar[str] = "mystery"
    OUTPUT: ClassVar[type[StepOutput] | None] = None

    key: str


async def test_a_planned_step_the_table_does_not_list_fails_its_row(tmp_path: Path) -> None:
    actions, journal = _actions(tmp_path, crm=False)
    with journal:
        runner = StepRunner(
            ExactlyOnce(journal, Checkpoint(), RetryPolicy.immediate()), actions_of(actions)
        )
        steps = cast(tuple[Step, ...], (Mystery("mystery"),))
        plan = Plan("client:C-1", RowKind.CLIENT, Origin("c.csv", None, 2), steps)
        state = RowState(plan=plan, values=())
        with pytest.raises(StepFailed) as failed:
            await runner.run_row(state, phase_steps("clients"))
    assert failed.value.step == "mystery"
    assert "Mystery" in str(failed.value.cause)
    assert state.outcomes == {}  # never reported as done
