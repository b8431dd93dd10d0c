"""People and their rooms: ensure each person once, invite in batches, join rooms per room.

A person the portal knows gets no mail, except the portal's "type changed" notice when the
sheet asks for a higher type than the portal has (a type is raised, never lowered: PUT
people/type, docspace-api.md 10.5); a disabled account fails its row. A new person with names
is created with POST people and their user type (the portal sends the activation mail); new
people without names are invited with POST people/invite, in full batches sent before the
people phase (the answer lists every pending user of the portal, so fewer requests also means
far fewer bytes). Memberships are grouped per room: one look at the room's members and one
share request per room and batch, shaped by actions/shares so nobody is mailed twice.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bulk_onboard.engine.actions import shares
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.portal_cache import ACTIVE, TYPE_RANK, Person
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.engine.step_runner import Action, StepRunner
from bulk_onboard.errors import PermanentError, RowRefused
from bulk_onboard.model.records import UserType
from bulk_onboard.model.steps import EnsurePerson, FindRoom, JoinRoom, Step
from bulk_onboard.model.words import USER_TYPE_NAMES

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
    """Invite people without names: those of the whole input up front, in full batches (one
    POST people/invite per culture and 50 addresses); any others as they come, collected for
    a moment."""

    def __init__(
        self, ctx: Context, runner: StepRunner, *, batch_size: int = 50, linger: float = 0.05
    ) -> None:
        self.ctx = ctx
        self.runner = runner
        self.batch_size = batch_size
        self.linger = linger
        self._open: dict[str | None, _Batch] = {}
        self._sending: set[asyncio.Task[None]] = set()
        # Addresses invited up front: None when the portal took them, else what failed.
        self._up_front: dict[str, BaseException | None] = {}

    async def invite_up_front(self, states: Sequence[RowState]) -> int:
        """Before the people phase: every new person without names of these rows, invited
        in full batches. A row whose room title names no room is left to the people phase
        (which fails it before anybody is mailed), and so is anyone the portal knows.
        Returns the number of invitation requests sent."""
        wanted: dict[str, tuple[str, int, str | None]] = {}
        for state in states:
            step = next((s for s in state.plan.steps if isinstance(s, EnsurePerson)), None)
            if step is None or (step.first_name and step.last_name):
                continue
            if step.key in self.runner.checkpoint.outputs(state.plan.row_key):
                continue
            find = next((s for s in state.plan.steps if isinstance(s, FindRoom)), None)
            if find is not None and not await self._room_found(find.title):
                continue
            wanted.setdefault(step.email.lower(), (step.email, int(step.user_type), step.culture))
        by_culture: dict[str | None, list[_Pending]] = defaultdict(list)
        items = list(wanted.values())
        loop = asyncio.get_running_loop()
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            found = await asyncio.gather(
                *(self.ctx.people.get(email) for email, _, _ in chunk), return_exceptions=True
            )
            for (email, user_type, culture), person in zip(chunk, found, strict=True):
                if person is None:  # unknown to the portal (a failed look-up: left for later)
                    by_culture[culture].append(_Pending(email, user_type, loop.create_future()))
        batches = [
            (pending[start : start + self.batch_size], culture)
            for culture, pending in by_culture.items()
            for start in range(0, len(pending), self.batch_size)
        ]
        await asyncio.gather(*(self._send(batch, culture) for batch, culture in batches))
        for batch, _ in batches:
            for pending in batch:
                error = pending.done.exception()
                self._up_front[pending.email.lower()] = error
        return len(batches)

    async def _room_found(self, title: str) -> bool:
        try:
            await find_room_by_title(self.ctx, title)
        except RowRefused:
            return False
        return True

    def invited_up_front(self, email: str) -> bool:
        """Was this address invited up front? Raises what failed if that invitation did."""
        if email.lower() not in self._up_front:
            return False
        error = self._up_front.pop(email.lower())
        if error is not None:
            raise error
        return True

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

        refused_before: str | None = None
        while waiting:
            try:
                await self.runner.confirm(attempt, emails=len(waiting), step="invite")
            except PermanentError as exc:
                # Entries run in order and an error stops the batch (docspace-api.md 10.5):
                # those before the refused one were invited (and mailed), that one fails, the
                # rest go again. The same refusal twice with nobody taken is the batch's own
                # (e.g. "Invitation limit is exceeded"): it fails them all.
                try:
                    still = [p for p in waiting if await self.ctx.people.refresh(p.email) is None]
                except Exception as error:
                    _fail(waiting, error)
                    return
                for pending in waiting:
                    if pending not in still:
                        pending.done.set_result(None)
                if not still:
                    return
                if len(still) == len(waiting) and refused_before == exc.message:
                    _fail(still, exc)
                    return
                refused_before = exc.message if len(still) == len(waiting) else None
                _fail(still[:1], _refused(still[0], exc))
                waiting = still[1:]
            except Exception as exc:
                _fail(waiting, exc)
                return
            else:
                for pending in waiting:
                    pending.done.set_result(None)
                return


def _refused(pending: _Pending, exc: PermanentError) -> Exception:
    if exc.status != 403:
        return exc
    return RowRefused(
        f"the portal refused to invite {pending.email} as a {_type_name(pending.user_type)} "
        f"({exc.message}): a room admin may invite users only, a DocSpace admin also room "
        "admins, only the owner DocSpace admins; change the type or invite them in DocSpace"
    )


def _fail(items: Sequence[_Pending], error: BaseException) -> None:
    for pending in items:
        if not pending.done.done():
            pending.done.set_exception(error)


class PersonActions:
    """FindRoom and EnsurePerson of a user row. The plan puts FindRoom first, so a wrong room
    title fails the row before anybody is created or mailed."""

    def __init__(self, ctx: Context, inviter: Inviter) -> None:
        self.ctx = ctx
        self.inviter = inviter
        self._raising: set[str] = set()  # addresses whose type this run set out to raise

    def actions(self) -> dict[type[Step], Action]:
        return {FindRoom: self.find_room, EnsurePerson: self.person}

    async def find_room(self, state: RowState, step: FindRoom, recheck: bool) -> StepDone:
        room_id = await find_room_by_title(self.ctx, step.title)
        return StepDone({"id": room_id, "title": step.title}, "found")

    async def person(self, state: RowState, step: EnsurePerson, recheck: bool) -> StepDone:
        people = self.ctx.people
        async with people.locked(step.email):
            if self.inviter.invited_up_front(step.email):
                return await self._invited(step)
            person = await (people.refresh(step.email) if recheck else people.get(step.email))
            if person is not None:
                again: Outcome = "created" if recheck else "found"
                if recheck and step.email.lower() in self._raising:
                    again = "changed"  # the raise that failed unclearly had been applied
                return await self._existing(state, step, person, again)
            if step.first_name and step.last_name:
                try:
                    made = await self.ctx.client.add_member(
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
                    return await self._existing(state, step, person, "found")
                person = people.put(step.email, made)
                return StepDone({"id": person.id}, "created")
            await self.inviter.invite(step.email, int(step.user_type), step.culture)
            return await self._invited(step)

    async def _invited(self, step: EnsurePerson) -> StepDone:
        person = await self.ctx.people.refresh(step.email)
        if person is None:
            raise PermanentError(
                f"the portal accepted the invitation of {step.email} but does not list them; "
                "check the portal's invitation settings",
                method="POST",
                path="/api/2.0/people/invite",
            )
        return StepDone({"id": person.id}, "created")

    async def _existing(
        self, state: RowState, step: EnsurePerson, person: Person, outcome: Outcome
    ) -> StepDone:
        """A person the portal has: disabled fails the row; a lower type than the sheet's is
        raised (PUT people/type, docspace-api.md 10.5), a higher one is kept and said."""
        if person.disabled:
            raise shares.disabled(step.email)
        wanted = int(step.user_type)
        have, want = TYPE_RANK.get(person.type, 0), TYPE_RANK.get(wanted, 0)
        if want > have:
            self._raising.add(step.email.lower())
            try:
                await self.ctx.client.set_user_type(wanted, [person.id])
            except PermanentError as exc:
                if exc.status != 403:
                    raise
                raise RowRefused(
                    f"{step.email} is a {_type_name(person.type)} in DocSpace and the portal "
                    f"refused to make them a {_type_name(wanted)} ({exc.message}); change their "
                    "type in DocSpace, or the type in the sheet"
                ) from exc
            self.ctx.people.put(step.email, replace(person, type=wanted))
            state.note(
                f"{step.email} was a {_type_name(person.type)} in DocSpace and is now a "
                f"{_type_name(wanted)}, as the sheet asks"
            )
            return StepDone({"id": person.id}, "changed")
        if want < have:
            state.note(
                f"{step.email} is a {_type_name(person.type)} in DocSpace, above the sheet's "
                f"{_type_name(wanted)}; bulk-onboard never lowers a type"
            )
        return StepDone({"id": person.id}, outcome)


def _type_name(user_type: int) -> str:
    try:
        return USER_TYPE_NAMES[UserType(user_type)]
    except ValueError:
        return str(user_type)


async def find_room_by_title(ctx: Context, title: str) -> int:
    """The one existing room with exactly this title."""
    rooms = await ctx.rooms.by_title(title)
    if len(rooms) == 1:
        return int(rooms[0]["id"])
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
        entries: list[shares.Entry] = []
        changed: list[RowState] = []
        for state, step in joins:
            person_id = str(ctx.resolve(step.person, state))
            # As the people phase left them; without a record, as one who has not activated
            # (so never mailed twice).
            person = await ctx.people.get(step.email) or Person(person_id, 0, ACTIVE, False)
            entry = await shares.entry_for(
                ctx, state, step.email, int(step.access), current, person=person
            )
            if entry is shares.Skip.SAME:
                # On a second look, an ambiguous share that was applied after all.
                outcome: Outcome = "changed" if recheck else "found"
                done[state.plan.row_key] = StepDone({}, outcome)
            elif entry is shares.Skip.API_USER:
                done[state.plan.row_key] = StepDone({}, "found")
            else:
                assert isinstance(entry, shares.Entry)
                entries.append(entry)
                changed.append(state)
        if entries:
            notify = any(step.notify for _, step in joins)
            await shares.send(ctx, room_id, entries, notify=notify)
            for state in changed:
                done[state.plan.row_key] = StepDone({}, "changed")
        return done
