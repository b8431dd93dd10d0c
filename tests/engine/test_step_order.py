"""Which of a row's steps may run now (engine/step_order.py), as tables: what each step of
the plans the playbooks make waits for, which are ready given what is done and started, the
order the report lists outputs in, and the failure a row ends with when steps failed side by
side (engine/step_runner.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bulk_onboard.engine.exactly_once import StillUncertain
from bulk_onboard.engine.step_order import in_plan_order, ready, waits_for
from bulk_onboard.engine.step_runner import StepRunner, first_failure
from bulk_onboard.engine.step_table import AFTER
from bulk_onboard.errors import RowRefused, StepFailed
from bulk_onboard.model.records import Access, LinkType, Origin, RoomType, RowKind, UserType
from bulk_onboard.model.steps import (
    AnnounceCrm,
    CopyFile,
    CopySkeleton,
    EnsureFolder,
    EnsureLink,
    EnsurePerson,
    EnsureRoom,
    FindRoom,
    FolderPath,
    JoinGroup,
    JoinRoom,
    Member,
    NameContact,
    Plan,
    Ref,
    ShareGroups,
    ShareRoom,
    Step,
)

ROOM = Ref("room", "id")
F1, F2 = EnsureFolder("folder:A", ROOM, "A"), EnsureFolder("folder:B", ROOM, "B")
C1 = CopyFile("copy:x.pdf", 1, Ref("folder:A", "id"), "x.pdf")
C2 = CopyFile("copy:y.pdf", 2, ROOM, "y.pdf")
MEMBERS = (Member("m@x.example", Access.READ_WRITE, by_id=True),)
CLIENT: tuple[Step, ...] = (
    EnsureRoom("room", "Acme", RoomType.CUSTOM, ("client:K-1",)),
    F1,
    F2,
    C1,
    C2,
    NameContact("contact", "it@acme.example", "Ana", "Lee"),
    ShareRoom("share", ROOM, MEMBERS, notify=False, message=None, culture=None),
    ShareGroups("groups", ROOM, ("Sales",), Access.READ),
    EnsureLink("link", ROOM, LinkType.EXTERNAL, Access.READ, "Link"),
    AnnounceCrm("crm", (("room_id", ROOM), ("folder_ids", (Ref("folder:A", "id"),)))),
)
PERSON = Ref("person", "id")
USER: tuple[Step, ...] = (
    FindRoom("room", "Old room"),
    EnsurePerson("person", "bo@x.example", "Bo", "Li", UserType.USER, None),
    JoinGroup("group:Sales", "Sales", PERSON, "bo@x.example"),
    JoinGroup("group:Ops", "Ops", PERSON, "bo@x.example"),
    JoinRoom("membership", Ref("room", "id", row="client:K-9"), PERSON, "bo@x.example",
             Access.READ_WRITE, notify=False),
)  # fmt: skip


@pytest.mark.parametrize(
    ("key", "waits"),
    [
        ("room", set()),
        ("folder:A", {"room"}),
        ("folder:B", {"room"}),
        ("copy:x.pdf", {"folder:A"}),  # its folder's Ref
        ("copy:y.pdf", {"room"}),  # a copy into the room itself
        ("contact", {"room"}),  # nothing made for a room that is not there
        ("share", {"room", "contact"}),  # the named guest before the share's e-mail entry
        ("groups", {"room", "share"}),
        ("link", {"room"}),
        ("crm", {k.key for k in CLIENT} - {"crm"}),  # after all DocSpace work
    ],
)
def test_what_each_step_of_a_client_row_waits_for(key: str, waits: set[str]) -> None:
    assert waits_for(CLIENT, AFTER)[key] == waits


@pytest.mark.parametrize(
    ("key", "waits"),
    [
        ("room", set()),
        ("person", {"room"}),  # the room it joins is looked up before anyone is made
        ("group:Sales", {"person"}),
        ("group:Ops", {"person"}),
        ("membership", {"person"}),  # another row's room is that row's business
    ],
)
def test_what_each_step_of_a_person_row_waits_for(key: str, waits: set[str]) -> None:
    assert waits_for(USER, AFTER)[key] == waits


def test_only_the_steps_run_now_are_waited_for() -> None:
    """A phase that runs some of the row's steps (the announcement after the clients phase,
    a row taken up again) waits for none of the others."""
    assert waits_for((CLIENT[-1],), AFTER) == {"crm": frozenset()}
    assert waits_for(CLIENT[3:5], AFTER) == {"copy:x.pdf": frozenset(), "copy:y.pdf": frozenset()}


def test_a_skeletons_fallback_steps_are_not_the_rows_steps() -> None:
    skeleton = CopySkeleton("skeleton", ROOM, FolderPath("Templates", ("S",)), (F1, C1))
    assert waits_for((CLIENT[0], skeleton), AFTER)["skeleton"] == {"room"}


NEEDS = waits_for(CLIENT, AFTER)
ALL = {s.key for s in CLIENT}


@pytest.mark.parametrize(
    ("done", "started", "now"),
    [
        (set(), set(), ["room"]),
        (set(), {"room"}, []),  # the room in flight: nothing else can go
        ({"room"}, {"room"}, ["folder:A", "folder:B", "copy:y.pdf", "contact", "link"]),
        ({"room"}, {"room", "folder:A", "contact"}, ["folder:B", "copy:y.pdf", "link"]),
        ({"room", "folder:A"}, {"room", "folder:A"}, ["folder:B", "copy:x.pdf", "copy:y.pdf",
                                                       "contact", "link"]),
        ({"room", "contact"}, {"room", "contact"}, ["folder:A", "folder:B", "copy:y.pdf",
                                                     "share", "link"]),
        ({"room", "contact", "share"}, {"room", "contact", "share"},
         ["folder:A", "folder:B", "copy:y.pdf", "groups", "link"]),
        (ALL - {"crm", "link"}, ALL - {"crm"}, []),  # the link in flight: the CRM waits
        (ALL - {"crm"}, ALL - {"crm"}, ["crm"]),
        (ALL, ALL, []),
    ],
)  # fmt: skip
def test_which_steps_are_ready(done: set[str], started: set[str], now: list[str]) -> None:
    assert [s.key for s in ready(CLIENT, NEEDS, done, started)] == now


def test_every_step_of_a_client_row_gets_its_turn_and_waits_form_no_circle() -> None:
    done: set[str] = set()
    rounds = []
    while ready(CLIENT, NEEDS, done, done):
        batch = {s.key for s in ready(CLIENT, NEEDS, done, done)}
        rounds.append(batch)
        done |= batch
    assert done == ALL
    assert rounds[:2] == [{"room"}, {"folder:A", "folder:B", "copy:y.pdf", "contact", "link"}]
    assert len(rounds) == 5  # room; folders, contact, link; copy, share; groups; crm


def test_outputs_are_listed_in_plan_order_whatever_order_the_steps_finished_in() -> None:
    skeleton = CopySkeleton("skeleton", ROOM, FolderPath("Templates", ("S",)), (F1, C1))
    plan = Plan("client:K-1", RowKind.CLIENT, Origin("c.csv", None, 2), (CLIENT[0], skeleton,
                CLIENT[8]))  # fmt: skip
    outputs = {"link": 1, "skeleton": 2, "copy:x.pdf": 3, "room": 4, "folder:A": 5, "x": 6}
    in_plan_order(plan, outputs)
    assert list(outputs) == ["room", "folder:A", "copy:x.pdf", "skeleton", "link", "x"]


def _uncertain(step: str, deadline: float) -> StepFailed:
    return StepFailed(step, StillUncertain(deadline, 1.0))


@pytest.mark.parametrize(
    ("failures", "ends_with"),
    [
        ([_uncertain("folder:A", 5.0)], "folder:A"),
        ([_uncertain("folder:A", 5.0), _uncertain("folder:B", 7.0)], "folder:B"),  # waits longest
        ([_uncertain("folder:A", 5.0), StepFailed("link", RowRefused("no"))], "link"),  # fails
        ([StepFailed("link", RowRefused("no")), StepFailed("share", RowRefused("no"))], "link"),
        ([StepFailed("link", RowRefused("no")), KeyError("bug")], "bug"),
    ],
)
def test_the_failure_a_row_ends_with_when_steps_failed_side_by_side(
    failures: list[BaseException], ends_with: str
) -> None:
    ended = first_failure(failures)
    assert (ended.step if isinstance(ended, StepFailed) else str(ended.args[0])) == ends_with


class _FailsInOneTurn(StepRunner):
    """The link's write is refused for the day; the copy, waiting to send, is then held back
    for it: both fail in one turn of the loop, the later in plan order first."""

    def __init__(self) -> None:
        self.refused = asyncio.Event()

    async def run_step(self, state: Any, step: Step) -> None:
        if step.key == "link":
            self.refused.set()
            raise StepFailed("link", RuntimeError("refused for the day"))
        await self.refused.wait()
        raise StepFailed(step.key, RuntimeError("held back: the day's writes are spent"))


@pytest.mark.parametrize("attempt", range(20))  # asyncio.wait returns a set: any order
async def test_a_row_ends_with_the_failure_that_happened_first(attempt: int) -> None:
    with pytest.raises(StepFailed) as ended:
        await _FailsInOneTurn()._run_ready(None, (C2, CLIENT[-2]))
    assert ended.value.step == "link"
