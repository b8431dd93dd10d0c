"""The calls the engine makes, each answer decoded once into the types of models.py.

DocSpaceClient mixes these in over its raw methods (one per endpoint, DTOs as sent): the same
requests with the same `fields=` trimming, so a typed answer costs no byte more. What an answer
means is read here, never in the engine: a share refused (`error` in a 200), a guest the account
may not see (403 on people/email, docspace-api.md 10.7), a room in the Archive.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bulk_onboard.api.models import (
    ACTIVE,
    GUEST,
    SEARCH_ACTIVE,
    Account,
    DatedFolder,
    FileOperation,
    FolderContents,
    FolderItems,
    Item,
    Link,
    Member,
    MyDocuments,
    Person,
    Room,
    ShareReply,
)
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.errors import AmbiguousWrite, PermanentError
from bulk_onboard.model import Json

MY_DOCUMENTS_PAGES = 100  # a runaway guard: 10 000 entries in "My documents"
COPY_POLL_SECONDS, COPY_POLL_TIMEOUT = 0.1, 30.0  # the server's own tests' poll (BaseTest)

Listed = tuple[str, Person]  # a person of a people listing, by lower-cased e-mail


class PortalCalls:
    """Mixed into DocSpaceClient, which provides the raw methods declared below."""

    if TYPE_CHECKING:  # DocSpaceClient's raw methods, declared for the type checker only

        async def create_room(
            self, title: str, room_type: int, tags: Iterable[str] = ()
        ) -> Json: ...
        async def all_rooms(
            self,
            filter_value: str | None = None,
            *,
            tags: Iterable[str] = (),
            search_area: int = SEARCH_ACTIVE,
        ) -> list[Json]: ...
        async def update_room(
            self, room_id: int, *, title: str | None = None, tags: list[str] | None = None
        ) -> Json: ...
        async def get_room(self, room_id: int) -> Json: ...
        async def create_folder(self, parent_id: int, title: str) -> Json: ...
        async def folder_contents(self, folder_id: int) -> FolderContents: ...
        async def copy_file_as(
            self, file_id: int, dest_folder_id: int, dest_title: str
        ) -> Json: ...
        async def my_documents_page(self, start_index: int = 0) -> Json: ...
        async def rename_folder(self, folder_id: int, title: str) -> Json: ...
        async def delete_folder(self, folder_id: int) -> list[Json]: ...
        async def set_room_share(
            self,
            room_id: int,
            invitations: Iterable[tuple[str, int]],
            notify: bool = False,
            message: str | None = None,
            culture: str | None = None,
        ) -> Json: ...
        async def room_share(self, room_id: int, filter_type: int | None = None) -> list[Json]: ...
        async def remove_member(self, room_id: int, user_id: str) -> Json: ...
        async def primary_link(self, room_id: int) -> Json: ...
        async def room_links(self, room_id: int, link_type: int | None = None) -> list[Json]: ...
        async def set_room_link(
            self, room_id: int, link_type: int, access: int, title: str, link_id: str | None = None
        ) -> Json | None: ...
        async def add_member(
            self,
            email: str,
            first_name: str,
            last_name: str,
            user_type: int,
            culture: str | None = None,
        ) -> Json: ...
        async def add_activated_member(
            self, email: str, first_name: str, last_name: str, user_type: int
        ) -> Json: ...
        async def user_by_email(self, email: str) -> Json | None: ...
        async def person_state(self, email: str) -> Json | None: ...
        async def self_profile(self) -> Json: ...
        async def start_copy(
            self,
            folder_ids: Iterable[int],
            file_ids: Iterable[int],
            dest_folder_id: int,
            content: bool,
        ) -> list[Json]: ...
        async def file_operations(self, operation_id: str | None = None) -> list[Json]: ...
        @property
        def retry_policy(self) -> RetryPolicy: ...
        async def people_page(
            self, start_index: int = 0, count: int = 100
        ) -> tuple[list[Json], int]: ...

    # ------------------------------------------------------------------ rooms

    async def new_room(self, title: str, room_type: int, tags: Iterable[str] = ()) -> Room:
        """POST files/rooms → the new room."""
        return Room.from_dto(await self.create_room(title, room_type, tags))

    async def find_rooms(
        self, *, tags: Iterable[str] = (), search_area: int = SEARCH_ACTIVE
    ) -> list[Room]:
        """Every room with any of `tags` (every room without), in `search_area`, all pages."""
        return [Room.from_dto(r) for r in await self.all_rooms(tags=tags, search_area=search_area)]

    async def retitle_room(self, room_id: int, title: str) -> Room:
        """PUT files/rooms/{id} with a new title → the room with the title the portal stored."""
        return Room.from_dto({"id": room_id, **await self.update_room(room_id, title=title)})

    async def room(self, room_id: int) -> Room:
        """GET files/rooms/{id} (404 → PermanentError)."""
        return Room.from_dto({"id": room_id, **await self.get_room(room_id)})

    # ------------------------------------------------------------------ folders and files

    async def new_folder(self, parent_id: int, title: str) -> Item:
        """POST files/folder/{parentId} → the new folder (its title as the portal stored it)."""
        return Item.from_dto(await self.create_folder(parent_id, title))

    async def items(self, folder_id: int) -> FolderItems:
        """GET files/{folderId}, all pages → the folders and files directly inside."""
        return FolderItems.of(await self.folder_contents(folder_id))

    async def my_documents(self) -> MyDocuments:
        """GET files/@my, all pages → "My documents" and the folders in it, with the
        portal's times (the folder is made on the account's first visit)."""
        folders: list[DatedFolder] = []
        start, folder_id = 0, 0
        for _ in range(MY_DOCUMENTS_PAGES):
            page = await self.my_documents_page(start)
            current = page.get("current")
            folder_id = int(current.get("id") or 0) if isinstance(current, dict) else folder_id
            found = [f for f in page.get("folders") or () if isinstance(f, dict) and "id" in f]
            folders += [DatedFolder.from_dto(f) for f in found]
            got = len(found) + len(page.get("files") or ())
            start += got
            total = page.get("total")
            if got == 0 or not isinstance(total, int) or start >= total:
                break
        return MyDocuments(folder_id, tuple(folders))

    async def retitle_folder(self, folder_id: int, title: str) -> DatedFolder:
        """PUT files/folder/{id} → the folder as stored (a missing one → PermanentError 404).
        Only a title that differs from the stored one stamps `updated`."""
        return DatedFolder.from_dto({"id": folder_id, **await self.rename_folder(folder_id, title)})

    async def remove_folder(self, folder_id: int) -> bool:
        """DELETE files/folder/{id}, for good → True; False when it was gone already (404).
        The portal deletes it in a file operation: it may be listed a moment longer."""
        try:
            await self.delete_folder(folder_id)
        except PermanentError as exc:
            if exc.status != 404:
                raise
            return False
        return True

    async def copy_file(self, file_id: int, dest_folder_id: int, dest_title: str) -> Item:
        """POST files/file/{fileId}/copyas → the copy."""
        return Item.from_dto(await self.copy_file_as(file_id, dest_folder_id, dest_title))

    async def copy_into(
        self,
        dest_folder_id: int,
        *,
        folder_ids: Iterable[int] = (),
        file_ids: Iterable[int] = (),
        content: bool = False,
        give_up_after: float = COPY_POLL_TIMEOUT,
        interval: float = COPY_POLL_SECONDS,
    ) -> FileOperation:
        """PUT files/fileops/copy (titles already in the destination are skipped, folders
        found merged into), polled through GET files/fileops until it finishes → the finished
        operation. `content`: each folder's content instead of the folder (docspace-api.md
        13). Its error → PermanentError; still running after `give_up_after` s, or no
        operation in the answer → AmbiguousWrite (the copy may land: read the destination).
        An operation gone from the list was answered elsewhere: finished, nothing known of
        what it made."""
        path = "/api/2.0/files/fileops/copy"
        started = await self.start_copy(folder_ids, file_ids, dest_folder_id, content)
        if not started:
            raise AmbiguousWrite(
                "the portal answered the copy without its operation", method="PUT", path=path
            )
        operation = FileOperation.from_dto(started[0])
        for _ in range(max(1, int(give_up_after / interval))):
            if operation.finished:
                break
            await self.retry_policy.sleep(interval)
            found = [o for o in await self.file_operations(operation.id) if o.get("id")]
            if not found:
                operation = FileOperation(operation.id, finished=True)
                break
            operation = FileOperation.from_dto(found[0])
        if not operation.finished:
            raise AmbiguousWrite(
                f"the portal did not finish the copy into folder {dest_folder_id} within "
                f"{give_up_after:g} s (operation {operation.id}); read the folder before "
                "copying again",
                method="PUT",
                path=path,
            )
        if operation.error:
            raise PermanentError(operation.error, method="PUT", path=path, status=200)
        return operation

    # ------------------------------------------------------------------ members and links

    async def share_room(
        self,
        room_id: int,
        invitations: Iterable[tuple[str, int]],
        notify: bool = False,
        message: str | None = None,
        culture: str | None = None,
    ) -> ShareReply:
        """PUT files/rooms/{id}/share. A 200 whose answer carries an `error` is a refusal:
        raised as PermanentError."""
        reply = await self.set_room_share(room_id, invitations, notify, message, culture)
        if reply.get("error"):
            raise _share_refused(
                f"the portal refused to change the members of room {room_id} "
                f"(error {reply['error']})",
                room_id,
            )
        return ShareReply.from_dto(reply)

    async def remove_from_room(self, room_id: int, user_id: str) -> None:
        """PUT files/rooms/{id}/share with access 0 for one member, by id."""
        reply = await self.remove_member(room_id, user_id)
        if reply.get("error"):
            raise _share_refused(
                f"the portal refused to remove the member (error {reply['error']})", room_id
            )

    async def members(self, room_id: int) -> list[Member]:
        """The people with a record in the room (the owner included), all pages."""
        found = (Member.from_dto(share) for share in await self.room_share(room_id))
        return [member for member in found if member is not None]

    async def links(self, room_id: int, link_type: int | None = None) -> list[Link]:
        return [Link.from_dto(share) for share in await self.room_links(room_id, link_type)]

    async def open_primary_link(self, room_id: int) -> Link:
        """GET files/rooms/{id}/link: the primary external link, made on the first call."""
        return Link.from_dto(await self.primary_link(room_id))

    async def put_link(
        self, room_id: int, link_type: int, access: int, title: str, link_id: str | None = None
    ) -> Link | None:
        """PUT files/rooms/{id}/links: a new link (link_id None) or the link changed; None
        when the portal answered without one (a deleted link)."""
        reply = await self.set_room_link(room_id, link_type, access, title, link_id=link_id)
        return None if reply is None else Link.from_dto(reply)

    # ------------------------------------------------------------------ people

    async def new_person(
        self,
        email: str,
        first_name: str,
        last_name: str,
        user_type: int,
        culture: str | None = None,
    ) -> Person:
        """POST people (an address the portal has → PermanentError, Refusal.EMAIL_TAKEN)."""
        dto = await self.add_member(email, first_name, last_name, user_type, culture)
        return Person.from_dto(dto)

    async def new_guest(self, email: str, first_name: str, last_name: str) -> Person:
        """POST people/active with type Guest: a named guest, activation pending, no mail
        (an address the portal has → PermanentError, Refusal.EMAIL_TAKEN)."""
        dto = await self.add_activated_member(email, first_name, last_name, GUEST)
        return Person.from_dto(dto)

    async def person(self, email: str) -> Person | None:
        """The person with this e-mail; None when the portal has none; `hidden` when it has
        one the account may not see (GET people/email → 403: a guest a room admin did not
        invite, docspace-api.md 10.7)."""
        try:
            found = await self.user_by_email(email)
        except PermanentError as exc:
            if exc.status != 403:
                raise
            return Person("", GUEST, ACTIVE, False, hidden=True)
        return Person.from_dto(found) if found and "id" in found else None

    async def me(self) -> Person:
        """GET people/@self: the account the run works as."""
        dto = await self.self_profile()
        return Person.from_dto({**dto, "id": dto.get("id") or ""})

    async def listed_people(
        self, start_index: int = 0, count: int = 100
    ) -> tuple[list[Listed], int]:
        """One page of the portal's people → (e-mail, person) of those with an e-mail and
        an id, and the number of people in all."""
        page, total = await self.people_page(start_index, count)
        return [_listed(dto) for dto in page if dto.get("email") and "id" in dto], total

    async def account(self, email: str) -> Account | None:
        """The state of the user with this e-mail (what undo decides by), None if none."""
        found = await self.person_state(email)
        return None if found is None else Account.from_dto(found)


def _listed(dto: Json) -> Listed:
    return str(dto["email"]).lower(), Person.from_dto(dto)


def _share_refused(message: str, room_id: int) -> PermanentError:
    return PermanentError(message, method="PUT", path=f"/api/2.0/files/rooms/{room_id}/share")
