"""People and their rooms: ensure each person once, invite in batches, join rooms per room.

A person the portal knows gets no invitation; when the sheet asks for a higher type than the
portal has, the type is raised (never lowered, docspace-api.md 10.5): with PUT people/type for an
active person, who gets the portal's "type changed" mail, and silently with POST people/invite
for one who has not activated yet. A disabled account fails its row. A new person with names
is created with POST people and their user type (the portal sends the activation mail); new
people without names are invited with POST people/invite, in full batches sent before the
people phase (actions/invitations). Memberships are grouped per room: one look at the room's members and one
share request per room and batch, shaped by actions/shares so nobody is mailed twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bulk_onboard.engine.actions import shares
from bulk_onboard.engine.actions.invitations import Inviter, type_name
from bulk_onboard.engine.actions.member_changes import access_changed
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import ExactlyOnce, Look
from bulk_onboard.engine.portal_cache import ACTIVE, TYPE_RANK, Person
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.errors import ApiError, PermanentError, Refusal, RowRefused
from bulk_onboard.model.outputs import Change, ContactOut, MembershipOut, PersonOut, RoomOut
from bulk_onboard.model.steps import EnsurePerson, FindRoom, JoinRoom, NameContact, Plan, Step
from bulk_onboard.runs.journal import Checkpoint


class PersonActions:
    """FindRoom and EnsurePerson of a user row. The plan puts FindRoom first, so a wrong room
    title fails the row before anybody is created or mailed."""

    def __init__(self, ctx: Context, once: ExactlyOnce, inviter: Inviter) -> None:
        self.ctx = ctx
        self.once = once
        self.inviter = inviter
        self._raising: set[str] = set()  # addresses whose type this run set out to raise

    async def invite_up_front(self, plans: Iterable[Plan], checkpoint: Checkpoint) -> int:
        """Before the people phase: every new person without names of these rows, invited
        in full batches. A row whose room title names no room is left to the people phase
        (which fails it before anybody is mailed), and so is a row the journal holds."""
        wanted: dict[str, tuple[str, int, str | None]] = {}
        journal = _UpFrontJournal(self.ctx, self.once)
        for plan in plans:
            step = next((s for s in plan.steps if isinstance(s, EnsurePerson)), None)
            if step is None or (step.first_name and step.last_name):
                continue
            if step.key in checkpoint.outputs(plan.row_key):
                continue
            find = next((s for s in plan.steps if isinstance(s, FindRoom)), None)
            if find is not None:
                try:
                    await find_room_by_title(self.ctx, find.title)
                except RowRefused:
                    continue
            wanted.setdefault(step.email.lower(), (step.email, int(step.user_type), step.culture))
            journal.rows.setdefault(step.email.lower(), (plan.row_key, step))
        return await self.inviter.invite_all(list(wanted.values()), journal)

    async def find_room(self, state: RowState, step: FindRoom, look: Look) -> StepDone:
        room_id = await find_room_by_title(self.ctx, step.title)
        return StepDone.of(RoomOut(room_id, step.title), "found")

    async def person(self, state: RowState, step: EnsurePerson, look: Look) -> StepDone:
        people = self.ctx.people
        async with people.locked(step.email):
            if self.inviter.invited_up_front(step.email):
                return await self._invited(step, fresh=True)
            named = bool(step.first_name and step.last_name)  # POST people, not an invitation
            if look.again:  # a create the portal may apply late: look more than once
                once = look.refused_twice() if named else look
                person = await self.once.find(once, lambda: people.refresh(step.email))
            else:
                person = await people.get(step.email)
            if person is not None:
                again: Outcome = "created" if look.again else "found"
                if look.again and step.email.lower() in self._raising:
                    again = "changed"  # the raise that failed unclearly had been applied
                return await self._existing(state, step, person, again)
            if step.first_name and step.last_name:
                try:
                    made = await self.ctx.client.new_person(
                        step.email,
                        step.first_name,
                        step.last_name,
                        int(step.user_type),
                        step.culture,
                    )
                except PermanentError as exc:
                    if exc.status == 403:
                        raise await self._create_refused(step, exc) from exc
                    if exc.refusal is not Refusal.EMAIL_TAKEN:
                        raise
                    # someone else made them meanwhile, or the write whose answer was lost
                    person = await people.refresh(step.email)
                    if person is None:
                        raise
                    landed: Outcome = "created" if look.again else "found"
                    return await self._existing(state, step, person, landed)
                person = people.put(step.email, made)
                return StepDone.of(PersonOut(person.id), "created")
            await self.inviter.invite(step.email, int(step.user_type), step.culture)
            return await self._invited(step)

    async def contact(self, state: RowState, step: NameContact, look: Look) -> StepDone:
        """The client contact with their name: an address the portal does not know becomes a
        named guest (POST people/active: no mail; the share's e-mail entry mails the room
        invitation). A person the portal has keeps the name they have: the portal lets only
        the person change it (PUT people/{id} ignores another's names)."""
        people = self.ctx.people
        async with people.locked(step.email):
            if look.again:
                person = await self.once.find(
                    look.refused_twice(), lambda: people.refresh(step.email)
                )
            else:
                person = await people.get(step.email)
            if person is None:
                self.once.writing(state, step.key, "created")
                try:
                    made = await self.ctx.client.new_guest(
                        step.email, step.first_name, step.last_name
                    )
                except PermanentError as exc:
                    if exc.refusal is not Refusal.EMAIL_TAKEN:
                        raise _guest_refused(step, exc) from exc
                    person = await people.refresh(step.email)  # made by someone meanwhile
                    if person is None:
                        raise
                else:
                    made_person = people.put(step.email, made)
                    return StepDone.of(ContactOut(made_person.id, step.email.lower()), "created")
            elif look.again:
                return StepDone.of(ContactOut(person.id, step.email.lower()), "created")
            if person.hidden:
                raise shares.hidden(step.email)
            if person.disabled:
                raise shares.disabled(step.email)
            return StepDone.of(ContactOut(person.id, step.email.lower()), "found")

    async def _create_refused(self, step: EnsurePerson, exc: PermanentError) -> RowRefused:
        """POST people refused (403): a sentence naming the account's type and what to do."""
        account = type_name(await self.ctx.people.account_type())
        return RowRefused(
            f"the portal refused to create {step.email} as a {type_name(int(step.user_type))} "
            f"({exc.message}): the account bulk-onboard works as is a {account}; a room admin "
            "may create users only, room admins need a DocSpace admin's key and DocSpace "
            "admins the owner's: use such a key, or change the type in the sheet"
        )

    async def _invited(self, step: EnsurePerson, *, fresh: bool = False) -> StepDone:
        """The person just invited, as the portal lists them (`fresh`: read again already,
        when the invitation sent up front was journalled)."""
        people = self.ctx.people
        person = await (people.get(step.email) if fresh else people.refresh(step.email))
        if person is None:
            raise PermanentError(
                f"the portal accepted the invitation of {step.email} but does not list them; "
                "check the portal's invitation settings",
                method="POST",
                path="/api/2.0/people/invite",
            )
        return StepDone.of(PersonOut(person.id), "created")

    async def _existing(
        self, state: RowState, step: EnsurePerson, person: Person, outcome: Outcome
    ) -> StepDone:
        """A person the portal has: disabled fails the row; a lower type than the sheet's is
        raised, a higher one is kept and said (docspace-api.md 10.5)."""
        if person.hidden:
            raise shares.hidden(step.email)
        if person.disabled:
            raise shares.disabled(step.email)
        wanted = int(step.user_type)
        have, want = TYPE_RANK.get(person.type, 0), TYPE_RANK.get(wanted, 0)
        if want > have:
            self._raising.add(step.email.lower())
            raised = await self._raise(step, person, wanted)
            self.ctx.people.put(step.email, raised)
            state.note(
                f"{step.email} was a {type_name(person.type)} in DocSpace and is now a "
                f"{type_name(wanted)}, as the sheet asks"
            )
            raised_from = (Change("type", type_name(person.type), type_name(wanted)),)
            return StepDone.of(PersonOut(person.id, raised_from), "changed")
        if want < have:
            state.note(
                f"{step.email} is a {type_name(person.type)} in DocSpace, above the sheet's "
                f"{type_name(wanted)}; bulk-onboard never lowers a type"
            )
        return StepDone.of(PersonOut(person.id), outcome)

    async def _raise(self, step: EnsurePerson, person: Person, wanted: int) -> Person:
        """PUT people/type for an active person (the portal mails them "type changed"). A
        person who has not activated had their one mail: POST people/invite raises an
        existing address without any (10.5), and is silently skipped when the portal refuses,
        so the person is read again."""
        refused = (
            f"{step.email} is a {type_name(person.type)} in DocSpace and the portal refused to "
            f"make them a {type_name(wanted)}"
        )
        advice = "change their type in DocSpace, or the type in the sheet"
        try:
            if person.activated:
                await self.ctx.client.set_user_type(wanted, [person.id])
                return replace(person, type=wanted)
            await self.ctx.client.invite_users([(step.email, wanted)], culture=step.culture)
        except PermanentError as exc:
            if exc.status != 403:
                raise
            raise RowRefused(f"{refused} ({exc.message}); {advice}") from exc
        now = await self.ctx.people.refresh(step.email)
        if now is None or TYPE_RANK.get(now.type, 0) < TYPE_RANK.get(wanted, 0):
            raise RowRefused(f"{refused}; {advice}")
        return now


def _guest_refused(step: NameContact, exc: PermanentError) -> ApiError | RowRefused:
    """POST people/active refused: a 403 is a sentence on what to do, others as they are."""
    if exc.status != 403:
        return exc
    return RowRefused(
        f"the portal refused to make the contact {step.email} a named guest ({exc.message}): "
        "the account bulk-onboard works as must be a room admin or DocSpace admin, and the "
        "portal must allow inviting guests; or leave contact_first_name and contact_last_name "
        "empty (the contact is then invited by e-mail and enters a name when joining)"
    )


class _UpFrontJournal:
    """The invitations sent up front, journalled for the row that asked for each address:
    its intent before the batch is sent, the person it made after (undo takes them back,
    a resume counts them `created`); a refused invitation withdraws its intent."""

    def __init__(self, ctx: Context, once: ExactlyOnce) -> None:
        self.ctx = ctx
        self.once = once
        self.rows: dict[str, tuple[str, EnsurePerson]] = {}  # e-mail -> (row key, its step)

    def sending(self, email: str) -> None:
        row, step = self.rows[email.lower()]
        self.once.intend(row, step.key)

    async def sent(self, email: str, error: BaseException | None) -> BaseException | None:
        row, step = self.rows[email.lower()]
        if isinstance(error, PermanentError | RowRefused):
            self.once.withdraw(row, step.key)
            return None
        if error is not None:
            return None  # unclear whether it landed: the intent stays, the people phase looks
        try:
            person = await self.ctx.people.refresh(email)
        except ApiError as exc:
            return exc  # the row fails on it; the intent stays for a resume or a retry
        if person is not None:
            self.once.journal_done(row, step, StepDone.of(PersonOut(person.id), "created"))
        return None


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
        self, members: Sequence[tuple[RowState, Step]], look: Look
    ) -> dict[str, StepDone]:
        """Join every member to its (shared) room; the outcome of each by row key."""
        ctx = self.ctx
        joins = [(state, step) for state, step in members if isinstance(step, JoinRoom)]
        first_state, first_step = joins[0]
        room_id = int(ctx.resolve(first_step.room, first_state))
        if look.again:
            ctx.forget_room(room_id)
        current = await ctx.room_members(room_id)
        done: dict[str, StepDone] = {}
        entries: list[shares.Entry] = []
        changed: list[RowState] = []
        for state, step in joins:
            entry = await self._entry(state, step, current)
            if isinstance(entry, shares.Entry):
                entries.append(entry)
                changed.append(state)
            elif entry is shares.Skip.SAME and look.again:
                # On a second look, an ambiguous share that was applied after all (for undo,
                # as below: not a member before the first look).
                person_id = str(ctx.resolve(step.person, state))
                out = MembershipOut(room_id, person_id, int(step.access), added=True)
                done[state.plan.row_key] = StepDone.of(out, "changed")
            else:
                done[state.plan.row_key] = StepDone.of(MembershipOut(), "found")
        if entries:
            notify = any(step.notify for _, step in joins)
            await shares.send(ctx, room_id, entries, notify=notify)
            for state, entry in zip(changed, entries, strict=True):
                # for undo: the room, the person, and whether they were not a member before
                out = MembershipOut(
                    room_id, entry.who, entry.access, added=entry.new, changes=access_changed(entry)
                )
                done[state.plan.row_key] = StepDone.of(out, "changed")
        return done

    async def _entry(
        self, state: RowState, step: JoinRoom, current: dict[str, tuple[str, int]]
    ) -> shares.Entry | shares.Skip:
        """The share entry that gives this person the step's access, or why none is needed.
        The person as the people phase left them; without a record, as one who has not
        activated (so never mailed twice)."""
        person_id = str(self.ctx.resolve(step.person, state))
        person = await self.ctx.people.get(step.email) or Person(person_id, 0, ACTIVE, False)
        return await shares.entry_for(
            self.ctx, state, step.email, int(step.access), current, person=person
        )
