"""Run the steps of one row against the portal, exactly once.

Every step finds before it creates. A step the journal already holds is not run again. When a
write fails ambiguously (a timeout, 5xx or dropped connection after the request was sent, so
the portal may have applied it), the step looks at the portal again before trying once more,
so nothing is created twice. A step is journalled only after the portal confirmed it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import structlog

from bulk_onboard.api.retry import RetryPolicy
from bulk_onboard.errors import AmbiguousWrite, ApiError, PermanentError
from bulk_onboard.journal import Checkpoint, Journal
from bulk_onboard.lookups import ContentsIndex, PeopleIndex, RoomIndex, TemplateIndex
from bulk_onboard.records import LinkType
from bulk_onboard.report import RowResult, Status
from bulk_onboard.steps import (
    AnnounceCrm,
    CopyFile,
    EnsureFolder,
    EnsureLink,
    EnsureRoom,
    Plan,
    Ref,
    ShareRoom,
    Step,
)

log = structlog.get_logger("bulk_onboard")

Json = dict[str, Any]
Outcome = Literal["created", "changed", "found", "journal"]


@dataclass
class StepDone:
    outputs: Json
    outcome: Outcome


@dataclass
class RowState:
    """A row in progress: its plan, what its steps produced, what they cost."""

    plan: Plan
    values: tuple[tuple[str, str], ...]
    outputs: dict[str, Json] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    attempts: int = 0


class StepFailed(Exception):
    """A step of a row failed for good: carries the step key and the cause."""

    def __init__(self, step: str, cause: Exception) -> None:
        super().__init__(str(cause))
        self.step = step
        self.cause = cause


class Context:
    """Everything the steps share within a run."""

    def __init__(
        self,
        client: Any,
        *,
        journal: Journal,
        checkpoint: Checkpoint,
        rooms: RoomIndex,
        people: PeopleIndex,
        contents: ContentsIndex,
        templates: TemplateIndex,
        retry: RetryPolicy,
    ) -> None:
        self.client = client
        self.journal = journal
        self.checkpoint = checkpoint
        self.rooms = rooms
        self.people = people
        self.contents = contents
        self.templates = templates
        self.retry = retry
        self.ambiguous_attempts = retry.max_attempts
        # Rooms this run created: their members and links are known without asking.
        self.fresh_rooms: set[int] = set()
        # Members of each room as last seen or set by this run: e-mail -> (user id, access).
        self.members: dict[int, dict[str, tuple[str, int]]] = {}
        # Outputs of every row so far, for steps that refer to another row (memberships).
        self.row_outputs: dict[str, dict[str, Json]] = {}

    def resolve(self, ref: Ref, state: RowState) -> Any:
        outputs = state.outputs if ref.row is None else self.row_outputs.get(ref.row, {})
        try:
            return outputs[ref.step][ref.field]
        except KeyError:
            owner = ref.row or state.plan.row_key
            raise PermanentError(
                f"step {ref.step} of {owner} did not complete, so there is no {ref.field} to use",
                method="-",
                path="-",
            ) from None

    def forget_room(self, room_id: int) -> None:
        """After an ambiguous write to a room: ask the portal about it again."""
        self.fresh_rooms.discard(room_id)
        self.members.pop(room_id, None)

    async def pause_before_recheck(self, attempt: int) -> None:
        """Back off (with jitter) before looking again after an ambiguous write."""
        await self.retry.sleep(self.retry.backoff(attempt))

    async def run_step(
        self, state: RowState, step: Step, action: Callable[[bool], Awaitable[StepDone]]
    ) -> None:
        """Run one step once: skip it if journalled, look again after an ambiguous failure."""
        row = state.plan.row_key
        done = self.checkpoint.outputs(row).get(step.key)
        if done is not None:
            state.outputs[step.key] = done
            state.outcomes[step.key] = journalled(self.checkpoint.outcome(row, step.key))
            return
        recheck = False
        for attempt in range(1, self.ambiguous_attempts + 1):
            try:
                result = await action(recheck)
                break
            except AmbiguousWrite as exc:
                log.warning(
                    "step_ambiguous", row=row, step=step.key, attempt=attempt, error=str(exc)
                )
                if attempt == self.ambiguous_attempts:
                    raise StepFailed(step.key, exc) from exc
                recheck = True
                await self.pause_before_recheck(attempt)
            except ApiError as exc:
                raise StepFailed(step.key, exc) from exc
        if recheck and result.outcome == "found":
            # Found on a second look: the write that failed ambiguously had been applied.
            result.outcome = "created"
        state.outputs[step.key] = result.outputs
        state.outcomes[step.key] = result.outcome
        if result.outcome != "found":
            log.info("step_done", row=row, step=step.key, outcome=result.outcome)
        self.journal.record(row, step.key, result.outputs, result.outcome)


def journalled(outcome: str | None) -> Outcome:
    """A step done by an earlier attempt at this run (resume) or row (retry) counts as it did."""
    return outcome if outcome in ("created", "changed", "found") else "journal"  # type: ignore[return-value]


def row_status(state: RowState, primary: str) -> Status:
    """created if the row's main object was made now, updated if anything else was, else unchanged."""
    outcomes = state.outcomes
    if outcomes.get(primary) == "created":
        return Status.CREATED
    if any(o in ("created", "changed") for o in outcomes.values()):
        return Status.UPDATED
    return Status.UNCHANGED


