"""Whether the run's key sees every room: client rooms are created only by a key that does.

A room admin's key lists only the rooms its user is in or created (GET files/rooms,
docspace-api.md 10.2), and neither `GET files/tags` nor `tags/{name}/haslinks` tells it
whether a client's tag is in use elsewhere: a client whose room another admin made looks "not
there", and a run would make it a second room. So with a key that is not a DocSpace admin's
the run says so before any write, and client rooms are not created unless the admin
acknowledged it (`--allow-partial-room-view`, or the playbook's `[room] allow_partial_view =
true`). The people rows go on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import structlog

from bulk_onboard.engine.context import Context
from bulk_onboard.errors import ApiError, RowRefused
from bulk_onboard.model.steps import EnsureRoom, Plan

log = structlog.get_logger("bulk_onboard")

OPTION = "--allow-partial-room-view"
PLAYBOOK_KEY = "[room] allow_partial_view = true"

PARTIAL_VIEW = (
    "the account bulk-onboard works as is not a DocSpace admin: the rooms other admins made "
    "are invisible to it (docspace-api.md 10.2), so a client whose room someone else made "
    "looks new and would get a second room"
)


def refusal() -> RowRefused:
    """Why a client row's room is not created with a partial view of the rooms."""
    return RowRefused(
        f"{PARTIAL_VIEW}; client rooms are not created with this key: use a DocSpace admin's "
        f"key, or, if no other admin makes client rooms, acknowledge it with {OPTION} (or the "
        f"playbook's {PLAYBOOK_KEY})"
    )


class RoomView:
    """Whether this run may make client rooms, decided once: asked before any write (a
    failure to ask is left to the first client row, which fails on it as any step would)."""

    def __init__(self, ctx: Context, clients: Iterable[Plan], *, acknowledged: bool) -> None:
        self.ctx = ctx
        self.acknowledged = acknowledged
        self.needed = any(isinstance(s, EnsureRoom) for plan in clients for s in plan.steps)
        self._decided = False
        self._refused: RowRefused | None = None

    async def announce(self) -> None:
        """Before any write: say whether this key sees every room (once)."""
        with contextlib.suppress(ApiError):  # the first client row asks again, fails on it
            await self.refused()

    async def refused(self) -> RowRefused | None:
        """The refusal the client rows that would create a room fail with; None when the key
        sees every room, no row creates one, or the admin acknowledged a partial view."""
        if self._decided or not self.needed:
            return self._refused
        if not await self.ctx.people.sees_everyone():
            if self.acknowledged:
                said = f"{PARTIAL_VIEW}; acknowledged with {OPTION}"
                log.warning("partial_room_view", message=said)
            else:
                self._refused = refusal()
                log.warning("partial_room_view", message=str(self._refused))
        self._decided = True
        return self._refused
