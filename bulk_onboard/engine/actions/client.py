"""The steps of a client row: room, folders, template copies, access, link.

Each finds before it creates. A client's room is the one carrying its `client:<client_id>`
tag, whatever its title (renamed to the sheet's title, or kept when the playbook says so);
an archived room or two rooms with the tag fail the row, never a second room. After an
ambiguous create each looks again several times over the request timeout (LookAgain) before
creating again. A room this run created is known to be empty, without members and without
links, so a fresh client row costs exactly its writes: room, one per folder, one per copy, one
share for manager and client together, one link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import TypeVar

import structlog

from bulk_onboard.api.models import Link, Room
from bulk_onboard.api.wire import stored_title
from bulk_onboard.engine.actions.member_changes import (
    Before,
    access_name,
    as_set,
    share_changes,
    share_notes,
    with_roles,
)
from bulk_onboard.engine.actions.shares import Entry, share_members
from bulk_onboard.engine.context import Context, check_share_reply
from bulk_onboard.engine.exactly_once import ExactlyOnce, Look
from bulk_onboard.engine.portal_cache import RoomEntry
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.errors import AmbiguousWrite, ApiError, PermanentError, Refusal, RowRefused
from bulk_onboard.model.outputs import (
    Added,
    Change,
    FileOut,
    FolderOut,
    LinkOut,
    RoomOut,
    ShareOut,
)
from bulk_onboard.model.records import LinkType
from bulk_onboard.model.steps import CopyFile, EnsureFolder, EnsureLink, EnsureRoom, ShareRoom
from bulk_onboard.runs.set_members import SetMember

log = structlog.get_logger("bulk_onboard")


class ClientActions:
    """The actions of a client row: room, folders, copies, access, link."""

    def __init__(self, ctx: Context, once: ExactlyOnce) -> None:
        self.ctx = ctx
        self.once = once

    async def room(self, state: RowState, step: EnsureRoom, look: Look) -> StepDone:
        """The room carrying the client's tag (active or archived), else a new one. Its title
        follows the sheet (renamed) unless the playbook says to keep it."""
        found = await self.existing(state, step, look)
        return found if found is not None else await self.create(state, step)

    async def existing(self, state: RowState, step: EnsureRoom, look: Look) -> StepDone | None:
        """The room carrying the client's tag (renamed unless the playbook says to keep its
        title), or None when there is none and a room may be made; a room with the title but
        not the tag refuses the row."""
        ctx = self.ctx
        tag = state.plan.row_key  # "client:<client_id>": the client's identity in the portal
        if look.again:
            found = await self.once.find(look, lambda: _some(ctx.rooms.refresh_tag(tag))) or []
        else:
            found = await ctx.rooms.by_tag(tag)
        if len(found) > 1:
            ids = " and ".join(str(r.id) for r in sorted(found, key=lambda r: r.id))
            raise RowRefused(
                f'{len(found)} rooms carry the tag "{tag}" (ids {ids}), so which one is the '
                "client's is not clear; remove the tag from every room but the client's (or "
                "delete the extra room) in DocSpace, then run again"
            )
        if found:
            return await self._existing_room(state, step, found[0])
        if await ctx.rooms.by_title(step.title):
            raise RowRefused(
                f'a room titled "{stored_title(step.title)}" already exists but was not created '
                f"for {tag.split(':', 1)[1]}; set another room_title for this client, or add "
                f'the tag "{tag}" to that room in DocSpace to adopt it'
            )
        return None

    async def create(self, state: RowState, step: EnsureRoom) -> StepDone:
        """POST files/rooms: the client's new room, with its tag."""
        ctx = self.ctx
        tag = state.plan.row_key
        self.once.intend(tag, step.key)
        self.once.writing(state, step.key, "created")
        try:
            room = await ctx.client.new_room(step.title, int(step.room_type), [*step.tags, tag])
        except AmbiguousWrite:
            raise
        except ApiError:
            self.once.withdraw(tag, step.key)  # refused outright (402 quota, 403): nothing made
            raise
        room_id = room.id
        ctx.contents.mark_empty(room_id)
        ctx.fresh_rooms.add(room_id)
        entry = await ctx.rooms.add(replace(room, tags=room.tags or (tag,)))
        return StepDone.of(RoomOut(room_id, entry.title), "created")

    async def _existing_room(self, state: RowState, step: EnsureRoom, room: RoomEntry) -> StepDone:
        ctx = self.ctx
        if room.archived:
            raise RowRefused(
                f'the client\'s room is archived (room {room.id}, "{room.title}"); restore it '
                "in DocSpace, then run again"
            )
        wanted = stored_title(step.title)  # compare with what the portal would store
        if room.title == wanted:
            # a resumed or retried row that renamed it before still says so
            hint = RoomOut.read(state.hints.get(step.key))
            same = hint is not None and (hint.id, hint.title) == (room.id, room.title)
            before = hint.changes if hint is not None and same else ()
            return StepDone.of(RoomOut(room.id, room.title, before), "found")
        if not step.rename:
            state.note(
                f'the room keeps its title "{room.title}" (the sheet gives "{wanted}"; the '
                "playbook's room.rename is false)"
            )
            log.warning(
                "room_title_kept",
                row=state.plan.row_key,
                room=room.id,
                title=room.title,
                sheet_title=wanted,
            )
            return StepDone.of(RoomOut(room.id, room.title), "found")
        # a rename, not a create, if its answer is lost (and what it changed)
        planned = (Change("title", room.title, wanted),)
        self.once.writing(state, step.key, "changed", RoomOut(room.id, wanted, planned))
        renamed = await ctx.client.retitle_room(room.id, step.title)
        title = renamed.title or wanted  # the title the portal stored
        await ctx.rooms.add(Room(room.id, title, (state.plan.row_key,)))
        renamed_from = (Change("title", room.title, title),)
        return StepDone.of(RoomOut(room.id, title, renamed_from), "changed")

    async def folder(self, state: RowState, step: EnsureFolder, look: Look) -> StepDone:
        ctx = self.ctx
        parent = int(ctx.resolve(step.parent, state))

        async def find() -> int | None:
            ctx.contents.forget(parent)
            return await ctx.contents.folder(parent, step.title)

        if look.again:
            existing = await self.once.find(look, find)
        else:
            existing = await ctx.contents.folder(parent, step.title)
        if existing is not None:
            return StepDone.of(FolderOut(existing), "found")
        self.once.writing(state, step.key, "created")
        folder = await ctx.client.new_folder(parent, step.title)
        ctx.contents.add_folder(parent, folder.title or step.title, folder.id)
        return StepDone.of(FolderOut(folder.id), "created")

    async def copy(self, state: RowState, step: CopyFile, look: Look) -> StepDone:
        ctx = self.ctx
        dest = int(ctx.resolve(step.dest_folder, state))

        async def find() -> int | None:
            ctx.contents.forget(dest)
            return await ctx.contents.file(dest, step.dest_title)

        if look.again:
            existing = await self.once.find(look, find)
        else:
            existing = await ctx.contents.file(dest, step.dest_title)
        if existing is not None:
            return StepDone.of(FileOut(existing), "found")
        source = await ctx.templates.resolve(step.source)
        self.once.writing(state, step.key, "created")
        copied = await ctx.client.copy_file(source, dest, step.dest_title)
        ctx.contents.add_file(dest, step.dest_title, copied.id)
        return StepDone.of(FileOut(copied.id), "created")

    async def share(self, state: RowState, step: ShareRoom, look: Look) -> StepDone:
        """Manager and client in one request; nothing sent if already so. Whom this tool set
        before (the portal's memory, a retry's journal) and the row no longer names is
        removed while their access is the one it gave, never a member someone else added;
        the row's changes and note say what changed in a room that existed."""
        ctx = self.ctx
        row = state.plan.row_key
        room_id = int(ctx.resolve(step.room, state))
        if look.again:
            ctx.forget_room(room_id)
        current = await ctx.room_members(room_id)
        earlier = self._set_before(state, step, room_id, current)
        before = {email: access for email, (_, access) in earlier.ours.items()}
        wanted = {m.email.lower(): int(m.access) for m in step.members}
        ours = {e: a for e, a in before.items() if wanted.get(e) == a}
        leaving = _leaving(before, wanted, current)
        fresh = state.outcomes.get(EnsureRoom.KEY) == "created"  # nothing existed to change
        changes = () if fresh else share_changes(step, earlier, [e for e, _ in leaving])

        def sending(entries: list[Entry]) -> None:
            # If the answer is lost and a second look finds the entries applied, the step
            # still says whom it gave access, added and invited (what undo takes back), and
            # what it changed; the memory holds old and new members until it is answered.
            done = _share_done(room_id, ours, entries)
            self.once.writing(state, step.key, "changed", replace(done, changes=changes))
            if not fresh:  # in a room this row made, whoever has the row's access is ours
                held = [SetMember(role, e, a) for e, (role, a) in earlier.ours.items()]
                ctx.set_members.claim(row, room_id, [*held, *as_set(step, done.given)])

        sent = await share_members(ctx, state, room_id, step, sending)  # one mail per address
        ours.update(_given_now(wanted, current, earlier.had, fresh))
        done = replace(_share_done(room_id, ours, sent), changes=changes)
        gone = await self._take_back(state, step.key, room_id, leaving, current, done)
        ctx.set_members.record(row, room_id, as_set(step, done.given))
        for text in () if fresh else share_notes(step, earlier, gone):
            state.note(text)
        if not sent and not gone:
            return StepDone.of(ShareOut(done.given), "found")
        return StepDone.of(replace(done, removed=tuple(gone)), "changed")

    def _set_before(
        self,
        state: RowState,
        step: ShareRoom,
        room_id: int,
        current: dict[str, tuple[str, int]],
    ) -> Before:
        """The room before the share: its members' accesses and whom this tool set there."""
        remembered = self.ctx.set_members.get(state.plan.row_key, room_id)
        hint = state.hints.get(step.key)
        ours = {e: ("", a) for e, a in ShareOut.from_json(hint).given} if hint else {}
        ours.update({m.email: (m.role, m.access) for m in remembered})
        had = {email: access for email, (_, access) in current.items()}
        return Before(had, with_roles(step, ours), known=bool(remembered or hint))

    async def _take_back(
        self,
        state: RowState,
        step_key: str,
        room_id: int,
        leaving: list[tuple[str, str]],
        current: dict[str, tuple[str, int]],
        done: ShareOut,
    ) -> list[str]:
        """Remove the members `leaving` (e-mail, user id) by id with access 0 (an e-mail
        entry removes nothing, 10.6; no mail). The e-mails removed."""
        if not leaving:
            return []
        self.once.writing(state, step_key, "changed", done)
        reply = await self.ctx.client.share_room(
            room_id, [(user_id, 0) for _, user_id in leaving], notify=False
        )
        check_share_reply(reply, room_id)
        for email, _ in leaving:
            current.pop(email, None)
        return [email for email, _ in leaving]

    async def link(self, state: RowState, step: EnsureLink, look: Look) -> StepDone:
        ctx = self.ctx
        room_id = int(ctx.resolve(step.room, state))
        if look.again:
            ctx.forget_room(room_id)
        client = ctx.client
        if step.link_type == LinkType.EXTERNAL:
            share = await client.open_primary_link(room_id)  # GET: made on first call, once
            if share.access != int(step.access):
                return await self._set_link(state, room_id, step, share, "changed")
            outcome: Outcome = "created" if room_id in ctx.fresh_rooms else "found"
            return _link_done(share, outcome)
        existing = None
        if look.again:
            existing = await self.once.find(
                look.refused_twice(), lambda: self._invitation_link(room_id)
            )
        elif room_id not in ctx.fresh_rooms:
            existing = await self._invitation_link(room_id)
        if existing is None:
            try:
                return await self._set_link(state, room_id, step, None, "created")
            except PermanentError as exc:
                # One invitation link per room (docspace-api.md 5.5, 9e): another writer made
                # it meanwhile. Look, and use that one.
                if exc.refusal is not Refusal.LINK_LIMIT:
                    raise
                existing = await self._invitation_link(room_id)
                if existing is None:
                    raise
        if existing.access == int(step.access):
            return _link_done(existing, "found")
        return await self._set_link(state, room_id, step, existing, "changed")

    async def _invitation_link(self, room_id: int) -> Link | None:
        links = await self.ctx.client.links(room_id, link_type=int(LinkType.INVITATION))
        return links[0] if links else None

    async def _set_link(
        self,
        state: RowState,
        room_id: int,
        step: EnsureLink,
        current: Link | None,
        outcome: Outcome,
    ) -> StepDone:
        """Create the link (current None) or give the current one the step's access."""
        link_id = current.id if current is not None else None
        changes: tuple[Change, ...] = ()
        if current is not None and state.outcomes.get(EnsureRoom.KEY) != "created":
            was, now = access_name(current.access or 0), access_name(int(step.access))
            changes = (Change("link", was, now),)  # a link that existed, in a room that did
        planned = LinkOut(link_id, None, changes) if changes else None
        self.once.writing(state, step.key, outcome, planned)
        share = await self.ctx.client.put_link(
            room_id, int(step.link_type), int(step.access), step.title, link_id=link_id
        )
        if share is None:
            raise PermanentError(
                "the portal answered without the link it was asked to set",
                method="PUT",
                path=f"/api/2.0/files/rooms/{room_id}/links",
            )
        return StepDone.of(LinkOut(share.id, share.url, changes), outcome)