def finish(state: RowState, status: Status, error: StepFailed | None = None) -> RowResult:
    return RowResult(
        row_key=state.plan.row_key,
        kind=state.plan.kind,
        origin=state.plan.origin,
        values=state.values,
        status=status,
        failed_step=error.step if error else None,
        error=explain(error.cause) if error else None,
        outputs=dict(state.outputs),
        outcomes=dict(state.outcomes),
        requests=state.requests,
        attempts=state.attempts,
        duration=time.monotonic() - state.started,
    )


def explain(cause: Exception) -> str:
    """One sentence for the report: what failed and what the user can do."""
    if isinstance(cause, AmbiguousWrite):
        return f"{cause}; the portal kept failing without a clear answer: run `bulk-onboard retry` later"
    if isinstance(cause, ApiError) and cause.method == "-":
        return cause.message
    return str(cause)


class ClientSteps:
    """The steps of a client row: room, folders, copies, access, link."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def run(self, state: RowState) -> None:
        for step in state.plan.steps:
            await self.ctx.run_step(state, step, self._action(state, step))

    def _action(self, state: RowState, step: Step) -> Callable[[bool], Awaitable[StepDone]]:
        if isinstance(step, EnsureRoom):
            return partial(self.room, state, step)
        if isinstance(step, EnsureFolder):
            return partial(self.folder, state, step)
        if isinstance(step, CopyFile):
            return partial(self.copy, state, step)
        if isinstance(step, ShareRoom):
            return partial(self.share, state, step)
        if isinstance(step, EnsureLink):
            return partial(self.link, state, step)
        if isinstance(step, AnnounceCrm):
            raise StepFailed(
                step.key,
                PermanentError(
                    "CRM delivery is not available in this version; remove the [crm] "
                    "section from the playbook",
                    method="-",
                    path="-",
                ),
            )
        raise TypeError(f"unexpected step {step!r} in a client plan")

    async def room(self, state: RowState, step: EnsureRoom, recheck: bool) -> StepDone:
        ctx = self.ctx
        tag = state.plan.row_key  # "client:<client_id>": marks the rooms this tool made
        found = await (ctx.rooms.refresh(step.title) if recheck else ctx.rooms.by_title(step.title))
        ours = [room for room in found if tag in (room.get("tags") or [])]
        if ours:
            room = ours[0]
            return StepDone({"id": room["id"], "title": room["title"]}, "found")
        if found:
            raise PermanentError(
                f'a room titled "{step.title}" already exists but was not created for '
                f"{tag.split(':', 1)[1]}; set another room_title for this client, or add the tag "
                f'"{tag}" to that room in DocSpace to adopt it',
                method="-",
                path="-",
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
        # Whoever may be mailed (an address the portal may not know) is locked first, so two
        # rows sharing one contact cannot both invite it.
        by_email = sorted({m.email.lower() for m in step.members if not m.by_id})
        locks = [ctx.people.lock(email) for email in by_email]
        for lock in locks:
            await lock.acquire()
        mailed: list[str] = []
        try:
            current = await current_members(ctx, room_id)
            invitations: list[tuple[str, int]] = []  # (user id, or e-mail if unknown; access)
            sent: list[tuple[str, str, int]] = []  # (e-mail, user id or "", access)
            for member in step.members:
                person = await ctx.people.get(member.email)
                if member.by_id:
                    person = require_manager(member.email, person)
                    if person.get("isOwner"):
                        continue  # the owner holds every room already
                have = current.get(member.email.lower())
                if have is not None and have[1] == int(member.access):
                    continue
                person_id = str(person["id"]) if person is not None else ""
                invitations.append((person_id or member.email, int(member.access)))
                sent.append((member.email.lower(), person_id, int(member.access)))
                if person is None:
                    mailed.append(member.email)
            if not invitations:
                return StepDone({}, "found")
            reply = await ctx.client.set_room_share(
                room_id, invitations, notify=step.notify, message=step.message, culture=step.culture
            )
        finally:
            for email in mailed:
                ctx.people.forget(email)  # now (or perhaps) a pending guest of the portal
            for lock in locks:
                lock.release()
        check_share_reply(reply, room_id)
        current.update({email: (person_id, access) for email, person_id, access in sent})
        return StepDone({}, "changed")

    async def link(self, state: RowState, step: EnsureLink, recheck: bool) -> StepDone:
        ctx = self.ctx
        room_id = int(ctx.resolve(step.room, state))
        if recheck:
            ctx.forget_room(room_id)
        client = ctx.client
        if step.link_type == LinkType.EXTERNAL:
            share = await client.primary_link(room_id)
            link = share.get("sharedLink") or {}
            if share.get("access") != int(step.access):
                share = await client.set_room_link(
                    room_id,
                    int(LinkType.EXTERNAL),
                    int(step.access),
                    step.title,
                    link_id=link.get("id"),
                )
                link = share.get("sharedLink") or {}
                return StepDone({"id": link.get("id"), "url": link.get("shareLink")}, "changed")
            outcome: Outcome = "created" if room_id in ctx.fresh_rooms else "found"
            return StepDone({"id": link.get("id"), "url": link.get("shareLink")}, outcome)
        existing = None
        if room_id not in ctx.fresh_rooms:
            links = await client.room_links(room_id, link_type=int(LinkType.INVITATION))
            existing = links[0] if links else None
        if existing is not None:
            link = existing.get("sharedLink") or {}
            if existing.get("access") == int(step.access):
                return StepDone({"id": link.get("id"), "url": link.get("shareLink")}, "found")
            share = await client.set_room_link(
                room_id,
                int(LinkType.INVITATION),
                int(step.access),
                step.title,
                link_id=link.get("id"),
            )
            link = share.get("sharedLink") or {}
            return StepDone({"id": link.get("id"), "url": link.get("shareLink")}, "changed")
        share = await client.set_room_link(
            room_id, int(LinkType.INVITATION), int(step.access), step.title
        )
        link = share.get("sharedLink") or {}
        return StepDone({"id": link.get("id"), "url": link.get("shareLink")}, "created")


async def current_members(ctx: Context, room_id: int) -> dict[str, tuple[str, int]]:
    """E-mail -> (user id, access) of the room's members, listed at most once per run;
    a room made by this run starts with none. Callers update the dict with what they set."""
    known = ctx.members.get(room_id)
    if known is not None:
        return known
    members: dict[str, tuple[str, int]] = {}
    if room_id not in ctx.fresh_rooms:
        for share in await ctx.client.room_share(room_id):
            user = share.get("sharedToUser")
            if user and user.get("email"):
                members[str(user["email"]).lower()] = (str(user["id"]), int(share.get("access", 0)))
    return ctx.members.setdefault(room_id, members)


def require_manager(email: str, person: Json | None) -> Json:
    if person is None:
        raise PermanentError(
            f"the account manager {email} has no DocSpace account; add them as a room admin "
            "(users sheet, type room-admin) or pick another manager",
            method="-",
            path="-",
        )
    if not (person.get("isOwner") or person.get("isAdmin") or person.get("isRoomAdmin")):
        raise PermanentError(
            f"the account manager {email} is not a room admin or DocSpace admin, so the portal "
            "cannot make them room manager; change their type in DocSpace or pick another manager",
            method="-",
            path="-",
        )
    return person


def check_share_reply(reply: Json | None, room_id: int) -> None:
    reply = reply or {}
    if reply.get("error"):
        raise PermanentError(
            f"the portal refused to change the members of room {room_id} (error {reply['error']})",
            method="PUT",
            path=f"/api/2.0/files/rooms/{room_id}/share",
        )
    if reply.get("warning"):
        log.warning("share_warning", room=room_id, warning=reply["warning"])
