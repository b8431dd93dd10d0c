"""PortalClient: what the engine may ask of a portal.

Two classes satisfy it: `DocSpaceClient` (every call goes to the portal) and the dry run's
`PlanningClient` (reads go to the portal, writes are counted and answered with placeholders).
The engine is typed against this Protocol only, so either can be handed to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bulk_onboard.api.limits import ClientStats
from bulk_onboard.api.models import FolderContents
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.model import Json


class PortalClient(Protocol):
    @property
    def stats(self) -> ClientStats: ...

    @property
    def retry_policy(self) -> RetryPolicy: ...

    # rooms
    async def create_room(self, title: str, room_type: int, tags: Iterable[str] = ()) -> Json: ...
    async def all_rooms(
        self, filter_value: str | None = None, *, tags: Iterable[str] = (), search_area: int = 0
    ) -> list[Json]: ...
    async def update_room(
        self, room_id: int, *, title: str | None = None, tags: list[str] | None = None
    ) -> Json: ...

    # folders and files
    async def create_folder(self, parent_id: int, title: str) -> Json: ...
    async def folder_contents(self, folder_id: int) -> FolderContents: ...
    async def copy_file_as(self, file_id: int, dest_folder_id: int, dest_title: str) -> Json: ...

    # access and links
    async def set_room_share(
        self,
        room_id: int,
        invitations: Iterable[tuple[str, int]],
        notify: bool = False,
        message: str | None = None,
        culture: str | None = None,
    ) -> Json: ...
    async def room_share(self, room_id: int, filter_type: int | None = None) -> list[Json]: ...
    async def primary_link(self, room_id: int) -> Json: ...
    async def room_links(self, room_id: int, link_type: int | None = None) -> list[Json]: ...
    async def set_room_link(
        self, room_id: int, link_type: int, access: int, title: str, link_id: str | None = None
    ) -> Json | None: ...

    # people
    async def add_member(
        self,
        email: str,
        first_name: str,
        last_name: str,
        user_type: int,
        culture: str | None = None,
    ) -> Json: ...
    async def invite_users(
        self,
        invitations: Iterable[tuple[str, int]],
        culture: str | None = None,
        *,
        answer: bool = True,
    ) -> list[Json]: ...
    async def user_by_email(self, email: str) -> Json | None: ...
    async def self_profile(self) -> Json: ...
    async def set_user_type(self, user_type: int, user_ids: list[str]) -> list[Json]: ...
    async def people_page(
        self, start_index: int = 0, count: int = 100
    ) -> tuple[list[Json], int]: ...
