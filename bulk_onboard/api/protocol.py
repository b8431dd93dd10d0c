"""PortalClient: what the engine may ask of a portal, and in what shapes it is answered.

Two classes satisfy it: `DocSpaceClient` (every call goes to the portal) and the dry run's
`PlanningClient` (reads go to the portal, writes are counted and answered with placeholders).
The engine is typed against this Protocol only, so either can be handed to it. Rooms, members,
links and people come back as the frozen types of api/models.py, never as the portal's DTOs;
refusals the engine acts on are told by `PermanentError.refusal`, never by message text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bulk_onboard.api.limits import ClientStats
from bulk_onboard.api.models import (
    FileOperation,
    FolderItems,
    Group,
    Item,
    Link,
    Member,
    Person,
    Room,
    ShareReply,
)
from bulk_onboard.api.portal import Listed
from bulk_onboard.api.templates import TemplateJob
from bulk_onboard.backoff import RetryPolicy


class PortalClient(Protocol):
    @property
    def stats(self) -> ClientStats: ...

    @property
    def retry_policy(self) -> RetryPolicy: ...

    # rooms
    async def new_room(self, title: str, room_type: int, tags: Iterable[str] = ()) -> Room: ...
    async def find_rooms(self, *, tags: Iterable[str] = (), search_area: int = 0) -> list[Room]: ...
    async def retitle_room(self, room_id: int, title: str) -> Room: ...

    # room templates (docspace-api.md 11)
    async def portal_version(self) -> str: ...
    async def find_templates(self, title: str) -> list[Room]: ...
    async def start_room_from_template(
        self, template_id: int, title: str, tags: Iterable[str]
    ) -> TemplateJob | None: ...
    async def room_from_template_status(self) -> TemplateJob | None: ...
    async def room(self, room_id: int) -> Room: ...

    # folders and files
    async def new_folder(self, parent_id: int, title: str) -> Item: ...
    async def items(self, folder_id: int) -> FolderItems: ...
    async def copy_file(self, file_id: int, dest_folder_id: int, dest_title: str) -> Item: ...
    async def copy_into(
        self,
        dest_folder_id: int,
        *,
        folder_ids: Iterable[int] = (),
        file_ids: Iterable[int] = (),
        content: bool = False,
    ) -> FileOperation: ...

    # access and links
    async def share_room(
        self,
        room_id: int,
        invitations: Iterable[tuple[str, int]],
        notify: bool = False,
        message: str | None = None,
        culture: str | None = None,
    ) -> ShareReply: ...
    async def members(self, room_id: int) -> list[Member]: ...
    async def open_primary_link(self, room_id: int) -> Link: ...
    async def links(self, room_id: int, link_type: int | None = None) -> list[Link]: ...
    async def put_link(
        self, room_id: int, link_type: int, access: int, title: str, link_id: str | None = None
    ) -> Link | None: ...

    # people
    async def new_person(
        self,
        email: str,
        first_name: str,
        last_name: str,
        user_type: int,
        culture: str | None = None,
    ) -> Person: ...
    async def new_guest(self, email: str, first_name: str, last_name: str) -> Person: ...
    async def invite_users(  # the answer is not read: any value will do
        self,
        invitations: Iterable[tuple[str, int]],
        culture: str | None = None,
        *,
        answer: bool = True,
    ) -> object: ...
    async def person(self, email: str) -> Person | None: ...
    async def me(self) -> Person: ...
    async def set_user_type(self, user_type: int, user_ids: list[str]) -> object: ...
    async def listed_people(
        self, start_index: int = 0, count: int = 100
    ) -> tuple[list[Listed], int]: ...

    # groups (docspace-api.md 12)
    async def groups_named(self, name: str) -> list[Group]: ...
    async def group(self, group_id: str) -> Group | None: ...
    async def new_group(self, name: str) -> Group: ...
    async def add_to_group(self, group_id: str, user_ids: Iterable[str]) -> Group: ...
    async def group_shares(self, room_id: int) -> list[tuple[str, int]]: ...
