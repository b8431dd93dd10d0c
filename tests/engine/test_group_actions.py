"""GroupActions against a portal stand-in: one POST for rows asking at once, and the rows the
portal answers in ways the sandbox cannot be made to (a guest, a member it skipped)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import pytest

from bulk_onboard.api.models import (
    ACTIVE,
    DOCSPACE_ADMIN,
    GUEST,
    USER,
    Group,
    Person,
    ShareReply,
)
from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.engine.actions.groups import GroupActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import ExactlyOnce, Look
from bulk_onboard.engine.row import RowState
from bulk_onboard.errors import RowRefused
from bulk_onboard.model.outputs import GroupShareOut
from bulk_onboard.model.records import Access, Origin, RowKind
from bulk_onboard.model.steps import EnsurePerson, EnsureRoom, JoinGroup, Plan, Ref, ShareGroups
from bulk_onboard.runs.journal import Checkpoint, Journal


class Portal:
    """Groups, people and the calls made; `skips` are ids PUT group/{id}/members leaves out."""

    def __init__(self, people: dict[str, Person], skips: Iterable[str] = ()) -> None:
        self.people = people
        self.skips = set(skips)
        self.groups: dict[str, Group] = {}
        self.posts = 0
        self.shared: dict[int, dict[str, int]] = {}

    async def me(self) -> Person:
        return Person("me", DOCSPACE_ADMIN, ACTIVE, True)

    async def listed_people(self, start_index: int = 0, count: int = 100) -> tuple[list, int]:
        return list(self.people.items()), len(self.people)

    async def groups_named(self, name: str) -> list[Group]:
        await asyncio.sleep(0.01)  # long enough for every row to ask at once
        return [g for g in self.groups.values() if g.name == name]

    async def new_group(self, name: str) -> Group:
        self.posts += 1
        await asyncio.sleep(0.01)
        group = Group(f"g{self.posts}", name, frozenset())
        self.groups[group.id] = group
        return group

    async def group(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    async def group_shares(self, room_id: int) -> list[tuple[str, int]]:
        return list(self.shared.get(room_id, {}).items())

    async def share_room(
        self, room_id: int, invitations: Iterable[tuple[str, int]], notify: bool = False
    ) -> ShareReply:
        assert notify is False  # groups are shared without mail
        pairs = dict(invitations)
        self.shared.setdefault(room_id, {}).update(pairs)
        return ShareReply(member_ids=frozenset(pairs))

    async def add_to_group(self, group_id: str, user_ids: Iterable[str]) -> Group:
        old = self.groups[group_id]
        added = {u for u in user_ids if u not in self.skips}
        self.groups[group_id] = Group(old.id, old.name, (old.members or frozenset()) | added)
        return self.groups[group_id]


def _row(email: str, person_id: str) -> tuple[RowState, JoinGroup]:
    step = JoinGroup(JoinGroup.key_for("Ops"), "Ops", Ref(EnsurePerson.KEY, "id"), email)
    plan = Plan(f"user:{email}", RowKind.USER, Origin("u.csv", None, 2), (step,))
    state = RowState(plan=plan, values=())
    state.outputs[EnsurePerson.KEY] = {"id": person_id}
    return state, step


def _actions(
    portal: Portal, tmp_path: Path, checkpoint: Checkpoint | None = None
) -> tuple[GroupActions, Journal]:
    journal = Journal(tmp_path / "journal.jsonl")
    ctx = Context(cast(PortalClient, portal))
    once = ExactlyOnce(journal, checkpoint or Checkpoint(), RetryPolicy.immediate())
    return GroupActions(ctx, once), journal


async def test_rows_asking_at_once_share_one_post_and_one_row_made_it(tmp_path: Path) -> None:
    people = {f"p{n}@x.example": Person(f"u{n}", USER, ACTIVE, True) for n in range(5)}
    portal = Portal(people)
    actions, journal = _actions(portal, tmp_path)
    rows = [_row(email, person.id) for email, person in people.items()]
    with journal:
        done = await asyncio.gather(*(actions.join(s, step, Look.FIRST) for s, step in rows))
    assert portal.posts == 1
    assert sorted(d.outcome for d in done) == ["changed"] * 4 + ["created"]
    assert portal.groups["g1"].members == frozenset(p.id for p in people.values())


async def test_a_member_the_portal_skipped_fails_the_row_with_a_sentence(tmp_path: Path) -> None:
    portal = Portal({"d@x.example": Person("u1", USER, ACTIVE, True)}, skips={"u1"})
    actions, journal = _actions(portal, tmp_path)
    state, step = _row("d@x.example", "u1")
    with journal, pytest.raises(RowRefused) as refused:
        await actions.join(state, step, Look.FIRST)
    assert str(refused.value).startswith(
        'the portal did not add d@x.example to the group "Ops": it skips guests and disabled '
        "accounts without an error"
    )


async def test_a_guest_is_told_groups_take_no_guests(tmp_path: Path) -> None:
    portal = Portal({"g@x.example": Person("u1", GUEST, ACTIVE, True)})
    actions, journal = _actions(portal, tmp_path)
    state, step = _row("g@x.example", "u1")
    with journal, pytest.raises(RowRefused, match="DocSpace groups take no guests"):
        await actions.join(state, step, Look.FIRST)
    assert portal.posts == 0  # nothing made for a row that cannot join


async def test_a_group_a_stopped_attempt_set_out_to_make_counts_as_made(tmp_path: Path) -> None:
    """The run stopped after journalling its intent and before the POST's answer: on resume
    the group is found, and the row still made it (undo takes it back)."""
    portal = Portal({"a@x.example": Person("u1", USER, ACTIVE, True)})
    portal.groups["g9"] = Group("g9", "Ops", frozenset())  # the POST had landed
    before = Checkpoint()
    before.add("user:a@x.example", "group:Ops~intent", {}, "intent")
    actions, journal = _actions(portal, tmp_path, before)
    state, step = _row("a@x.example", "u1")
    with journal:
        done = await actions.join(state, step, Look.FIRST)
    assert done.outcome == "created" and portal.posts == 0


async def test_a_room_shared_with_a_group_its_stopped_attempt_made(tmp_path: Path) -> None:
    portal = Portal({})
    portal.groups["g9"] = Group("g9", "Ops", frozenset())
    before = Checkpoint()
    before.add("client:C-1", "groups:Ops~intent", {}, "intent")  # one intent per group
    actions, journal = _actions(portal, tmp_path, before)
    step = ShareGroups(ShareGroups.KEY, Ref(EnsureRoom.KEY, "id"), ("Ops",), Access.READ)
    plan = Plan("client:C-1", RowKind.CLIENT, Origin("c.csv", None, 2), (step,))
    state = RowState(plan=plan, values=())
    state.outputs[EnsureRoom.KEY] = {"id": 7}
    with journal:
        done = await actions.share(state, step, Look.FIRST)
    assert done.outcome == "created" and portal.posts == 0
    out = GroupShareOut.from_json(done.outputs)
    assert out.created == (("g9", "Ops"),) and out.added == ("g9",)
    assert portal.shared == {7: {"g9": 2}}
