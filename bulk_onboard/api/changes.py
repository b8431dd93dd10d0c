"""Client methods that change rooms and people after onboarding (docspace-api.md 10):
rename/update a room, archive and restore it (a file operation polled through
`files/fileops`), raise a person's type, remove a member from a room.

DocSpaceClient mixes these in; they use its `_call` and the retry policy's `sleep`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bulk_onboard.api import bodies
from bulk_onboard.api.mixins import CallsMixin
from bulk_onboard.api.models import ARCHIVE_FOLDER_TYPE, ROOMS_FOLDER_TYPE
from bulk_onboard.api.wire import path_id
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.errors import AmbiguousWrite, PermanentError
from bulk_onboard.model import Json

PERSON_STATE_FIELDS = "id,email,status,activationStatus,isOwner,isAdmin"
POLL_SECONDS, POLL_TIMEOUT = 0.1, 30.0  # what the server's own tests use (BaseTest)


class RoomAndPeopleChanges(CallsMixin):
    """Mixed into DocSpaceClient, which provides `_call` and `retry_policy`."""

    if TYPE_CHECKING:  # what DocSpaceClient provides, declared for the type checker only

        @property
        def retry_policy(self) -> RetryPolicy: ...

    async def update_room(
        self, room_id: int, *, title: str | None = None, tags: list[str] | None = None
    ) -> Json:
        """PUT files/rooms/{id} → FolderDto. The portal cleans the title (`/` → `_` …):
        read the stored title from the answer, never match rooms by the title sent."""
        body = bodies.update_room_body(title, tags)
        reply = await self._call("PUT", "update_room", f"files/rooms/{path_id(room_id)}", body=body)
        return reply if isinstance(reply, dict) else {}

    async def rename_room(self, room_id: int, title: str) -> Json:
        """PUT files/rooms/{id} with a new title → FolderDto of the renamed room."""
        return await self.update_room(room_id, title=title)

    async def archive_room(
        self, room_id: int, *, give_up_after: float = POLL_TIMEOUT, interval: float = POLL_SECONDS
    ) -> Json:
        """PUT files/rooms/{id}/archive, then poll until the room is in the Archive →
        its FolderDto. Gives up after `give_up_after` seconds with AmbiguousWrite."""
        return await self._move(room_id, "archive", ARCHIVE_FOLDER_TYPE, give_up_after, interval)

    async def unarchive_room(
        self, room_id: int, *, give_up_after: float = POLL_TIMEOUT, interval: float = POLL_SECONDS
    ) -> Json:
        """PUT files/rooms/{id}/unarchive, then poll until the room is back in Rooms."""
        return await self._move(room_id, "unarchive", ROOMS_FOLDER_TYPE, give_up_after, interval)

    async def file_operations(self, operation_id: str | None = None) -> list[Json]:
        """GET files/fileops → the caller's FileOperationDto list (a finished operation is
        answered once, then gone)."""
        params: dict[str, str | int] = {} if operation_id is None else {"id": operation_id}
        reply = await self._call("GET", "file_operations", "files/fileops", params=params)
        return [o for o in reply if isinstance(o, dict)] if isinstance(reply, list) else []

    async def _move(
        self, room_id: int, verb: str, folder_type: int, give_up_after: float, interval: float
    ) -> Json:
        path = f"files/rooms/{path_id(room_id)}/{verb}"
        started = await self._call("PUT", f"{verb}_room", path, body=bodies.archive_body())
        operation = started if isinstance(started, dict) else {}
        op_id = str(operation.get("id") or "")
        deadline = time.monotonic() + give_up_after
        while not operation.get("finished"):
            if time.monotonic() >= deadline:
                raise AmbiguousWrite(
                    f"the portal did not finish the {verb} of room {room_id} within "
                    f"{give_up_after:g} s (operation {op_id or 'unknown'}); read the room before "
                    "trying again",
                    method="PUT",
                    path=path,
                )
            await self.retry_policy.sleep(interval)
            found = [o for o in await self.file_operations(op_id or None) if o.get("id") == op_id]
            if not found:
                break  # answered and dequeued elsewhere: treat as finished, re-read the room
            operation = found[0]
        if operation.get("error"):
            raise PermanentError(str(operation["error"]), method="PUT", path=path, status=200)
        room = await self._call("GET", "get_room", f"files/rooms/{path_id(room_id)}")
        room = room if isinstance(room, dict) else {}
        if room.get("rootFolderType") != folder_type:
            raise PermanentError(
                f"the {verb} of room {room_id} finished but the room is not where it should be "
                f"(rootFolderType {room.get('rootFolderType')!r}, expected {folder_type})",
                method="PUT",
                path=path,
                status=200,
            )
        return room

    async def set_user_type(self, user_type: int, user_ids: list[str]) -> list[Json]:
        """PUT people/type/{type} → EmployeeFullDto list. It only raises a type (Guest →
        User → RoomAdmin → DocSpaceAdmin); the same type or a downgrade is a 403."""
        if isinstance(user_type, bool) or not isinstance(user_type, int):
            raise TypeError(f"user_type must be an integer, not {user_type!r}")
        path = f"people/type/{int(user_type)}"
        body = bodies.user_ids_body(user_ids)
        reply = await self._call("PUT", "set_user_type", path, body=body)
        return [p for p in reply if isinstance(p, dict)] if isinstance(reply, list) else []

    async def remove_member(self, room_id: int, user_id: str) -> Json:
        """PUT files/rooms/{id}/share with access 0 for one member → RoomSecurityDto. By id
        only: an e-mail entry with access 0 removes nothing (docspace-api.md 10.6)."""
        if "@" in user_id:
            raise ValueError("remove a member by user id; an e-mail entry removes nothing")
        body = bodies.share_body([(user_id, 0)], notify=False)
        path = f"files/rooms/{path_id(room_id)}/share"
        reply = await self._call("PUT", "remove_member", path, body=body)
        return reply if isinstance(reply, dict) else {}

    async def set_user_status(self, status: int, user_ids: list[str]) -> list[Json]:
        """PUT people/status/{status}: 1 Active, 2 Terminated (disable) → EmployeeFullDto list.
        Every user is checked first: the owner, yourself or an unknown id → 403, nothing
        changed (docspace-api.md 10.5). No mail."""
        path = f"people/status/{int(status)}"
        reply = await self._call(
            "PUT", "set_user_status", path, body=bodies.user_ids_body(user_ids)
        )
        return [p for p in reply if isinstance(p, dict)] if isinstance(reply, list) else []

    async def delete_user(self, user_id: str) -> Json:
        """DELETE people/{id} → the deleted user's EmployeeFullDto. Only a disabled user:
        otherwise 403 "The user is not suspended" (disable first, docspace-api.md 10.5)."""
        reply = await self._call("DELETE", "delete_user", f"people/{path_id(user_id)}")
        return reply if isinstance(reply, dict) else {}

    async def person_state(self, email: str) -> Json | None:
        """GET people/email with id, email, status and activationStatus (1 Activated: the
        person accepted; 0 NotActivated, 2 Pending: not yet), or None when no such user."""
        params: dict[str, str | int] = {"email": email, "fields": PERSON_STATE_FIELDS}
        try:
            found = await self._call("GET", "person_state", "people/email", params=params)
        except PermanentError as err:
            if err.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None
