"""The guard: before its first write, a run counts what it would create on the portal.

A nightly job runs on whatever the export holds; the day the export is wrong (a test file,
every customer instead of the new ones) the run would create hundreds of rooms and mail
hundreds of people. The playbook's [guard] (or --max-new-rooms / --max-new-people) sets how
many rooms and people one run may create. `check()` asks the run's own portal indexes (the
rooms listed once, the people prefetched or looked up once), so the look-ups it makes are the
ones the run makes anyway: the phases that follow find them cached.

A room is new when its step is not journalled and the room index finds no room with the client's
tag nor with its title (a room with the title but not the tag fails its row; it is created
nowhere; a renamed client's room is found by its tag). A person is new when no
step journalled them and the people index does not know the address: a users-sheet person,
or a client contact the room share invites by e-mail. Each address counts once. The groups the
run would make (names of the users sheet's `groups` and the playbook's `[room] groups` that
no group of the portal has, through the run's own group index) are counted and logged, not
limited: a group mails nobody.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from bulk_onboard.engine.context import Context
from bulk_onboard.errors import ApiError, RowRefused
from bulk_onboard.model.steps import (
    EnsurePerson,
    EnsureRoom,
    JoinGroup,
    Plan,
    ShareGroups,
    ShareRoom,
)
from bulk_onboard.playbook.reader import Guard
from bulk_onboard.runs.journal import Checkpoint

log = structlog.get_logger("bulk_onboard")

LOOKUPS_AT_ONCE = 8  # the portal's read limit is 15 at once (docspace-api.md section 7)


@dataclass(frozen=True, slots=True)
class GuardCount:
    """What the run would create, against the limits; `message` is set when it may not."""

    new_rooms: int
    new_people: int
    limits: Guard
    message: str | None
    new_groups: int = 0  # counted, not limited

    def as_dict(self) -> dict[str, object]:
        return {
            "max_new_rooms": self.limits.max_new_rooms,
            "max_new_people": self.limits.max_new_people,
            "new_rooms": self.new_rooms,
            "new_people": self.new_people,
            "new_groups": self.new_groups,
            "stopped": self.message is not None,
        }


async def check(
    ctx: Context, plans: Sequence[Plan], checkpoint: Checkpoint, limits: Guard
) -> GuardCount:
    """Count the rooms and people the plans would create that the journal does not hold."""
    emails: set[str] = set()
    room_checks: list[tuple[str, EnsureRoom]] = []
    for plan in plans:
        done = checkpoint.outputs(plan.row_key)
        for step in plan.steps:
            if step.key in done:
                continue
            if isinstance(step, EnsureRoom):
                room_checks.append((plan.row_key, step))
            elif isinstance(step, EnsurePerson):
                emails.add(step.email.lower())
            elif isinstance(step, ShareRoom):
                emails.update(m.email.lower() for m in step.members if not m.by_id)
    gate = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def room_is_new(row_key: str, step: EnsureRoom) -> bool:
        async with gate:
            # the room step's own look-ups (ClientActions.room): a room carrying the client's
            # tag is the client's, whatever its title; a room with the title but not the tag
            # refuses the row; only neither is a new room
            if await ctx.rooms.by_tag(row_key):
                return False
            return not await ctx.rooms.by_title(step.title)

    async def person_is_new(email: str) -> bool:
        async with gate:
            return await ctx.people.get(email) is None

    room_new = await asyncio.gather(*(room_is_new(row, step) for row, step in room_checks))
    rooms = {row for (row, _), new in zip(room_checks, room_new, strict=True) if new}
    people = sum(await asyncio.gather(*(person_is_new(e) for e in sorted(emails))))
    new_groups = await _new_groups(ctx, plans, checkpoint, gate)
    message = _message(len(rooms), people, limits)
    count = GuardCount(len(rooms), people, limits, message, new_groups)
    log.info("guard_checked", **count.as_dict())
    return count


async def _new_groups(
    ctx: Context, plans: Sequence[Plan], checkpoint: Checkpoint, gate: asyncio.Semaphore
) -> int:
    """The group names of steps the journal does not hold that no portal group has."""
    names: set[str] = set()
    for plan in plans:
        done = checkpoint.outputs(plan.row_key)
        for step in plan.steps:
            if isinstance(step, JoinGroup | ShareGroups) and step.key not in done:
                names.update(step.groups if isinstance(step, ShareGroups) else (step.name,))

    async def is_new(name: str) -> bool:
        async with gate:
            try:
                return await ctx.groups.named(name) is None
            except (ApiError, RowRefused):
                return False  # the group step fails its rows with the reason

    return sum(await asyncio.gather(*(is_new(name) for name in sorted(names))))


def _message(rooms: int, people: int, limits: Guard) -> str | None:
    over: list[tuple[str, int, int, str]] = []
    if limits.max_new_rooms is not None and rooms > limits.max_new_rooms:
        over.append(("rooms", rooms, limits.max_new_rooms, "--max-new-rooms"))
    if limits.max_new_people is not None and people > limits.max_new_people:
        over.append(("people", people, limits.max_new_people, "--max-new-people"))
    if not over:
        return None
    found = " and ".join(f"{n:,} {what}" for what, n, _, _ in over)
    allows = " and ".join(f"{limit:,} {what}" for what, _, limit, _ in over)
    options = " ".join(f"{option} {_round_up(n)}" for _, n, _, option in over)
    return (
        f"this export would create {found}; the guard allows {allows}; "
        f"check the export or run with {options}"
    )


def _round_up(n: int) -> int:
    """A limit a person would type: 1,843 → 2000, 61 → 70, 7 → 7."""
    if n < 10:
        return n
    step = 10 ** (len(str(n)) - 1)
    return int(-(-n // step) * step)
