"""What the steps of a run share: the portal client, what the run knows of the portal, and
the outputs of every row so far."""

from __future__ import annotations

from typing import Any

import structlog

from bulk_onboard.api.models import ShareReply
from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.engine.portal_cache import (
    ContentsIndex,
    GroupIndex,
    PeopleIndex,
    RoomIndex,
    TemplateIndex,
)
from bulk_onboard.engine.row import RowState
from bulk_onboard.errors import RowRefused
from bulk_onboard.model import Json
from bulk_onboard.model.outputs import RoomOut
from bulk_onboard.model.steps import EnsureRoom, Ref
from bulk_onboard.runs.journal import Checkpoint
from bulk_onboard.runs.set_members import SetMembers

log = structlog.get_logger("bulk_onboard")


class Context:
    """Everything the actions of a run share."""

    def __init__(self, client: PortalClient, *, expected_lookups: int = 1) -> None:
        self.client = client
        self.rooms = RoomIndex(client)
        self.contents = ContentsIndex(client)
        # Prefetching people pays off when it takes fewer requests than one per address.
        self.people = PeopleIndex(client, expected_lookups=expected_lookups)
        self.templates = TemplateIndex(self.rooms, self.contents)
        self.groups = GroupIndex(client)
        # The groups each room is shared with as last seen or set: group id -> access.
        self.room_group_shares: dict[int, dict[str, int]] = {}
        # Rooms this run created: their members and links are known without asking.
        self.fresh_rooms: set[int] = set()
        # Members of each room as last seen or set by this run: e-mail -> (user id, access).
        self.members: dict[int, dict[str, tuple[str, int]]] = {}
        # Outputs of every row so far, for steps that refer to another row (memberships).
        self.row_outputs: dict[str, dict[str, Json]] = {}
        # Whom this tool made each client room's manager and contact (the portal's memory,
        # set by the run; kept in memory only unless the run gives the portal's own).
        self.set_members = SetMembers(None)
        self._warned: set[tuple[str, ...]] = set()

    @classmethod
    def open(
        cls, client: PortalClient, checkpoint: Checkpoint, *, clients: int, users: int
    ) -> Context:
        """The context of a run: empty indexes over the portal, outputs of journalled rows.
        A person row looks one address up, a client row two (manager and contact)."""
        ctx = cls(client, expected_lookups=users + 2 * clients)
        # what other rows refer to: a client's room, for the people who join it
        for key, outputs in checkpoint.steps.items():
            room = RoomOut.read(outputs.get(EnsureRoom.KEY))
            if room is not None:
                ctx.row_outputs[key] = {EnsureRoom.KEY: room.to_json()}
        return ctx

    def resolve(self, ref: Ref, state: RowState) -> Any:
        outputs = state.outputs if ref.row is None else self.row_outputs.get(ref.row, {})
        try:
            return outputs[ref.step][ref.field]
        except KeyError:
            owner = ref.row or state.plan.row_key
            raise RowRefused(
                f"step {ref.step} of {owner} did not complete, so there is no {ref.field} to use"
            ) from None

    def first_time(self, *key: str) -> bool:
        """True the first time the run meets `key`: for what it says once, however many rows
        meet it."""
        if key in self._warned:
            return False
        self._warned.add(key)
        return True

    def forget_room(self, room_id: int) -> None:
        """After an ambiguous write to a room: ask the portal about it again."""
        self.fresh_rooms.discard(room_id)
        self.members.pop(room_id, None)
        self.room_group_shares.pop(room_id, None)

    async def room_groups(self, room_id: int) -> dict[str, int]:
        """Group id -> access of the room's group records, listed at most once per run; a
        room made by this run has none. Callers update the dict with what they set."""
        known = self.room_group_shares.get(room_id)
        if known is not None:
            return known
        found = [] if room_id in self.fresh_rooms else await self.client.group_shares(room_id)
        return self.room_group_shares.setdefault(room_id, dict(found))

    async def room_members(self, room_id: int) -> dict[str, tuple[str, int]]:
        """E-mail -> (user id, access) of the room's members, listed at most once per run;
        a room made by this run starts with none. Callers update the dict with what they set."""
        known = self.members.get(room_id)
        if known is not None:
            return known
        members: dict[str, tuple[str, int]] = {}
        if room_id not in self.fresh_rooms:
            for member in await self.client.members(room_id):
                if member.email:
                    members[member.email] = (member.user_id, member.access or 0)
        return self.members.setdefault(room_id, members)


def check_share_reply(reply: ShareReply, room_id: int) -> None:
    """What a share answered besides a refusal (raised in api/): a warning is logged."""
    if reply.warning:
        log.warning("share_warning", room=room_id, warning=reply.warning)
