"""Room shares shaped so that a new address gets exactly one mail (docspace-api.md 10.8).

Which share entry mails whom, as the server's notify code has it (10.8, correcting 5.4):
- an e-mail entry for an address the portal does not know makes a pending Guest and mails the
  room invitation with its join link, whatever `notify` says; for an activation-pending person
  it mails that invitation again;
- an entry by id mails nobody with `notify: false`; with `notify: true` a new record mails
  "you were invited to the room" (no join link), to pending and active people alike;
- an unchanged entry is skipped; a changed one mails nobody.

So a person the portal knows is always shared by id, and only an address it does not know (the
client contact, who joins as a guest) by e-mail. People who have not activated yet (invited or
created by this run, or by an earlier one) already had the portal's one mail: their new records
go in a request with `notify: false`, apart from those of active people when the playbook asks
to notify. A disabled account fails its row before anything is sent (10.5); the account the
run works as gets no entry at all (it owns the rooms it creates; the server ignores its entry
and records nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import structlog

from bulk_onboard.api.models import ShareReply
from bulk_onboard.engine.context import Context, check_share_reply
from bulk_onboard.engine.portal_cache import Person
from bulk_onboard.engine.row import RowState
from bulk_onboard.errors import RowRefused
from bulk_onboard.model.steps import NameContact, ShareRoom

log = structlog.get_logger("bulk_onboard")


class Skip(Enum):
    SAME = "same"  # the room already gives this access
    API_USER = "api_user"  # the account the run works as: no entry


@dataclass(frozen=True, slots=True)
class Entry:
    """One share entry to send."""

    email: str  # lower-cased
    person: Person | None  # None: an address the portal does not know, sent by e-mail
    access: int
    new: bool  # the room has no record for this person yet
    was: int | None = None  # the access the room gave them before (None: not a member)

    @property
    def who(self) -> str:
        return self.person.id if self.person is not None else self.email

    @property
    def quiet(self) -> bool:
        """A new record of a person who has not activated: `notify` would mail them again."""
        return self.new and self.person is not None and not self.person.activated


def disabled(email: str) -> RowRefused:
    return RowRefused(
        f"the account of {email} is disabled in DocSpace; enable it or remove the row"
    )


def hidden(email: str) -> RowRefused:
    return RowRefused(
        f"{email} has a DocSpace account that the account bulk-onboard works as may not see "
        "(a guest that a room admin did not invite, docspace-api.md 10.7), so whether it is "
        "disabled and how to share with it is not known; share the room with them in "
        "DocSpace, or run bulk-onboard with a DocSpace admin's token"
    )


def require_manager(email: str, person: Person | None) -> Person:
    if person is None:
        raise RowRefused(
            f"the account manager {email} has no DocSpace account; add them as a room admin "
            "(users sheet, type room-admin) or pick another manager"
        )
    if person.hidden:
        raise hidden(email)
    if person.disabled:
        raise disabled(email)
    if not person.admin:
        raise RowRefused(
            f"the account manager {email} is not a room admin or DocSpace admin, so the portal "
            "cannot make them room manager; change their type in DocSpace or pick another manager"
        )
    return person


async def check_share_people(ctx: Context, step: ShareRoom) -> None:
    """Before the client's room is made: every person of its share as the portal has them
    (the manager a room admin, nobody disabled). Raises RowRefused."""
    for member in step.members:
        person = await ctx.people.get(member.email)
        if member.by_id:
            require_manager(member.email, person)
        elif person is not None and person.hidden:
            raise hidden(member.email)
        elif person is not None and person.disabled:
            raise disabled(member.email)


async def is_api_user(ctx: Context, person: Person | None) -> bool:
    """The account the run works as (only admins can be: they create the rooms)."""
    return person is not None and person.admin and person.id == await ctx.people.api_user()


async def entry_for(
    ctx: Context,
    state: RowState,
    email: str,
    access: int,
    current: dict[str, tuple[str, int]],
    *,
    person: Person | None,
) -> Entry | Skip:
    """The entry that gives `email` this access, or why none is needed."""
    if person is not None and person.hidden:
        raise hidden(email)
    if person is not None and person.disabled:
        raise disabled(email)
    if await is_api_user(ctx, person):
        state.note(
            f"{email} is the account bulk-onboard works as; it has full access to the rooms it "
            "creates, so no share was sent for it"
        )
        if ctx.first_time("api_user", email.lower()):
            log.warning("share_skipped_api_user", email=email)
        return Skip.API_USER
    have = current.get(email.lower())
    if have is not None and have[1] == access:
        return Skip.SAME
    return Entry(email.lower(), person, access, new=have is None, was=have[1] if have else None)


async def send(
    ctx: Context,
    room_id: int,
    entries: Sequence[Entry],
    *,
    notify: bool,
    message: str | None = None,
    culture: str | None = None,
) -> None:
    """One share request; two only when the playbook notifies and there are new records both
    of active people (told with `notify: true`) and of people who have not activated (sent
    with `notify: false`: they had their one mail). Entries that `notify` does not change
    (updates, e-mail entries for new addresses) go in the first request."""
    current = await ctx.room_members(room_id)
    for group, flag in _requests(entries, notify):
        if not group:
            continue
        try:
            reply = await ctx.client.share_room(
                room_id,
                [(e.who, e.access) for e in group],
                notify=flag,
                message=message,
                culture=culture,
            )
        finally:
            for entry in group:
                if entry.person is None:
                    ctx.people.forget(entry.email)  # now (or perhaps) a pending guest
        check_share_reply(reply, room_id)
        missing = _not_applied(reply, group)
        for entry in group:
            if entry not in missing:
                current[entry.email] = (entry.who if entry.person else "", entry.access)
        if missing:
            raise _refusal(room_id, missing, reply)


def _requests(entries: Sequence[Entry], notify: bool) -> list[tuple[list[Entry], bool]]:
    """The share requests for these entries, each with its `notify`: one, or two when new
    records of active people are told and those of people who have not activated are not."""
    quiet = [e for e in entries if e.quiet]
    told = [e for e in entries if e.new and e.person is not None and e.person.activated]
    if not notify or not told:
        return [(list(entries), notify and not quiet)]
    if not quiet:
        return [(list(entries), True)]
    return [([e for e in entries if not e.quiet], True), (quiet, False)]


def _not_applied(reply: ShareReply, group: Sequence[Entry]) -> list[Entry]:
    """The entries the portal did not apply although it answered 200: with a `warning`, an
    e-mail it skipped (MailAddress refused it, docspace-api.md 10.8); an entry by id that
    gives access but is not in `members` (which lists the records of the ids sent): a guest
    the caller cannot see, dropped silently (10.7), or a disabled account (10.8). An answer
    without `members` (trimmed) tells nothing about ids."""
    missing: list[Entry] = []
    if reply.warning:
        missing.extend(e for e in group if e.person is None)
    ids = reply.member_ids
    if ids is not None:
        missing.extend(
            e for e in group if e.person is not None and e.access and e.person.id.lower() not in ids
        )
    return missing


def _refusal(room_id: int, missing: Sequence[Entry], reply: ShareReply) -> RowRefused:
    entry = missing[0]
    if entry.person is None:
        warning = reply.warning
        return RowRefused(
            f'the portal did not share room {room_id} with {entry.email}: it answered "{warning}"'
            " and skipped that address; correct the address in the sheet, then run again"
        )
    return RowRefused(
        f"the portal did not give {entry.email} access to room {room_id}: it drops, without an "
        "error, a guest the account bulk-onboard works as cannot see (a room admin sees only "
        "the guests it invited or shared rooms with by e-mail, docspace-api.md 10.7); share the "
        "room with them in DocSpace, or run as a DocSpace admin"
    )


def _by_email_if_named_here(state: RowState, by_id: bool, entry: Entry) -> Entry:
    """The contact this row made a named guest (NameContact, created) had no mail yet: their
    new record goes by e-mail, which mails an activation-pending person the room invitation
    with its join link (docspace-api.md 10.8); by id it would mail nothing."""
    if by_id or not entry.new or state.outcomes.get(NameContact.KEY) != "created":
        return entry
    return Entry(entry.email, None, entry.access, new=True)


async def share_members(
    ctx: Context,
    state: RowState,
    room_id: int,
    step: ShareRoom,
    sending: Callable[[list[Entry]], None] | None = None,
) -> list[Entry]:
    """The client row's share: manager by id, the contact by id or (new address) by e-mail.
    The entries sent (none: no request was needed); `sending` is told them just before."""
    by_email = [m.email for m in step.members if not m.by_id]
    # Whoever may be mailed is locked first, so two rows sharing one contact cannot both
    # invite it.
    async with ctx.people.locked(*by_email):
        current = await ctx.room_members(room_id)
        entries: list[Entry] = []
        for member in step.members:
            person = await ctx.people.get(member.email)
            if member.by_id:
                person = require_manager(member.email, person)
            entry = await entry_for(
                ctx, state, member.email, int(member.access), current, person=person
            )
            if isinstance(entry, Entry):
                entries.append(_by_email_if_named_here(state, member.by_id, entry))
        if not entries:
            return []
        if sending is not None:
            sending(entries)
        await send(
            ctx,
            room_id,
            entries,
            notify=step.notify,
            message=step.message,
            culture=step.culture,
        )
    return entries
