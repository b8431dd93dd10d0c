"""The steps of a client row: room, folders, template copies, access, link.

Each finds before it creates. A room this run created is known to be empty, without members
and without links, so a fresh client row costs exactly its writes: room, one per folder, one
per copy, one share for manager and client together, one link.
"""

from __future__ import annotations

import structlog

from bulk_onboard.engine.actions.shares import share_members
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.engine.step_runner import Action
from bulk_onboard.errors import PermanentError, RowRefused
from bulk_onboard.model import Json
from bulk_onboard.model.records import LinkType
from bulk_onboard.model.steps import (
    CopyFile,
    EnsureFolder,
    EnsureLink,
    EnsureRoom,
    ShareRoom,
    Step,
)

log = structlog.get_logger("bulk_onboard")


# The step kinds of a client row run in the clients phase (the CRM step runs last, apart).
CLIENT_STEPS: tuple[type[Step], ...] = (EnsureRoom, EnsureFolder, CopyFile, ShareRoom, EnsureLink)


class ClientActions:
    """The actions of a client row: room, folders, copies, access, link."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def actions(self) -> dict[type[Step], Action]:
        return {
            EnsureRoom: self.room,
            EnsureFolder: self.folder,
            CopyFile: self.copy,
            ShareRoom: self.share,
            EnsureLink: self.link,
        }

    async def room(self, state: RowState, step: EnsureRoom, recheck: bool) -> StepDone:
        ctx = self.ctx
        tag = state.plan.row_key  # "client:<client_id>": marks the rooms this tool made
        found = await (ctx.rooms.refresh(step.title) if recheck else ctx.rooms.by_title(step.title))
        ours = [room for room in found if tag in (room.get("tags") or [])]
        if ours:
            room = ours[0]
            return StepDone({"id": room["id"], "title": room["title"]}, "found")
        if found:
            raise RowRefused(
                f'a room titled "{step.title}" already exists but was not created for '
                f"{tag.split(':', 1)[1]}; set another room_title for this client, or add the tag "
                f'"{tag}" to that room in DocSpace to adopt it'
            )
        room = await ctx.client.create_room(step.title, int(step.room_type), [*step.tags, tag])
        room_id = int(room["id"])
        ctx.contents.mark_empty(room_id)
        ctx.fresh_rooms.add(room_id)
        await ctx.rooms.add(room)
        return StepDone({"id": room_id, "title": room["title"]}, "created")

    async def folder(self, state: RowState, step: EnsureFolder, recheck: bool) -> StepDone:
        ctx = self.ctx
        parent = int(ctx.resolve(step.parent, state))
        if recheck:
            ctx.contents.forget(parent)
        existing = await ctx.contents.folder(parent, step.title)
        if existing is not None:
            return StepDone({"id": existing}, "found")
        folder = await ctx.client.create_folder(parent, step.title)
        ctx.contents.add_folder(parent, step.title, int(folder["id"]))
        return StepDone({"id": int(folder["id"])}, "created")

    async def copy(self, state: RowState, step: CopyFile, recheck: bool) -> StepDone:
        ctx = self.ctx
        dest = int(ctx.resolve(step.dest_folder, state))
        if recheck:
            ctx.contents.forget(dest)
        existing = await ctx.contents.file(dest, step.dest_title)
        if existing is not None:
            return StepDone({"id": existing}, "found")
        source = await ctx.templates.resolve(step.source)
        copied = await ctx.client.copy_file_as(source, dest, step.dest_title)
        ctx.contents.add_file(dest, step.dest_title, int(copied["id"]))
        return StepDone({"id": int(copied["id"])}, "created")

    async def share(self, state: RowState, step: ShareRoom, recheck: bool) -> StepDone:
        ctx = self.ctx
        room_id = int(ctx.resolve(step.room, state))
        if recheck:
            ctx.forget_room(room_id)
        sent = await share_members(ctx, state, room_id, step)  # one mail per new address
        if not sent:
            return StepDone({}, "found")
        # what undo takes back: the members this share added, the addresses it invited
        added = [[e.email, e.person.id if e.person else "", e.access] for e in sent if e.new]
        invited = sorted(e.email for e in sent if e.person is None)
        return StepDone({"room": room_id, "added": added, "invited": invited}, "changed")

    async def link(self, state: RowState, step: EnsureLink, recheck: bool) -> StepDone:
        ctx = self.ctx
        room_id = int(ctx.resolve(step.room, state))
        if recheck:
            ctx.forget_room(room_id)
        client = ctx.client
        if step.link_type == LinkType.EXTERNAL:
            share = await client.primary_link(room_id)
            if share.get("access") != int(step.access):
                return await self._set_link(room_id, step, share, "changed")
            outcome: Outcome = "created" if room_id in ctx.fresh_rooms else "found"
            return _link_done(share, outcome)
        existing = None
        if room_id not in ctx.fresh_rooms:
            links = await client.room_links(room_id, link_type=int(LinkType.INVITATION))
            existing = links[0] if links else None
        if existing is None:
            return await self._set_link(room_id, step, None, "created")
        if existing.get("access") == int(step.access):
            return _link_done(existing, "found")
        return await self._set_link(room_id, step, existing, "changed")

    async def _set_link(
        self, room_id: int, step: EnsureLink, current: Json | None, outcome: Outcome
    ) -> StepDone:
        """Create the link (current None) or give the current one the step's access."""
        link_id = (current.get("sharedLink") or {}).get("id") if current is not None else None
        share = await self.ctx.client.set_room_link(
            room_id, int(step.link_type), int(step.access), step.title, link_id=link_id
        )
        if share is None:
            raise PermanentError(
                "the portal answered without the link it was asked to set",
                method="PUT",
                path=f"/api/2.0/files/rooms/{room_id}/links",
            )
        return _link_done(share, outcome)


def _link_done(share: Json, outcome: Outcome) -> StepDone:
    link = share.get("sharedLink") or {}
    return StepDone({"id": link.get("id"), "url": link.get("shareLink")}, outcome)
