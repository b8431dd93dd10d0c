"""`bulk-onboard undo RUN`: take back what a run did, and nothing else.

First every effect the run's journals hold (engine/undo_scope.py) is looked at on the portal
as it is now, and gets a decision:

    room the run created      archived (docspace-api.md 10.2: never deleted); left alone when
                              someone used it since: a folder, file or member the run did not
                              add; nothing to do when it is archived or gone already
    member the run added to   removed (10.6: PUT rooms/{id}/share, access 0, by id); left alone
    a room that existed       when their access was changed since, or the room was archived
    person the run invited    disabled, then deleted (10.5: DELETE needs a disabled user); left
                              alone once they accepted the invitation, when the address
                              now belongs to another account, or while they are a member of a
                              room of the run that stays
    client it announced       a client_offboarded record through the playbook's CRM sinks,
                              once its room is archived
    room shared with a group  the group's record removed (access 0, by id), in a room that
                              existed; left alone when its access was changed since
    member added to a group   removed (DELETE group/{id}/members) from a group that existed
    group the run made        deleted (DELETE group/{id}: its room records go with it); left
                              alone when it has members the run did not add

`look()` only reads. `apply()` does the decided actions in that order (rooms, members, group
records, group members, groups, people, CRM), each journalled in the run folder's undo.jsonl once the portal confirmed it. A killed
undo runs again from the portal's state: an archived room, a removed member, a disabled or
deleted person are seen as such, and the journal keeps a CRM record from being sent twice. So
a second undo finds nothing to do.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import structlog

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.models import TERMINATED, Room
from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.crm.payload import build_offboard_record
from bulk_onboard.engine.undo_scope import Effect, RunEffects
from bulk_onboard.errors import ApiError, CrmError
from bulk_onboard.logs import redact
from bulk_onboard.model import Json
from bulk_onboard.runs.journal import Checkpoint, Journal

log = structlog.get_logger("bulk_onboard")

AT_ONCE = 4  # effects looked at or taken back at once

T = TypeVar("T")

Action = Literal[
    "archive", "remove", "disable_delete", "delete", "offboard", "ungroup", "delete_group"
]
State = Literal["to_do", "done", "left_alone", "nothing_to_do", "failed"]


@dataclass
class Decision:
    effect: Effect
    state: State
    action: Action | None = None
    detail: str = ""
    person_id: str = ""  # the id to act on, as the portal has it now

    @property
    def what(self) -> str:
        e = self.effect
        if e.kind == "room":
            return f'room {e.room_id} "{e.title}"'
        if e.kind == "member":
            return f"member {e.email} of room {e.room_id}"
        if e.kind == "person":
            return f"person {e.email}"
        if e.kind == "group":
            return f'group "{e.title}"'
        if e.kind == "group_member":
            return f'member {e.email} of group "{e.title}"'
        if e.kind == "group_share":
            return f'group "{e.title}" in room {e.room_id}'
        return f"CRM record of {e.row.split(':', 1)[1]} (room {e.room_id})"


class Progress:
    def start(self, total: int) -> None:
        pass

    def advance(self) -> None:
        pass

    def close(self) -> None:
        pass


class Undo:
    def __init__(
        self,
        client: DocSpaceClient,
        effects: RunEffects,
        done: Checkpoint,
        *,
        portal_url: str,
        undo_id: str,
        crm: CrmDelivery | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.client = client
        self.effects = effects
        self.done = done  # what earlier undos of this run journalled
        self.portal_url = portal_url
        self.undo_id = undo_id
        self.crm = crm
        self.progress = progress or Progress()
        self._rooms: dict[int, Room | None] = {}
        self._room_decisions: dict[int | None, Decision] = {}
        self._staying: set[int | None] = set()  # rooms of the run that are left alone
        self._staying_members: set[tuple[int | None, str]] = set()
        self._me = ""

    # ------------------------------------------------------------------ looking

    async def look(self) -> list[Decision]:
        """A decision for every effect of the run, from the portal as it is now."""
        e = self.effects
        log.info("undo_started", run_id=e.run_id, undo_id=self.undo_id, effects=e.total)
        self._me = (await self.client.me()).id
        rooms = await _each(e.rooms, self._look_room)
        self._room_decisions = {d.effect.room_id: d for d in rooms}
        members = await _each(e.members, self._look_member)
        self._staying = {d.effect.room_id for d in rooms if d.state == "left_alone"}
        self._staying_members = {
            (d.effect.room_id, d.effect.email) for d in members if d.state == "left_alone"
        }
        people = await _each(e.people, self._look_person)
        crm = [self._look_crm(x) for x in e.announced]
        shares = await _each(e.group_shares, self._look_group_share)
        in_groups = await _each(e.group_members, self._look_group_member)
        groups = await _each(e.groups, self._look_group)
        return [*rooms, *members, *shares, *in_groups, *groups, *people, *crm]

    def _room_goes(self, room_id: int | None) -> bool:
        """Is (or will) the room be archived or gone, so its client is offboarded?"""
        decision = self._room_decisions.get(room_id)
        if decision is None:
            return False
        return (decision.action == "archive" and decision.state != "failed") or (
            decision.state == "nothing_to_do"
        )

    async def _room(self, room_id: int) -> Room | None:
        """The room as the portal has it now; None when it is gone (or no longer ours to see)."""
        if room_id not in self._rooms:
            try:
                self._rooms[room_id] = await self.client.room(room_id)
            except ApiError as err:
                if err.status not in (403, 404):
                    raise
                self._rooms[room_id] = None
        return self._rooms[room_id]

    async def _look_room(self, effect: Effect) -> Decision:
        assert effect.room_id is not None
        room = await self._room(effect.room_id)
        if room is None:
            return Decision(effect, "nothing_to_do", detail="the room is gone")
        if room.archived:
            return Decision(effect, "nothing_to_do", detail="archived already")
        used = await self._used_since(effect.room_id)
        if used:
            return Decision(effect, "left_alone", detail=f"used since the run: {used}")
        return Decision(effect, "to_do", "archive")

    async def _used_since(self, room_id: int) -> str:
        """What is in the room that the run did not put there ("" for nothing)."""
        folders = self.effects.made_folders.get(room_id, set())
        files = self.effects.made_files.get(room_id, set())
        other_folders = other_files = 0
        todo = [room_id]
        while todo:
            contents = await self.client.items(todo.pop())
            for folder in contents.folders:
                if folder.id in folders:
                    todo.append(folder.id)
                else:
                    other_folders += 1
            other_files += sum(1 for f in contents.files if f.id not in files)
        joined = self.effects.joined_room.get(room_id, set())
        other_members = 0
        for member in await self.client.members(room_id):
            if member.owner or member.user_id == self._me:
                continue
            if member.email not in joined:
                other_members += 1
        parts = [
            _count(other_folders, "folder"),
            _count(other_files, "file"),
            _count(other_members, "member"),
        ]
        said = [p for p in parts if p]
        return " and ".join(said) + " the run did not add" if said else ""

    async def _look_member(self, effect: Effect) -> Decision:
        assert effect.room_id is not None
        room = await self._room(effect.room_id)
        if room is None:
            return Decision(effect, "nothing_to_do", detail="the room is gone")
        if room.archived:
            return Decision(
                effect, "left_alone", detail="the room was archived since; its members stay"
            )
        for member in await self.client.members(effect.room_id):
            same = (effect.person_id and member.user_id == effect.person_id) or (
                member.email == effect.email
            )
            if not same:
                continue
            if effect.access is not None and member.access != effect.access:
                return Decision(
                    effect,
                    "left_alone",
                    detail=f"their access was changed since the run (now {member.access})",
                )
            return Decision(effect, "to_do", "remove", person_id=member.user_id)
        return Decision(effect, "nothing_to_do", detail="not a member any more")

    async def _look_person(self, effect: Effect) -> Decision:
        for room_id, emails in sorted(self.effects.joined_room.items()):
            if effect.email in emails and (
                room_id in self._staying or (room_id, effect.email) in self._staying_members
            ):
                return Decision(
                    effect,
                    "left_alone",
                    detail=f"still a member of room {room_id}, which stays",
                )
        person = await self.client.account(effect.email)
        if person is None:
            return Decision(effect, "nothing_to_do", detail="deleted already")
        person_id = person.id
        if effect.person_id and person_id != effect.person_id:
            return Decision(
                effect, "left_alone", detail="the address belongs to another account now"
            )
        if person.activated:
            return Decision(effect, "left_alone", detail="accepted the invitation")
        if person.owner:
            return Decision(effect, "left_alone", detail="the portal's owner")
        action: Action = "delete" if person.status == TERMINATED else "disable_delete"
        return Decision(effect, "to_do", action, detail="has not accepted", person_id=person_id)

    async def _look_group_share(self, effect: Effect) -> Decision:
        assert effect.room_id is not None
        room = await self._room(effect.room_id)
        if room is None:
            return Decision(effect, "nothing_to_do", detail="the room is gone")
        if room.archived:
            return Decision(effect, "left_alone", detail="the room was archived since")
        shares = dict(await self.client.group_shares(effect.room_id))
        access = shares.get(effect.group_id)
        if access is None:
            return Decision(effect, "nothing_to_do", detail="the room is not shared with it now")
        if effect.access is not None and access != effect.access:
            detail = f"its access was changed since the run (now {access})"
            return Decision(effect, "left_alone", detail=detail)
        return Decision(effect, "to_do", "remove", person_id=effect.group_id)

    async def _look_group_member(self, effect: Effect) -> Decision:
        group = await self.client.group(effect.group_id)
        if group is None:
            return Decision(effect, "nothing_to_do", detail="the group is gone")
        if effect.person_id not in (group.members or frozenset()):
            return Decision(effect, "nothing_to_do", detail="not a member any more")
        return Decision(effect, "to_do", "ungroup", person_id=effect.person_id)

    async def _look_group(self, effect: Effect) -> Decision:
        group = await self.client.group(effect.group_id)
        if group is None:
            return Decision(effect, "nothing_to_do", detail="the group is gone")
        ours = self.effects.joined_group.get(effect.group_id, set())
        others = len((group.members or frozenset()) - ours)
        if others:
            detail = f"{_count(others, 'member')} the run did not add"
            return Decision(effect, "left_alone", detail=detail)
        return Decision(effect, "to_do", "delete_group")

    def _look_crm(self, effect: Effect) -> Decision:
        if self.done.outputs(effect.key).get("offboard") is not None:
            return Decision(effect, "nothing_to_do", detail="client_offboarded sent already")
        if not self._room_goes(effect.room_id):
            return Decision(effect, "left_alone", detail="its room stays, so the client does too")
        if self.crm is None:
            return Decision(effect, "left_alone", detail="the playbook names no CRM sink now")
        return Decision(effect, "to_do", "offboard")

    # ------------------------------------------------------------------ taking back

    async def apply(self, decisions: Sequence[Decision], journal: Journal) -> None:
        """Do every decided action, in order; each confirmed one is journalled."""
        todo = [d for d in decisions if d.state == "to_do"]
        self.progress.start(len(todo))
        for kind in ("room", "member", "group_share", "group_member", "group", "person", "crm"):
            await _each(
                [d for d in todo if d.effect.kind == kind], lambda d: self._apply(d, journal)
            )
        self.progress.close()
        states = Counter(str(d.state) for d in decisions)
        log.info("undo_finished", run_id=self.effects.run_id, undo_id=self.undo_id, **states)

    async def _apply(self, decision: Decision, journal: Journal) -> Decision:
        try:
            if decision.action == "archive":
                await self._archive(decision, journal)
            elif decision.action == "remove":
                await self._remove(decision, journal)
            elif decision.action in ("ungroup", "delete_group"):
                await self._ungroup(decision, journal)
            elif decision.action in ("disable_delete", "delete"):
                if decision.action == "disable_delete":
                    await self.client.set_user_status(TERMINATED, [decision.person_id])
                    self._journal(journal, decision, "disable", {"person": decision.person_id})
                await self.client.delete_user(decision.person_id)
                self._journal(journal, decision, "delete", {"person": decision.person_id})
            elif decision.action == "offboard" and not await self._offboard(decision, journal):
                decision.state, decision.detail = "left_alone", "its room was not archived"
                self.progress.advance()
                return decision
            decision.state = "done"
        except (ApiError, CrmError) as exc:
            # redacted as every error text is: an archive operation's error is the portal's
            # own text, passed on as it came (api/changes.py)
            decision.state, decision.detail = "failed", redact(str(exc))
            log.warning("undo_failed", item=decision.effect.key, error=decision.detail)
        self.progress.advance()
        return decision

    async def _archive(self, decision: Decision, journal: Journal) -> None:
        room_id = decision.effect.room_id
        assert room_id is not None
        await self.client.archive_room(room_id)
        self._journal(journal, decision, "archive", {"room": room_id})

    async def _remove(self, decision: Decision, journal: Journal) -> None:
        room_id = decision.effect.room_id
        assert room_id is not None
        await self.client.remove_from_room(room_id, decision.person_id)
        self._journal(journal, decision, "remove", {"person": decision.person_id})

    async def _ungroup(self, decision: Decision, journal: Journal) -> None:
        """A member out of a group that existed, or a group the run made deleted."""
        group_id = decision.effect.group_id
        if decision.action == "ungroup":
            await self.client.remove_from_group(group_id, [decision.person_id])
            self._journal(journal, decision, "ungroup", {"person": decision.person_id})
        else:
            await self.client.delete_group(group_id)
            self._journal(journal, decision, "delete_group", {"group": group_id})

    async def _offboard(self, decision: Decision, journal: Journal) -> bool:
        """The client_offboarded record, once its room is archived (False: it was not)."""
        e = decision.effect
        assert self.crm is not None and e.room_id is not None
        if not self._room_goes(e.room_id):
            return False
        record = build_offboard_record(
            e.row.split(":", 1)[1],
            e.room_id,
            e.title,
            run_id=self.undo_id,
            portal_url=self.portal_url,
            at=time.time(),
        )
        result = await self.crm.deliver(record)
        self._journal(journal, decision, "offboard", result.outputs())
        return True

    def _journal(self, journal: Journal, decision: Decision, what: str, out: Json) -> None:
        journal.record(decision.effect.key, what, out, "done")
        log.info("undo_step", what=what, item=decision.effect.key)


async def _each(items: Sequence[T], work: Callable[[T], Awaitable[Decision]]) -> list[Decision]:
    """`work` for every item, AT_ONCE at a time, results in the items' order."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(item: T) -> Decision:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}" if n else ""
