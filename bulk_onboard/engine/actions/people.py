"""People and their rooms: ensure each person once, invite in batches, join rooms per room.

A person the portal knows gets no mail. A new person with names is created with POST people
and their user type (the portal sends the activation mail); new people without names are
invited in batches with POST people/invite. Memberships are grouped per room: one look at the
room's members and one share request per room and batch.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from dataclasses import dataclass, field

from bulk_onboard.engine.context import Context, check_share_reply
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.engine.step_runner import Action, StepRunner
from bulk_onboard.errors import PermanentError, RowRefused
from bulk_onboard.model.steps import EnsurePerson, FindRoom, JoinRoom, Step

# The step kinds of a user row that run in the people phase; JoinRoom runs per room, later.
PERSON_STEPS: tuple[type[Step], ...] = (FindRoom, EnsurePerson)


@dataclass
class _Pending:
    email: str
    user_type: int
    done: asyncio.Future[None]


@dataclass
class _Batch:
    items: list[_Pending] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class Inviter:
    """Collect invitations for a moment and send them as one POST people/invite per culture."""

    def __init__(
        self, ctx: Context, runner: StepRunner, *, batch_size: int = 50, linger: float = 0.05
    ) -> None:
        self.ctx = ctx
        self.runner = runner
        self.batch_size = batch_size
        self.linger = linger
        self._open: dict[str | None, _Batch] = {}
        self._sending: set[asyncio.Task[None]] = set()

    async def invite(self, email: str, user_type: int, culture: str | None) -> None:
        loop = asyncio.get_running_loop()
        pending = _Pending(email, user_type, loop.create_future())
        batch = self._open.setdefault(culture, _Batch())
        batch.items.append(pending)
        if len(batch.items) >= self.batch_size:
            self._flush(culture)
        elif batch.timer is None:
            batch.timer = loop.call_later(self.linger, self._flush, culture)
        await pending.done

    def _flush(self, culture: str | None) -> None:
        batch = self._open.pop(culture, None)
        if batch is None:
            return
        if batch.timer is not None:
            batch.timer.cancel()
        # A batch belongs to no one row: it runs in a context of its own, so its log lines do
        # not carry the row whose invitation happened to open the batch.
        task = asyncio.get_running_loop().create_task(
            self._send(batch.items, culture), context=contextvars.Context()
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, items: list[_Pending], culture: str | None) -> None:
        waiting = list(items)

        async def attempt(recheck: bool) -> None:
            nonlocal waiting
            if recheck:
                # Who did the portal take? Only the others are invited again.
                still = []
                for pending in waiting:
                    if await self.ctx.people.refresh(pending.email) is None:
                        still.append(pending)
                    else:
                        pending.done.set_result(None)
                waiting = still
            if waiting:
                await self.ctx.client.invite_users(
                    [(p.email, p.user_type) for p in waiting], culture=culture
                )

        try:
            await self.runner.confirm(attempt, emails=len(waiting), step="invite")
            for pending in waiting:
                pending.done.set_result(None)
        except Exception as exc:
            for pending in waiting:
                if not pending.done.done():
                    pending.done.set_exception(exc)


class PersonActions:
    """FindRoom and EnsurePerson of a user row. The plan puts FindRoom first, so a wrong room
    title fails the row before anybody is created or mailed."""

    def __init__(self, ctx: Context, inviter: Inviter) -> None:
        self.ctx = ctx
        self.inviter = inviter

    def actions(self) -> dict[type[Step], Action]:
        return {FindRoom: self.find_room, EnsurePerson: self.person}

    async def find_room(self, state: RowState, step: FindRoom, recheck: bool) -> StepDone:
        room_id = await find_room_by_title(self.ctx, step.title)
        return StepDone({"id": room_id, "title": step.title}, "found")

    async def person(self, state: RowState, step: EnsurePerson, recheck: bool) -> StepDone:
        people = self.ctx.people
        async with people.lock(step.email):
            if recheck:  # a create the portal may apply late: look more than once
                person = await self.ctx.look_again.find(lambda: people.refresh(step.email))
            else:
                person = await people.get(step.email)
            if person is not None:
                return StepDone({"id": person["id"]}, "created" if recheck else "found")
            if step.first_name and step.last_name:
                try:
                    person = await self.ctx.client.add_member(
                        step.email,
                        step.first_name,
                        step.last_name,
                        int(step.user_type),
                        step.culture,
                    )
                except PermanentError as exc:
                    if "already registered" not in exc.message:
                        raise
                    person = await people.refresh(step.email)  # someone else made them meanwhile
                    if person is None:
                        raise
                    return StepDone({"id": person["id"]}, "found")
                people.put(step.email, person)
                return StepDone({"id": person["id"]}, "created")
            await self.inviter.invite(step.email, int(step.user_type), step.culture)
            person = await people.refresh(step.email)
            if person is None:
                raise PermanentError(
                    f"the portal accepted the invitation of {step.email} but does not list them; "
                    "check the portal's invitation settings",
                    method="POST",
                    path="/api/2.0/people/invite",
                )
            return StepDone({"id": person["id"]}, "created")


async def find_room_by_title(ctx: Context, title: str) -> int:
    """The one existing room with exactly this title."""
    rooms = await ctx.rooms.by_title(title)
    if len(rooms) == 1:
        return rooms[0].id
    if not rooms:
        raise RowRefused(
            f'no room titled "{title}" exists in the portal; use a client_id of the clients '
            "sheet or the exact title of an existing room"
        )
    raise RowRefused(
        f'{len(rooms)} rooms are titled "{title}"; rename them in DocSpace so the title names '
        "one room"
    )


class MembershipActions:
    """JoinRoom for many user rows of one room: one member listing, one share per batch."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def join(
        self, members: Sequence[tuple[RowState, Step]], recheck: bool
    ) -> dict[str, StepDone]:
        """Join every member to its (shared) room; the outcome of each by row key."""
        ctx = self.ctx
        joins = [(state, step) for state, step in members if isinstance(step, JoinRoom)]
        first_state, first_step = joins[0]
        room_id = int(ctx.resolve(first_step.room, first_state))
        if recheck:
            ctx.forget_room(room_id)
        current = await ctx.room_members(room_id)
        done: dict[str, StepDone] = {}
        invitations: list[tuple[str, int]] = []
        changed: list[tuple[RowState, JoinRoom]] = []
        for state, step in joins:
            person_id = str(ctx.resolve(step.person, state))
            have = current.get(step.email.lower())
            if have is not None and have[1] == int(step.access):
                # On a second look, an ambiguous share that was applied after all.
                outcome: Outcome = "changed" if recheck else "found"
                done[state.plan.row_key] = StepDone({}, outcome)
                continue
            invitations.append((person_id, int(step.access)))
            changed.append((state, step))
        if invitations:
            notify = any(step.notify for _, step in changed)
            reply = await ctx.client.set_room_share(room_id, invitations, notify=notify)
            check_share_reply(reply, room_id)
            for (person_id, access), (state, step) in zip(invitations, changed, strict=True):
                current[step.email.lower()] = (person_id, access)
                done[state.plan.row_key] = StepDone({}, "changed")
        return done