T = TypeVar("T")


async def _some(found: Awaitable[list[T]]) -> list[T] | None:
    """A look for LookAgain: an empty list is nothing found."""
    return (await found) or None


def _given(given: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(given.items()))


def _given_now(
    wanted: dict[str, int],
    current: dict[str, tuple[str, int]],
    had: Mapping[str, int],
    fresh: bool,
) -> dict[str, int]:
    """The row's members whose access the room now has as the row says, given by this share
    (they had another before), or, in a room this row made, by this row's earlier attempt."""
    return {
        email: access
        for email, access in wanted.items()
        if (have := current.get(email)) is not None
        and have[1] == access
        and (fresh or had.get(email) != access)
    }


def _leaving(
    before: dict[str, int], wanted: dict[str, int], current: dict[str, tuple[str, int]]
) -> list[tuple[str, str]]:
    """Whom this tool gave access before and the row no longer names, while their access is
    still the one the tool gave (e-mail, user id): a member someone else added or changed is
    never touched."""
    return [
        (email, have[0])
        for email, access in sorted(before.items())
        if email not in wanted
        and (have := current.get(email)) is not None
        and have[0]
        and have[1] == access
    ]


def _share_done(room_id: int, ours: dict[str, int], entries: list[Entry]) -> ShareOut:
    """The share step's output: whom this tool gave access, and what undo takes back: the
    members this share added, the addresses it invited."""
    given = {**ours, **{e.email: e.access for e in entries}}
    return ShareOut(
        _given(given),
        room_id,
        tuple(Added(e.email, e.person.id if e.person else "", e.access) for e in entries if e.new),
        tuple(sorted(e.email for e in entries if e.person is None)),
    )


def _link_done(link: Link, outcome: Outcome) -> StepDone:
    return StepDone.of(LinkOut(link.id, link.url), outcome)
