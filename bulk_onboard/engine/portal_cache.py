"""What the run knows of the portal: rooms by client tag and title, people by e-mail, folder
contents.

Each index is filled once per run (the portal's rooms are listed once with paging, not once per
row; people are prefetched when that is cheaper than asking one by one) and kept up to date
with what the run itself creates. After an ambiguous write an entry is refreshed from the
portal, never guessed. Concurrent askers of the same key share one request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bulk_onboard.api.models import ACTIVE as ACTIVE  # what the actions read of a person
from bulk_onboard.api.models import DOCSPACE_ADMIN, SEARCH_ANY, Group, Room
from bulk_onboard.api.models import TYPE_RANK as TYPE_RANK
from bulk_onboard.api.models import Person as Person
from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.api.wire import stored_title
from bulk_onboard.errors import AmbiguousWrite, ApiError, RowRefused
from bulk_onboard.model.steps import TemplatePath


class _Once:
    """Per-key single flight: concurrent callers of one key await one fetch."""

    def __init__(self) -> None:
        self._inflight: dict[Any, asyncio.Future[Any]] = {}

    async def run(self, key: Any, fetch: Callable[[], Awaitable[Any]]) -> Any:
        if key in self._inflight:
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await fetch()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: other waiters re-raise it themselves
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]


@dataclass(frozen=True, slots=True)
class RoomEntry:
    """What the run keeps of a listed room: its id, its title as the portal stores it, and
    whether it is in the Archive. Not the whole answer."""

    id: int
    title: str
    archived: bool


CLIENT_TAG = "client:"  # the tag that names a client's room: client:<client_id>


class RoomIndex:
    """The portal's rooms, listed once (active and archived, docspace-api.md 10.2): the rooms
    of clients by their `client:<id>` tag, the active rooms by title as the portal stores it.

    A client's identity is its tag; titles only find rooms named in the users sheet, template
    rooms, and a title already taken by a room that is not the client's."""

    def __init__(self, client: PortalClient) -> None:
        self._client = client
        self._by_tag: dict[str, list[RoomEntry]] | None = None
        self._by_title: dict[str, list[RoomEntry]] = {}
        self._once = _Once()

    async def _load(self) -> dict[str, list[RoomEntry]]:
        if self._by_tag is None:
            rooms = await self._once.run(
                "all", lambda: self._client.find_rooms(search_area=SEARCH_ANY)
            )
            if self._by_tag is None:
                self._by_tag = {}
                for room in rooms:
                    self._put(room)
        return self._by_tag

    def _put(self, room: Room) -> RoomEntry:
        assert self._by_tag is not None
        entry = _entry(room)
        for tag in _client_tags(room):
            entries = self._by_tag.setdefault(tag, [])
            entries[:] = [e for e in entries if e.id != entry.id] + [entry]
        if not entry.archived:
            titled = self._by_title.setdefault(entry.title, [])
            if all(e.id != entry.id for e in titled):
                titled.append(entry)
        return entry

    async def load(self) -> None:
        """List the portal's rooms now (once per run): the run's first reads go at once."""
        await self._load()

    async def by_tag(self, tag: str) -> list[RoomEntry]:
        """The rooms, active or archived, that carry this client tag."""
        return list((await self._load()).get(tag.lower(), []))

    async def by_title(self, title: str) -> list[RoomEntry]:
        """The active rooms whose title is what the portal stores for `title`."""
        await self._load()
        return list(self._by_title.get(stored_title(title), []))

    async def refresh_tag(self, tag: str) -> list[RoomEntry]:
        """Ask the portal again for the rooms with this tag (GET files/rooms?tags=, 10.4)."""
        found = await self._client.find_rooms(tags=[tag], search_area=SEARCH_ANY)
        by_tag = await self._load()
        by_tag.pop(tag.lower(), None)
        return [self._put(room) for room in found if tag.lower() in _client_tags(room)]

    async def add(self, room: Room) -> RoomEntry:
        """A room this run created or changed, as the portal answered it."""
        await self._load()
        entry = _entry(room)
        for titled in self._by_title.values():
            titled[:] = [e for e in titled if e.id != entry.id]
        return self._put(room)


def _entry(room: Room) -> RoomEntry:
    return RoomEntry(room.id, room.title, room.archived)


def _client_tags(room: Room) -> list[str]:
    return [t.lower() for t in room.tags if t.lower().startswith(CLIENT_TAG)]


def _lower(email: str) -> str:
    """The e-mail in lower case; the same text when it already is (the record's own, kept
    once however many indexes use it as a key: about 80 bytes a person)."""
    lowered = email.lower()
    return email if lowered == email else lowered


