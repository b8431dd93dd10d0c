"""People and their rooms: ensure each person once, invite in batches, join rooms per room.

A person the portal knows gets no mail. A new person with names is created with POST people
and their user type (the portal sends the activation mail); new people without names are
invited in batches with POST people/invite. Memberships are grouped per room: one look at the
room's members and one share request per room and batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog

from bulk_onboard.engine.actions.client import check_share_reply, current_members
from bulk_onboard.errors import AmbiguousWrite, ApiError, PermanentError
from bulk_onboard.engine.step_runner import Context, RowState, StepDone, StepFailed, journalled
from bulk_onboard.model.steps import EnsurePerson, FindRoom, JoinRoom

log = structlog.get_logger("bulk_onboard")

Json = dict[str, Any]


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

    def __init__(self, ctx: Context, *, batch_size: int = 50, linger: float = 0.05) -> None:
        self.ctx = ctx
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
        task = asyncio.get_running_loop().create_task(self._send(batch.items, culture))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, items: list[_Pending], culture: str | None) -> None:
        waiting = list(items)
        try:
            for attempt in range(1, self.ctx.ambiguous_attempts + 1):
                try:
                    await self.ctx.client.invite_users(
                        [(p.email, p.user_type) for p in waiting], culture=culture
                    )
                    break
                except AmbiguousWrite as exc:
                    log.warning(
                        "ambiguous_write", emails=len(waiting), attempt=attempt, error=str(exc)
                    )
                    if attempt == self.ctx.ambiguous_attempts:
                        raise
                    await self.ctx.pause_before_recheck(attempt)
                    # Who did the portal take? Only the others are invited again.
                    still = []
                    for p in waiting:
                        if await self.ctx.people.refresh(p.email) is None:
                            still.append(p)
                        else:
                            p.done.set_result(None)
                    waiting = still
                    if not waiting:
                        break
            for p in waiting:
                p.done.set_result(None)
        except Exception as exc:  # noqa: BLE001 - every waiter learns its batch's outcome
            for p in waiting:
                if not p.done.done():
                    p.done.set_exception(exc)


class PersonSteps:
    """EnsurePerson for a user row."""

    def __init__(self, ctx: Context, inviter: Inviter) -> None:
        self.ctx = ctx
        self.inviter = inviter

    async def run(self, state: RowState) -> None:
        """The person, after the existing room they join (if any) is known to exist, so a
        wrong room title fails the row before anybody is created or mailed."""
        for step in state.plan.steps:
            if isinstance(step, FindRoom):
                await self.ctx.run_step(state, step, partial(self.find_room, step))
            elif isinstance(step, EnsurePerson):
                await self.ctx.run_step(state, step, partial(self.person, step))

    async def find_room(self, step: FindRoom, recheck: bool) -> StepDone:
        room_id = await find_room_by_title(self.ctx, step.title)
        return StepDone({"id": room_id, "title": step.title}, "found")

    async def person(self, step: EnsurePerson, recheck: bool) -> StepDone:
        people = self.ctx.people
        async with people.lock(step.email):
            person = await (people.refresh(step.email) if recheck else people.get(step.email))
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
        return int(rooms[0]["id"])
    if not rooms:
        raise PermanentError(
            f'no room titled "{title}" exists in the portal; use a client_id of the clients '
            "sheet or the exact title of an existing room",
            method="-",
            path="-",
        )
    raise PermanentError(
        f'{len(rooms)} rooms are titled "{title}"; rename them in DocSpace so the title names '
        "one room",
        method="-",
        path="-",
    )


@dataclass
class Joiner:
    """One user row waiting for its membership."""

    state: RowState
    step: JoinRoom
    find: FindRoom | None


class MembershipSteps:
    """JoinRoom for many user rows of one room: one member listing, one share per batch."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def run_room(self, joiners: Sequence[Joiner]) -> dict[str, StepFailed]:
        """Join every joiner to its (shared) room; returns the failures by row key."""
        ctx = self.ctx
        failures: dict[str, StepFailed] = {}
        first = joiners[0]
        try:
            room_id = await self._room_id(first)
        except PermanentError as exc:
            return {j.state.plan.row_key: StepFailed(j.step.key, exc) for j in joiners}
        todo = []
        for joiner in joiners:
            done = ctx.checkpoint.outputs(joiner.state.plan.row_key).get(joiner.step.key)
            if done is not None:
                joiner.state.outputs[joiner.step.key] = done
                joiner.state.outcomes[joiner.step.key] = journalled(
                    ctx.checkpoint.outcome(joiner.state.plan.row_key, joiner.step.key)
                )
            else:
                todo.append(joiner)
        recheck = False
        for attempt in range(1, ctx.ambiguous_attempts + 1):
            try:
                await self._join(room_id, todo, recheck)
                break
            except AmbiguousWrite as exc:
                log.warning("ambiguous_write", room=room_id, step="membership", attempt=attempt)
                if attempt == ctx.ambiguous_attempts:
                    return {j.state.plan.row_key: StepFailed(j.step.key, exc) for j in todo}
                recheck = True
                await ctx.pause_before_recheck(attempt)
            except ApiError as exc:  # permanent, fatal, budget spent, retries exhausted
                return {j.state.plan.row_key: StepFailed(j.step.key, exc) for j in todo}
        return failures

    async def _room_id(self, joiner: Joiner) -> int:
        return int(self.ctx.resolve(joiner.step.room, joiner.state))

    async def _join(self, room_id: int, joiners: Sequence[Joiner], recheck: bool) -> None:
        ctx = self.ctx
        if recheck:
            ctx.forget_room(room_id)
        current = await current_members(ctx, room_id)
        invitations: list[tuple[str, int]] = []
        changed: list[Joiner] = []
        for joiner in joiners:
            person_id = str(ctx.resolve(joiner.step.person, joiner.state))
            have = current.get(joiner.step.email.lower())
            if have is not None and have[1] == int(joiner.step.access):
                # On a second look, an ambiguous share that was applied after all.
                self._done(joiner, "changed" if recheck else "found")
                continue
            invitations.append((person_id, int(joiner.step.access)))
            changed.append(joiner)
        if not invitations:
            return
        notify = any(j.step.notify for j in changed)
        reply = await ctx.client.set_room_share(room_id, invitations, notify=notify)
        check_share_reply(reply, room_id)
        for (person_id, access), joiner in zip(invitations, changed, strict=True):
            current[joiner.step.email.lower()] = (person_id, access)
            self._done(joiner, "changed")

    def _done(self, joiner: Joiner, outcome: str) -> None:
        key = joiner.step.key
        joiner.state.outputs[key] = {}
        joiner.state.outcomes[key] = outcome  # type: ignore[assignment]
        self.ctx.journal.record(joiner.state.plan.row_key, key, {}, outcome)
