"""Groups and rooms shared with them (docspace-api.md 12): the raw calls and what they mean.

DocSpaceClient mixes these in. A group is found by name (`GET group?filterValue=`, a
case-insensitive "contains" on the server) and matched exactly here, on every page; names are
not unique, so the caller gets every exact match. `PUT group/{id}/members` skips unknown,
disabled and guest ids without an error: its answer's members say who is in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bulk_onboard.api.mixins import CallsMixin
from bulk_onboard.api.models import Group, shared_group
from bulk_onboard.api.wire import path_id
from bulk_onboard.errors import PermanentError
from bulk_onboard.model import Json

GROUP_FIELDS = "id,name"
GROUP_MEMBER_FIELDS = "id,name,members.id"
GROUP_SHARE_FILTER = 32  # ShareFilterType Group: only the room's group records
GROUP_SHARE_FIELDS = "access,sharedToGroup.id"
PROBLEM_FIELDS = "title,errors"


class GroupCalls(CallsMixin):
    """Mixed into DocSpaceClient, which provides `_call` and `_pages`."""

    if TYPE_CHECKING:  # what DocSpaceClient provides, declared for the type checker only

        async def _pages(
            self, action: str, path: str, extra: dict[str, str | int]
        ) -> list[Json]: ...
        async def room_share(
            self, room_id: int, filter_type: int | None = None, fields: str | None = ...
        ) -> list[Json]: ...

    async def groups_named(self, name: str) -> list[Group]:
        """GET group?filterValue=<name>, all pages → the groups named exactly `name`."""
        params: dict[str, str | int] = {"filterValue": name, "fields": GROUP_FIELDS}
        listed = await self._pages("groups", "group", params)
        return [g for g in (Group.from_dto(dto) for dto in listed) if g.name == name and g.id]

    async def group(self, group_id: str) -> Group | None:
        """GET group/{id} with its members' ids; None when there is no such group (404)."""
        params: dict[str, str | int] = {"fields": GROUP_MEMBER_FIELDS}
        try:
            dto = await self._call("GET", "group", f"group/{path_id(group_id)}", params=params)
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return Group.from_dto(dto if isinstance(dto, dict) else {})

    async def new_group(self, name: str) -> Group:
        """POST group → the new group (DocSpace admins only: 403 for anyone else)."""
        params: dict[str, str | int] = {"fields": f"{GROUP_MEMBER_FIELDS},{PROBLEM_FIELDS}"}
        dto = await self._call(
            "POST", "new_group", "group", params=params, body={"groupName": name}
        )
        return Group.from_dto(dto if isinstance(dto, dict) else {})

    async def add_to_group(self, group_id: str, user_ids: Iterable[str]) -> Group:
        """PUT group/{id}/members → the group with all its members' ids (ids the portal
        skipped are not among them)."""
        params: dict[str, str | int] = {"fields": f"{GROUP_MEMBER_FIELDS},{PROBLEM_FIELDS}"}
        body = {"members": [str(u) for u in user_ids]}
        path = f"group/{path_id(group_id)}/members"
        dto = await self._call("PUT", "add_to_group", path, params=params, body=body)
        return Group.from_dto(dto if isinstance(dto, dict) else {})

    async def remove_from_group(self, group_id: str, user_ids: Iterable[str]) -> None:
        """DELETE group/{id}/members (a body on DELETE)."""
        body = {"members": [str(u) for u in user_ids]}
        params: dict[str, str | int] = {"fields": "id"}
        path = f"group/{path_id(group_id)}/members"
        await self._call("DELETE", "remove_from_group", path, params=params, body=body)

    async def delete_group(self, group_id: str) -> None:
        """DELETE group/{id}: the group and every room share of it (answered 204)."""
        await self._call("DELETE", "delete_group", f"group/{path_id(group_id)}")

    async def group_shares(self, room_id: int) -> list[tuple[str, int]]:
        """GET files/rooms/{id}/share?filterType=32, all pages → (group id, access) pairs."""
        listed = await self.room_share(room_id, GROUP_SHARE_FILTER, fields=GROUP_SHARE_FIELDS)
        found = (shared_group(share) for share in listed)
        return [pair for pair in found if pair is not None]
