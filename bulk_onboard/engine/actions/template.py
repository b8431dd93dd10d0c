"""The room-template steps of a client row (docspace-api.md 11): the room made from the
playbook's room template by the portal's job, and its content, which the job copied.

The room step finds the client's room as EnsureRoom does (by its client:<id> tag, renamed to
the sheet's title unless the playbook keeps titles). A new room comes from one
POST files/rooms/fromTemplate, the tags in the request (they are not inherited), through
engine/template_jobs.py: one job at a time for the whole run, polled to its end, the room
checked by its id, title and tag. Once the portal is idle, just before each job, the room is
looked for by its tag again: a job of an earlier attempt (its answer lost, or the run killed
while it ran) may have made it meanwhile.

Whether the template can be used is learned once per run: the portal's version
(GET settings/version/build: 3.1 and later have templates, 3.7.1 and later copy folders
within folders) and the template itself (GET files/rooms?searchArea=4, exact title). While it
cannot be used, the row says why in one sentence and takes the path the playbook has besides:
the room as EnsureRoom makes it, then the skeleton's copy or the folders and copies, each its
own journalled step (TemplateContent's fallback). With neither, the row fails with that
sentence before anything is made.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import structlog

from bulk_onboard.api.models import Room
from bulk_onboard.api.templates import parse_version
from bulk_onboard.api.wire import stored_title
from bulk_onboard.engine.actions.client import ClientActions
from bulk_onboard.engine.actions.skeleton import MAX_DEPTH, SkeletonActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import Look
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.engine.template_jobs import TemplateJobs
from bulk_onboard.errors import AmbiguousWrite, ApiError, RowRefused
from bulk_onboard.model.outputs import RoomOut, SkeletonOut
from bulk_onboard.model.steps import (
    CopyFile,
    CopySkeleton,
    EnsureFolder,
    EnsureRoom,
    RoomFromTemplate,
    TemplateContent,
)

log = structlog.get_logger("bulk_onboard")

FIRST_VERSION = (3, 1, 0)  # room templates (RoomTemplatesWorker, v3.1.0-server)
RECURSIVE_VERSION = (3, 7, 1)  # folders within folders copied (377717c, v3.7.1)


@dataclass(frozen=True, slots=True)
class Usable:
    """The template can be used: its id."""

    template_id: int


class TemplateActions:
    """The room and content steps of a row whose rooms come from a room template."""

    def __init__(self, client: ClientActions) -> None:
        self.ctx = client.ctx
        self.once = client.once
        self.client = client
        self.skeletons = SkeletonActions(client.ctx, client.once)
        self.jobs = TemplateJobs(client.ctx.client)
        self._paths: dict[str, Usable | str] = {}  # per template: usable, or why not
        self._lock = asyncio.Lock()

    async def room(self, state: RowState, step: RoomFromTemplate, look: Look) -> StepDone:
        found = await self.client.existing(state, step, look)
        if found is not None:
            return found
        path = await self.path(step.template)
        if isinstance(path, str):
            content = next((s for s in state.plan.steps if isinstance(s, TemplateContent)), None)
            if content is None or not content.fallback:
                raise RowRefused(
                    f"{path}; fix [room] template, or set [room] skeleton or room.folders and "
                    "[[copies]] in the playbook to make the rooms without it"
                )
            state.note(f"{path}; {_instead(content)}")
            return await self.client.create(state, step)
        return await self._from_template(state, step, path)

    async def _from_template(
        self, state: RowState, step: RoomFromTemplate, path: Usable
    ) -> StepDone:
        ctx, tag = self.ctx, state.plan.row_key

        async def look_first() -> Room | None:
            # once the portal is idle: a job of an earlier attempt (an answer lost, a run
            # killed while its job ran) may have made the room meanwhile
            rooms = await ctx.rooms.refresh_tag(tag)
            return Room(rooms[0].id, rooms[0].title, (tag,)) if rooms else None

        self.once.intend(tag, step.key)
        self.once.writing(state, step.key, "created")
        try:
            room, made = await self.jobs.make_room(
                path.template_id, step.title, (*step.tags, tag), look_first
            )
        except AmbiguousWrite:
            raise
        except (ApiError, RowRefused):
            # the job failed (the portal deleted its room), or none was started
            self.once.withdraw(tag, step.key)
            raise
        if not made:  # a job whose answer was lost made it after all
            found = await self.client.existing(state, step, Look.FIRST)
            if found is not None:
                return found
        ctx.fresh_rooms.add(room.id)  # no members, no links but the primary one (11.3)
        entry = await ctx.rooms.add(room)
        return StepDone.of(RoomOut(room.id, entry.title), "created")

    async def content(self, state: RowState, step: TemplateContent, look: Look) -> StepDone:
        """While the template is used: what this run's job put in the room, by id down the
        folders (undo counts it as the run's, the CRM record carries it); nothing for a room
        found. Else the fallback steps, each its own step."""
        room_id = int(self.ctx.resolve(step.room, state))
        path = await self.path(step.template)
        if isinstance(path, Usable) or not step.fallback:
            made_now = state.outcomes.get(EnsureRoom.KEY) == "created"  # a resumed run's too
            if room_id not in self.ctx.fresh_rooms and not made_now:
                return StepDone.of(SkeletonOut(), "found")
            folders: list[int] = []
            files: list[int] = []
            await _everything(self.ctx, room_id, folders, files, 0)
            return StepDone.of(SkeletonOut(tuple(folders), tuple(files)), "created")
        for sub in step.fallback:
            if isinstance(sub, CopySkeleton):
                await self.once.run(state, sub, self.skeletons.skeleton)
            elif isinstance(sub, EnsureFolder):
                await self.once.run(state, sub, self.client.folder)
            else:
                await self.once.run(state, sub, self.client.copy)
        return _content_done(state, step)

    async def path(self, template: str) -> Usable | str:
        """Whether the template can be used, learned once per run."""
        async with self._lock:
            if template not in self._paths:
                self._paths[template] = await self._decide(template)
                if isinstance(why := self._paths[template], str):
                    log.warning("room_template_not_used", template=template, reason=why)
        return self._paths[template]

    async def _decide(self, template: str) -> Usable | str:
        client = self.ctx.client
        text = await client.portal_version()
        version = parse_version(text)
        if version < FIRST_VERSION:
            return f"the portal runs DocSpace {text or 'of an unknown version'}, which has no room templates (3.1 and later have them)"
        wanted = stored_title(template)
        found = [t for t in await client.find_templates(template) if t.title == wanted]
        if not found:
            return (
                f'the room template "{template}" is not in the portal (or the account neither '
                "owns it nor was given access to it)"
            )
        template_id = min(t.id for t in found)
        if version < RECURSIVE_VERSION and await self._nested(template_id):
            return (
                f"the portal runs DocSpace {text}, which copies only the first level of folders "
                f'of a room template, and "{template}" has folders within folders (3.7.1 and '
                "later copy them all)"
            )
        return Usable(template_id)

    async def _nested(self, template_id: int) -> bool:
        """True when a folder of the template holds a folder."""
        client = self.ctx.client
        for folder in (await client.items(template_id)).folders:
            if (await client.items(folder.id)).folders:
                return True
        return False


async def _everything(
    ctx: Context, folder_id: int, folders: list[int], files: list[int], depth: int
) -> None:
    """The ids of every folder and file in the folder, down the folders."""
    items = await ctx.client.items(folder_id)
    files += [f.id for f in items.files]
    folders += [f.id for f in items.folders]
    if depth < MAX_DEPTH:
        for folder in items.folders:
            await _everything(ctx, folder.id, folders, files, depth + 1)


def _instead(content: TemplateContent) -> str:
    skeleton = next((s for s in content.fallback if isinstance(s, CopySkeleton)), None)
    if skeleton is not None:
        return f'the room was made without it and given the content of "{skeleton.source}"'
    return "the room was made without it, its folders and copies step by step"


def _content_done(state: RowState, step: TemplateContent) -> StepDone:
    """What the fallback steps put in the room: the skeleton copy's output, or the ids of
    the folders and copies."""
    made: list[Outcome | None] = [state.outcomes.get(sub.key) for sub in step.fallback]
    outcome: Outcome = (
        "created" if "created" in made else "changed" if "changed" in made else "found"
    )
    skeleton = next((s for s in step.fallback if isinstance(s, CopySkeleton)), None)
    if skeleton is not None:
        return StepDone(dict(state.outputs[skeleton.key]), outcome)
    ids = {sub.key: int(state.outputs[sub.key]["id"]) for sub in step.fallback}
    out = SkeletonOut(
        tuple(ids[s.key] for s in step.fallback if isinstance(s, EnsureFolder)),
        tuple(ids[s.key] for s in step.fallback if isinstance(s, CopyFile)),
    )
    return StepDone.of(out, outcome)


_RUNS: WeakKeyDictionary[ClientActions, TemplateActions] = WeakKeyDictionary()


def template_actions(client: ClientActions) -> TemplateActions:
    """The run's one TemplateActions (its room and content steps share the job lock and what
    was learned of the template)."""
    actions = _RUNS.get(client)
    if actions is None:
        actions = _RUNS[client] = TemplateActions(client)
    return actions