class PeopleIndex:
    """People by lower-cased e-mail (id, type, state); None: the portal has no such person."""

    PAGE = 100

    def __init__(self, client: PortalClient, expected_lookups: int) -> None:
        self._client = client
        self._known: dict[str, Person | None] = {}
        self._stale: set[str] = set()
        self._complete = False  # every person was prefetched: absent means unknown
        self._decided = False
        self._expected = expected_lookups
        self._once = _Once()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # held or awaited only
        self._api_user: str | None = None
        self._self: Person | None = None  # GET people/@self, once per run

    async def _prefetch(self) -> None:
        """Prefetch everybody when that takes fewer requests than looking up one by one."""
        if self._decided:
            return
        first, total = await self._client.listed_people(start_index=0, count=self.PAGE)
        people = list(first)
        pages = -(-total // self.PAGE)
        if pages <= max(self._expected, 1):
            for start in range(self.PAGE, total, self.PAGE):
                page, _ = await self._client.listed_people(start_index=start, count=self.PAGE)
                people.extend(page)
            self._complete = True
        for email, person in people:
            if email not in self._known:
                self._known[email] = person
        self._decided = True

    async def prefetch(self) -> None:
        """List the portal's people now, when that pays off (once per run)."""
        if not self._decided:
            await self._once.run("prefetch", self._prefetch)

    async def get(self, email: str) -> Person | None:
        email = _lower(email)
        await self.prefetch()
        if email in self._known:
            return self._known[email]
        if self._complete and email not in self._stale and await self._lists_everyone():
            return None
        return await self.refresh(email)

    async def account_type(self) -> int:
        """The type of the account the run works as (GET people/@self, once per run)."""
        return (await self._me()).type

    async def sees_everyone(self) -> bool:
        """Is the run's account a DocSpace admin (the owner too)? Any other account sees only
        some people and some rooms (docspace-api.md 10.2, 10.7)."""
        return await self._lists_everyone()

    async def _lists_everyone(self) -> bool:
        """people/filter lists disabled (Terminated) people to DocSpace admins only (server
        DbUserService.GetUsers: `!filter.IsDocSpaceAdmin` leaves them out), so for any other
        account an address absent from the prefetch may be a disabled person: look it up."""
        me = await self._me()
        return me.type == DOCSPACE_ADMIN  # the owner too

    async def _me(self) -> Person:
        if self._self is None:
            self._self = await self._once.run("me", self._client.me)
        return self._self

    async def refresh(self, email: str) -> Person | None:
        """Ask the portal for this person now."""
        email = _lower(email)

        # a guest this account may not see (10.7) comes back `hidden`: someone, but not shown
        person: Person | None = await self._once.run(
            ("person", email), lambda: self._client.person(email)
        )
        self._known[email] = person
        self._stale.discard(email)
        return person

    def put(self, email: str, person: Person) -> Person:
        email = _lower(email)
        self._known[email] = person
        self._stale.discard(email)
        return person

    def forget(self, email: str) -> None:
        """The portal may have changed this person (e.g. invited them): ask again next time."""
        self._known.pop(email.lower(), None)
        self._stale.add(email.lower())

    async def api_user(self) -> str:
        """The id of the account the run works as (GET people/@self, once per run)."""
        if self._api_user is None:
            me = await self._me()
            self._api_user = me.id
        return self._api_user

    @contextlib.asynccontextmanager
    async def locked(self, *emails: str) -> AsyncIterator[None]:
        """Serialise whatever may mail these addresses, so no address is invited twice. A
        lock lives only while someone holds or awaits it: a run of a million addresses
        keeps none of them once it is past them."""
        keys = sorted({email.lower() for email in emails})
        joined: list[str] = []  # counted as users of the lock
        acquired: set[str] = set()
        try:
            for key in keys:
                lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
                self._locks[key] = (lock, users + 1)
                joined.append(key)
                await lock.acquire()
                acquired.add(key)
            yield
        finally:
            for key in reversed(joined):
                lock, users = self._locks[key]
                if key in acquired:
                    lock.release()
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    @property
    def locks_held(self) -> int:
        return len(self._locks)


class ContentsIndex:
    """Folder contents (sub-folders and files by title), listed at most once per folder.

    A room or folder this run created is known to be empty, so it costs no listing.
    """

    def __init__(self, client: PortalClient) -> None:
        self._client = client
        self._folders: dict[int, dict[str, int]] = {}
        self._files: dict[int, dict[str, int]] = {}
        self._once = _Once()

    def mark_empty(self, folder_id: int) -> None:
        self._folders[folder_id] = {}
        self._files[folder_id] = {}

    def is_known(self, folder_id: int) -> bool:
        return folder_id in self._folders

    async def _load(self, folder_id: int) -> None:
        if folder_id in self._folders:
            return
        contents = await self._once.run(folder_id, lambda: self._client.items(folder_id))
        folders: dict[str, int] = {}
        for folder in contents.folders:
            folders.setdefault(folder.title, folder.id)
        files: dict[str, int] = {}
        for file in contents.files:
            files.setdefault(file.title, file.id)
        self._folders[folder_id] = folders
        self._files[folder_id] = files

    async def folder(self, parent_id: int, title: str) -> int | None:
        """The sub-folder the portal stores for `title` (it cleans folder titles as room
        titles, docspace-api.md 10.1)."""
        await self._load(parent_id)
        return self._folders[parent_id].get(stored_title(title))

    async def file(self, folder_id: int, title: str) -> int | None:
        await self._load(folder_id)
        return self._files[folder_id].get(title)

    def add_folder(self, parent_id: int, title: str, folder_id: int) -> None:
        self._folders.setdefault(parent_id, {}).setdefault(title, folder_id)
        self.mark_empty(folder_id)

    def add_file(self, folder_id: int, title: str, file_id: int) -> None:
        self._files.setdefault(folder_id, {}).setdefault(title, file_id)

    def forget(self, folder_id: int) -> None:
        """After an ambiguous write into this folder: list it again next time."""
        self._folders.pop(folder_id, None)
        self._files.pop(folder_id, None)


class TemplateIndex:
    """Template sources: a file id as given, or "Room title/File name" resolved once."""

    def __init__(self, rooms: RoomIndex, contents: ContentsIndex) -> None:
        self._rooms = rooms
        self._contents = contents

    async def resolve(self, source: int | TemplatePath) -> int:
        if isinstance(source, int):
            return source
        rooms = await self._rooms.by_title(source.room_title)
        if not rooms:
            raise RowRefused(
                f'the template room "{source.room_title}" does not exist in the portal; '
                "create it or fix the template path in the playbook"
            )
        for room in rooms:
            file_id = await self._contents.file(room.id, source.file_title)
            if file_id is not None:
                return file_id
        raise RowRefused(
            f'the template file "{source.file_title}" is not in the room "{source.room_title}"; '
            "upload it or fix the template path in the playbook"
        )


class GroupIndex:
    """The portal's groups by exact name, each name looked up once per run (GET
    group?filterValue=, every page) and made once per run when the portal has none: rows
    asking for one name at once share one look and one POST, and the row whose step sent it
    is the one that made it. Names are not unique on the portal (docspace-api.md 12.1): two
    groups with one name refuse the row. Each group's members are listed at most once (a
    group this run made has none) and kept up to date with what the run adds."""

    def __init__(self, client: PortalClient) -> None:
        self._client = client
        self._named: dict[str, list[Group]] = {}
        self._made_by: dict[str, str] = {}  # group id -> the row whose step made it
        self._members: dict[str, set[str]] = {}
        self._once = _Once()

    async def named(self, name: str, *, again: bool = False) -> Group | None:
        """The one group named exactly `name` (None: none); `again`: ask the portal anew."""
        if again or name not in self._named:
            found = await self._once.run(("named", name), lambda: self._client.groups_named(name))
            self._named[name] = list(found)
        return _one(name, self._named[name])

    async def ensure(
        self, name: str, row: str, creating: Callable[[], None], refused: Callable[[], None]
    ) -> Group:
        """The group named `name`, made (once, whoever else asks meanwhile) when there is
        none; `creating` is told just before the POST, `refused` when it was refused."""
        return await self._once.run(  # type: ignore[no-any-return]
            ("ensure", name), lambda: self._ensure(name, row, creating, refused)
        )

    async def _ensure(
        self, name: str, row: str, creating: Callable[[], None], refused: Callable[[], None]
    ) -> Group:
        found = await self.named(name)
        if found is not None:
            return found
        creating()
        try:
            group = await self._client.new_group(name)
        except AmbiguousWrite:
            self._named.pop(name, None)  # it may be there: look again next time
            raise
        except ApiError:
            refused()
            raise
        self._named[name] = [group]
        self._made_by[group.id] = row
        self._members[group.id] = set(group.members or ())
        return group

    def made_by(self, group_id: str) -> str | None:
        """The row whose step made this group in this run, if one did."""
        return self._made_by.get(group_id)

    async def members(self, group_id: str, *, again: bool = False) -> set[str]:
        """The ids (lower-cased) of the group's members."""
        if again or group_id not in self._members:
            group = await self._once.run(("group", group_id), lambda: self._client.group(group_id))
            if group is None:
                raise RowRefused(
                    f"the group {group_id} was removed from DocSpace while the run worked; "
                    "run again to make it anew"
                )
            self._members[group_id] = set(group.members or ())
        return self._members[group_id]

    def joined(self, group_id: str, members: frozenset[str] | None, person_id: str) -> None:
        """What the portal answered to an addition: all members, or at least this one."""
        known = self._members.setdefault(group_id, set())
        known.update(members if members is not None else {person_id})


def _one(name: str, groups: list[Group]) -> Group | None:
    if len(groups) > 1:
        ids = " and ".join(g.id for g in groups)
        raise RowRefused(
            f'{len(groups)} groups in DocSpace are named "{name}" (ids {ids}), so which one is '
            "meant is not clear; rename or remove all but one in DocSpace, then run again"
        )
    return groups[0] if groups else None
