"""DocSpaceClient: one method per DocSpace API action, named after it.

    async with DocSpaceClient(settings) as client:
        room = await client.create_room("Acme", RoomType.CUSTOM, ["client"])

Methods return the portal's `response` DTOs as dicts, lists of them, or small tuples; the
calls the engine makes (api/portal.py, mixed in) decode those into the types of models.py.
All raise the classified errors of bulk_onboard.errors. List methods named `all_*`,
`folder_contents`, `room_share` and `filter_people` page through every result (count 100).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

import aiohttp

from bulk_onboard.api import bodies
from bulk_onboard.api.changes import RoomAndPeopleChanges
from bulk_onboard.api.groups import GroupCalls
from bulk_onboard.api.limits import ClientStats, Throttle
from bulk_onboard.api.models import SEARCH_ACTIVE as SEARCH_ACTIVE
from bulk_onboard.api.models import SEARCH_ANY as SEARCH_ANY
from bulk_onboard.api.models import SEARCH_ARCHIVE as SEARCH_ARCHIVE
from bulk_onboard.api.models import FolderContents
from bulk_onboard.api.portal import PortalCalls
from bulk_onboard.api.session import Params
from bulk_onboard.api.templates import RoomTemplateCalls
from bulk_onboard.api.transport import Transport
from bulk_onboard.api.user_limits import UserLimits
from bulk_onboard.api.wire import path_id
from bulk_onboard.backoff import Clock, RetryPolicy
from bulk_onboard.config import Settings
from bulk_onboard.errors import PermanentError
from bulk_onboard.model import Json

PAGE_SIZE = 100  # the portal's maximum `count`
_NOT_FOUND = frozenset({404})
MAX_PAGES = 10_000  # a runaway guard: a million entries
# `fields=` (docspace-api.md 10.3) on the listings and on people/invite (whose answer lists
# every activation-pending user of the portal, 10.5): only what the typed answers of models.py
# hold (decoded in portal.py for the engine, the dry run and the portal cache). Rooms by
# id/title/tags/roomType/archived (models.Room); people by id/e-mail, type flags and state
# (models.Person); a folder's files and folders by id and title (models.Item), `total` for
# paging; members by user id/e-mail, access and isOwner (models.Member); links by access and
# sharedLink id/shareLink/primary (models.Link). Pass fields=None for whole DTOs.
ROOM_FIELDS = "total,folders.id,folders.title,folders.tags,folders.roomType,folders.rootFolderType"
PERSON_FIELDS = (
    "id,email,isOwner,isAdmin,isRoomAdmin,isCollaborator,isVisitor,status,activationStatus"
)
INVITED_FIELDS = "id"
CONTENTS_FIELDS = "total,current.id,files.id,files.title,folders.id,folders.title"
DATED_FIELDS = "id,title,created,updated"
MY_FIELDS = "total,current.id,files.id," + ",".join(f"folders.{f}" for f in DATED_FIELDS.split(","))
MEMBER_FIELDS = "access,isOwner,sharedToUser.id,sharedToUser.email"
LINK_FIELDS = "access,sharedLink.id,sharedLink.shareLink,sharedLink.primary"
# ... and on the answers of writes (every endpoint honours it, 10.3): a room share answers
# with every member's whole EmployeeFullDto (12 KB for a room of ten), of which only error,
# warning and the members' ids are read (portal.share_room, models.ShareReply: an id sent but
# not listed was dropped); a new room, folder or file by id and title (models.Room, Item); a
# new person as user_by_email's (models.Person).
# The rules trim a 400's ValidationProblemDetails as well: `title` and `errors` keep its reasons
# (wire.validation_summary), so a bad value is still named.
PROBLEM_FIELDS = "title,errors"
NEW_ROOM_FIELDS = f"id,tags,roomType,rootFolderType,{PROBLEM_FIELDS}"
NEW_ITEM_FIELDS = f"id,{PROBLEM_FIELDS}"
SHARE_REPLY_FIELDS = f"error,warning,members.sharedTo.id,members.sharedToUser.id,{PROBLEM_FIELDS}"
NEW_PERSON_FIELDS = f"{PERSON_FIELDS},{PROBLEM_FIELDS}"
NEW_LINK_FIELDS = f"{LINK_FIELDS},{PROBLEM_FIELDS}"


class DocSpaceClient(RoomAndPeopleChanges, GroupCalls, RoomTemplateCalls, PortalCalls):
    """The portal's REST API under the run's limits. Use as an async context manager.

    The methods below return the portal's DTOs as sent; the engine uses the typed calls
    of PortalCalls (api/portal.py) over them."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        throttle: Throttle | None = None,
        clock: Clock = time.monotonic,
        log_limits: bool = True,
        shared: UserLimits | None = None,
    ) -> None:
        self._transport = Transport(
            settings,
            session=session,
            throttle=throttle,
            clock=clock,
            log_limits=log_limits,
            shared=shared,
        )

    async def __aenter__(self) -> Self:
        await self._transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._transport.close()

    async def aclose(self) -> None:
        await self._transport.close()

    @property
    def stats(self) -> ClientStats:
        return self._transport.stats

    @property
    def shared(self) -> UserLimits:
        """Its pacer and in-flight caps, for another client of the same run to share."""
        return self._transport.shared

    @property
    def retry_policy(self) -> RetryPolicy:
        """The run's retry bounds and waiting seams (the engine's look-again loop uses them)."""
        return self._transport.policy

    def restarted_since(self, at: float) -> bool:
        """The portal could not be reached after `at` (monotonic) and answers again: what it
        was running then has ended (engine/exactly_once.py)."""
        return self._transport.restarted_since(at)

    @property
    def paused(self) -> bool:
        """True while a 429 holds every request back."""
        return self._transport.gate.paused

    # ------------------------------------------------------------------ rooms

    async def create_room(self, title: str, room_type: int, tags: Iterable[str] = ()) -> Json:
        """POST files/rooms → FolderDto of the new room."""
        body = bodies.create_room_body(title, room_type, tags)
        params: Params = {"fields": NEW_ROOM_FIELDS}
        reply = await self._call("POST", "create_room", "files/rooms", params=params, body=body)
        return _object(reply)

    async def list_rooms(
        self,
        filter_value: str | None = None,
        start_index: int = 0,
        count: int = PAGE_SIZE,
        *,
        tags: Iterable[str] = (),
        search_area: int = SEARCH_ACTIVE,
    ) -> tuple[list[Json], int]:
        """GET files/rooms, one page → (rooms, total matching); each room trimmed to id,
        title, tags, roomType and rootFolderType (20: archived). `tags`: rooms with any of
        them (docspace-api.md 10.4); `search_area`: active, archived or both (10.2)."""
        params: Params = {"startIndex": start_index, "count": _page_size(count)}
        if filter_value:
            params["filterValue"] = filter_value
        tags = list(tags)
        if tags:
            params["tags"] = json.dumps(tags)  # a JSON array string, else the server fails
        if search_area != SEARCH_ACTIVE:
            params["searchArea"] = search_area
        params["fields"] = ROOM_FIELDS
        content = _object(await self._call("GET", "list_rooms", "files/rooms", params=params))
        rooms = _objects(content.get("folders"))
        return rooms, _total(content.get("total"), start_index + len(rooms))

    async def all_rooms(
        self,
        filter_value: str | None = None,
        *,
        tags: Iterable[str] = (),
        search_area: int = SEARCH_ACTIVE,
    ) -> list[Json]:
        """Every room matching `filter_value` (title substring) and `tags`, all pages."""
        found: dict[Any, Json] = {}
        start = 0
        tags = list(tags)
        for _ in range(MAX_PAGES):
            rooms, total = await self.list_rooms(
                filter_value, start, PAGE_SIZE, tags=tags, search_area=search_area
            )
            for room in rooms:
                found.setdefault(room.get("id"), room)
            start += len(rooms)
            if not rooms or start >= total:
                break
        return list(found.values())

    async def get_room(self, room_id: int) -> Json:
        """GET files/rooms/{id} → FolderDto (404 → PermanentError)."""
        return _object(await self._call("GET", "get_room", f"files/rooms/{path_id(room_id)}"))

    # ------------------------------------------------------------------ folders and files

    async def create_folder(self, parent_id: int, title: str) -> Json:
        """POST files/folder/{parentId} → FolderDto."""
        path = f"files/folder/{path_id(parent_id)}"
        body = bodies.create_folder_body(title)
        params: Params = {"fields": NEW_ITEM_FIELDS}
        return _object(await self._call("POST", "create_folder", path, params=params, body=body))

    async def folder_contents(
        self, folder_id: int, fields: str | None = CONTENTS_FIELDS
    ) -> FolderContents:
        """GET files/{folderId}, all pages → files and folders directly inside (by default
        each trimmed to id and title, `current` to its id)."""
        files: list[Json] = []
        folders: list[Json] = []
        current: Json = {}
        start = 0
        for _ in range(MAX_PAGES):
            params: Params = {"startIndex": start, "count": PAGE_SIZE}
            if fields:
                params["fields"] = fields
            path = f"files/{path_id(folder_id)}"
            page = _object(await self._call("GET", "folder_contents", path, params=params))
            new_files, new_folders = _objects(page.get("files")), _objects(page.get("folders"))
            files += new_files
            folders += new_folders
            if isinstance(page.get("current"), dict):
                current = page["current"]
            got = len(new_files) + len(new_folders)
            start += got
            if got == 0 or start >= _total(page.get("total"), start):
                break
        return FolderContents(files=tuple(files), folders=tuple(folders), current=current)

    async def my_documents_page(self, start_index: int = 0) -> Json:
        """GET files/@my, one page → FolderContentDto (its folders by id, title, created and
        updated; made on the account's first visit; a guest has none: 404)."""
        params: Params = {"startIndex": start_index, "count": PAGE_SIZE, "fields": MY_FIELDS}
        return _object(await self._call("GET", "my_documents", "files/@my", params=params))

    async def rename_folder(self, folder_id: int, title: str) -> Json:
        """PUT files/folder/{id} → FolderDto (by id, title, created, updated). A title equal
        to the stored one changes nothing, `updated` included."""
        path = f"files/folder/{path_id(folder_id)}"
        body = bodies.create_folder_body(title)
        params: Params = {"fields": f"{DATED_FIELDS},{PROBLEM_FIELDS}"}
        return _object(await self._call("PUT", "rename_folder", path, params=params, body=body))

    async def delete_folder(self, folder_id: int) -> list[Json]:
        """DELETE files/folder/{id} (for good, not to the Trash) → the account's delete
        operations; the folder goes when the operation runs. A missing folder → 404."""
        path = f"files/folder/{path_id(folder_id)}"
        reply = await self._call("DELETE", "delete_folder", path, body=bodies.delete_folder_body())
        return _objects(reply)

    async def copy_file_as(self, file_id: int, dest_folder_id: int, dest_title: str) -> Json:
        """POST files/file/{fileId}/copyas → FileDto of the copy."""
        path = f"files/file/{path_id(file_id)}/copyas"
        body = bodies.copy_as_body(dest_folder_id, dest_title)
        params: Params = {"fields": NEW_ITEM_FIELDS}
        return _object(await self._call("POST", "copy_file_as", path, params=params, body=body))

    async def start_copy(
        self, folder_ids: Iterable[int], file_ids: Iterable[int], dest_folder_id: int, content: bool
    ) -> list[Json]:
        """PUT files/fileops/copy → the new operation's FileOperationDto (a list of one)."""
        body = bodies.copy_body(folder_ids, file_ids, dest_folder_id, content=content)
        reply = await self._call("PUT", "copy_items", "files/fileops/copy", body=body)
        return _objects(reply)

    # ------------------------------------------------------------------ membership and links

    async def set_room_share(
        self,
        room_id: int,
        invitations: Iterable[tuple[str, int]],
        notify: bool = False,
        message: str | None = None,
        culture: str | None = None,
    ) -> Json:
        """PUT files/rooms/{id}/share → RoomSecurityDto trimmed to {warning, error}.
        `invitations`: (user id or e-mail, FileShare int) pairs; access 0 removes."""
        body = bodies.share_body(invitations, notify=notify, message=message, culture=culture)
        path = f"files/rooms/{path_id(room_id)}/share"
        params: Params = {"fields": SHARE_REPLY_FIELDS}
        reply = await self._call("PUT", "set_room_share", path, params=params, body=body)
        return reply if isinstance(reply, dict) else {}

    async def room_share(
        self, room_id: int, filter_type: int | None = None, fields: str | None = MEMBER_FIELDS
    ) -> list[Json]:
        """GET files/rooms/{id}/share, all pages → FileShareDto list (owner included; by
        default each trimmed to access and sharedToUser id/e-mail)."""
        extra: Params = {} if filter_type is None else {"filterType": filter_type}
        if fields:
            extra["fields"] = fields
        return await self._pages("room_share", f"files/rooms/{path_id(room_id)}/share", extra)

    async def primary_link(self, room_id: int) -> Json:
        """GET files/rooms/{id}/link → the primary external link (created if missing)."""
        path = f"files/rooms/{path_id(room_id)}/link"
        return _object(await self._call("GET", "primary_link", path))

    async def room_links(
        self, room_id: int, link_type: int | None = None, fields: str | None = LINK_FIELDS
    ) -> list[Json]:
        """GET files/rooms/{id}/links → FileShareDto list of the room's links (by default
        each trimmed to access and sharedLink id/shareLink/primary)."""
        params: Params = {} if link_type is None else {"type": int(link_type)}
        if fields:
            params["fields"] = fields
        path = f"files/rooms/{path_id(room_id)}/links"
        return _objects(await self._call("GET", "room_links", path, params=params))

    async def set_room_link(
        self, room_id: int, link_type: int, access: int, title: str, link_id: str | None = None
    ) -> Json | None:
        """PUT files/rooms/{id}/links → FileShareDto (trimmed as room_links'); None when the
        link was deleted."""
        body = bodies.link_body(link_type, access, title, link_id)
        path = f"files/rooms/{path_id(room_id)}/links"
        params: Params = {"fields": NEW_LINK_FIELDS}
        reply = await self._call("PUT", "set_room_link", path, params=params, body=body)
        return reply if isinstance(reply, dict) else None

    # ------------------------------------------------------------------ people

    async def add_member(
        self,
        email: str,
        first_name: str,
        last_name: str,
        user_type: int,
        culture: str | None = None,
    ) -> Json:
        """POST people → EmployeeFullDto trimmed as user_by_email's (existing e-mail →
        PermanentError 400)."""
        body = bodies.member_body(email, first_name, last_name, user_type, culture)
        params: Params = {"fields": NEW_PERSON_FIELDS}
        return _object(await self._call("POST", "add_member", "people", params=params, body=body))

    async def add_activated_member(
        self, email: str, first_name: str, last_name: str, user_type: int
    ) -> Json:
        """POST people/active → EmployeeFullDto trimmed as add_member's: a person with names
        and no mail, activation pending (the one way to make a named guest, docspace-api.md
        5.6); an existing e-mail → PermanentError 400."""
        body = bodies.member_body(email, first_name, last_name, user_type)
        params: Params = {"fields": NEW_PERSON_FIELDS}
        reply = await self._call(
            "POST", "add_activated_member", "people/active", params=params, body=body
        )
        return _object(reply)

    async def invite_users(
        self,
        invitations: Iterable[tuple[str, int]],
        culture: str | None = None,
        *,
        answer: bool = True,
    ) -> list[Json]:
        """POST people/invite → the ids ({"id": …}) of every activation-pending user the
        caller can see (the EmployeeDto carries no e-mail anyway); with answer=False the
        answer is not decoded and the list is empty."""
        body = bodies.invite_body(invitations, culture)
        params: Params = {"fields": INVITED_FIELDS}
        reply = await self._transport.request(
            "POST", "invite_users", "people/invite", params=params, body=body, unread=not answer
        )
        return _objects(reply.response)

    async def user_by_email(self, email: str) -> Json | None:
        """GET people/email → the person's id, email, type flags, status and
        activationStatus, or None when no user has that e-mail."""
        params: Params = {"email": email, "fields": PERSON_FIELDS}
        try:
            found = await self._transport.request(
                "GET", "user_by_email", "people/email", params=params, expected=_NOT_FOUND
            )
        except PermanentError as err:
            if err.status == 404:
                return None
            raise
        return _object(found.response)

    async def user_exists(self, email: str) -> bool:
        """GET people/exists → True when a user (active, pending or disabled) has this e-mail."""
        params: Params = {"email": email}
        reply = _object(await self._call("GET", "user_exists", "people/exists", params=params))
        return reply.get("exists") is True

    async def filter_people(
        self,
        filter_value: str | None = None,
        *,
        employee_status: int | None = None,
        activation_status: int | None = None,
        employee_type: int | None = None,
    ) -> list[Json]:
        """GET people/filter, all pages → EmployeeFullDto list."""
        extra: Params = {}
        for name, value in (
            ("filterValue", filter_value),
            ("employeeStatus", employee_status),
            ("activationStatus", activation_status),
            ("employeeType", employee_type),
        ):
            if value is not None and value != "":
                extra[name] = value if isinstance(value, str) else int(value)
        return await self._pages("filter_people", "people/filter", extra)

    async def people_page(
        self, start_index: int = 0, count: int = PAGE_SIZE
    ) -> tuple[list[Json], int]:
        """One page of GET people/filter → (people trimmed as user_by_email's, total people)."""
        params: Params = {
            "startIndex": start_index,
            "count": _page_size(count),
            "fields": PERSON_FIELDS,
        }
        reply = await self._transport.request(
            "GET", "filter_people", "people/filter", params=params
        )
        page = _objects(reply.response)
        return page, _total(reply.total, start_index + len(page))

    async def self_profile(self) -> Json:
        """GET people/@self → EmployeeFullDto of the token's owner (a cheap token check)."""
        return _object(await self._call("GET", "self_profile", "people/@self"))

    # ------------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        action: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
    ) -> Any:
        reply = await self._transport.request(method, action, path, params=params, body=body)
        return reply.response

    async def _pages(self, action: str, path: str, extra: Params) -> list[Json]:
        """Every item of a list endpoint whose envelope carries `total`."""
        items: list[Json] = []
        start = 0
        for _ in range(MAX_PAGES):
            params: Params = {**extra, "startIndex": start, "count": PAGE_SIZE}
            reply = await self._transport.request("GET", action, path, params=params)
            page = _objects(reply.response)
            items += page
            start += len(page)
            if not page or start >= _total(reply.total, start):
                break
        return items


def _page_size(count: int) -> int:
    if not 1 <= count <= PAGE_SIZE:
        raise ValueError(f"count must be from 1 to {PAGE_SIZE}")
    return count


def _total(value: Any, fallback: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback


def _object(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[Json]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
