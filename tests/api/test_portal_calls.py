"""The typed calls the engine makes (api/portal.py): the same requests as the raw methods,
not one byte more received, and what an answer means decoded in api/, not in the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aioresponses import aioresponses

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.api.client import MEMBER_FIELDS, PERSON_FIELDS, SEARCH_ANY, SHARE_REPLY_FIELDS
from bulk_onboard.api.models import (
    GUEST,
    ROOM_ADMIN,
    USER,
    FolderItems,
    Link,
    Member,
    Person,
    Room,
)
from bulk_onboard.errors import PermanentError, Refusal
from bulk_onboard.model.records import Access, LinkType, RoomType, UserType
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

from .conftest import API, make_settings
from .test_client_sandbox import settings_for


def ok(response: Any) -> dict[str, Any]:
    return {"response": response, "status": 0, "statusCode": 200}


@pytest.fixture
async def wired() -> AsyncIterator[DocSpaceClient]:
    async with DocSpaceClient(make_settings()) as c:
        yield c


@pytest.fixture
async def portal() -> AsyncIterator[tuple[Sandbox, DocSpaceClient]]:
    async with (
        start_sandbox(SandboxConfig(db=":memory:")) as sb,
        DocSpaceClient(settings_for(sb)) as client,
    ):
        yield sb, client


async def test_a_share_refused_in_a_200_is_raised(
    wired: DocSpaceClient, mock: aioresponses
) -> None:
    share = f"{API}/files/rooms/7/share?fields={SHARE_REPLY_FIELDS}"
    mock.put(share, payload=ok({"error": 3, "members": []}))
    with pytest.raises(PermanentError) as info:
        await wired.share_room(7, [("u1", int(Access.READ))])
    assert info.value.message == "the portal refused to change the members of room 7 (error 3)"
    assert info.value.status is None and info.value.path == "/api/2.0/files/rooms/7/share"
    mock.put(share, payload=ok({"error": 0, "warning": "skipped", "members": []}))
    reply = await wired.share_room(7, [("x@example.com", int(Access.READ))])
    assert reply.warning == "skipped" and reply.member_ids == frozenset()
    mock.put(f"{API}/files/rooms/7/share", payload=ok({"error": 1}))
    with pytest.raises(PermanentError, match="refused to remove the member"):
        await wired.remove_from_room(7, "u1")


async def test_a_person_the_account_may_not_see_is_hidden(
    wired: DocSpaceClient, mock: aioresponses
) -> None:
    url = f"{API}/people/email?email={{}}&fields={PERSON_FIELDS}"
    mock.get(url.format("g@example.com"), status=403, payload={"error": {"message": "no"}})
    assert await wired.person("g@example.com") == Person("", GUEST, 1, False, hidden=True)
    mock.get(url.format("n@example.com"), status=404, payload={"error": {"message": "no"}})
    assert await wired.person("n@example.com") is None
    mock.get(url.format("x@example.com"), status=400, payload={"error": {"message": "bad"}})
    with pytest.raises(PermanentError):
        await wired.person("x@example.com")


async def test_a_people_page_lists_those_with_an_address_and_an_id(
    wired: DocSpaceClient, mock: aioresponses
) -> None:
    page = [
        {"id": "u1", "email": "A@example.com", "isCollaborator": True, "activationStatus": 1},
        {"id": "u2"},  # no address: not listed
        {"email": "c@example.com"},  # no id: not listed
    ]
    mock.get(
        f"{API}/people/filter?count=100&fields={PERSON_FIELDS}&startIndex=0",
        payload={**ok(page), "total": 3},
    )
    listed, total = await wired.listed_people()
    assert listed == [("a@example.com", Person("u1", USER, 1, True))] and total == 3


async def test_members_leave_out_links_and_groups(
    wired: DocSpaceClient, mock: aioresponses
) -> None:
    shares = [
        {"access": 1, "isOwner": True, "sharedToUser": {"id": "me", "email": "Me@example.com"}},
        {"access": 9},  # a group, trimmed to nothing of a user
    ]
    mock.get(
        f"{API}/files/rooms/7/share?count=100&startIndex=0&fields={MEMBER_FIELDS}",
        payload={**ok(shares), "total": 2},
    )
    assert await wired.members(7) == [Member("me", "me@example.com", 1, owner=True)]


Read = Callable[[DocSpaceClient], Awaitable[object]]


async def _same_bytes(client: DocSpaceClient, raw: Read, typed: Read) -> None:
    """The typed call sends the raw call's request and receives as many bytes."""
    stats = client.stats
    before_bytes, before = stats.bytes_received, dict(stats.requests)
    await raw(client)
    raw_bytes, raw_requests = stats.bytes_received - before_bytes, _grown(before, stats.requests)
    before_bytes, before = stats.bytes_received, dict(stats.requests)
    await typed(client)
    assert _grown(before, stats.requests) == raw_requests
    assert stats.bytes_received - before_bytes == raw_bytes > 0


def _grown(before: dict[str, int], now: Any) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in now.items() if v != before.get(k, 0)}


async def test_typed_reads_receive_what_the_raw_reads_receive(
    portal: tuple[Sandbox, DocSpaceClient],
) -> None:
    _, client = portal
    room = await client.create_room("Acme", RoomType.CUSTOM, ["client:K-1"])
    ann = await client.add_member("ann@example.com", "Ann", "Lee", UserType.USER)
    await client.set_room_share(room["id"], [(ann["id"], Access.EDITING)])
    await client.primary_link(room["id"])  # made by the first GET
    await client.create_folder(room["id"], "Contracts")
    rid = int(room["id"])
    pairs: list[tuple[Read, Read]] = [
        (lambda c: c.all_rooms(search_area=SEARCH_ANY), lambda c: c.find_rooms(search_area=2)),
        (lambda c: c.get_room(rid), lambda c: c.room(rid)),
        (lambda c: c.folder_contents(rid), lambda c: c.items(rid)),
        (lambda c: c.room_share(rid), lambda c: c.members(rid)),
        (lambda c: c.room_links(rid, LinkType.EXTERNAL), lambda c: c.links(rid, 1)),
        (lambda c: c.primary_link(rid), lambda c: c.open_primary_link(rid)),
        (lambda c: c.user_by_email("ann@example.com"), lambda c: c.person("ann@example.com")),
        (lambda c: c.person_state("ann@example.com"), lambda c: c.account("ann@example.com")),
        (lambda c: c.people_page(0, 100), lambda c: c.listed_people(0, 100)),
        (lambda c: c.self_profile(), lambda c: c.me()),
    ]
    for raw, typed in pairs:
        await _same_bytes(client, raw, typed)


async def test_typed_calls_on_the_sandbox(portal: tuple[Sandbox, DocSpaceClient]) -> None:
    sb, client = portal
    room = await client.new_room("Acme/Sales", RoomType.CUSTOM, ["client:K-1"])
    assert room.title == "Acme_Sales" and room.tags == ("client:K-1",) and not room.archived
    assert await client.find_rooms(tags=["client:K-1"], search_area=SEARCH_ANY) == [room]
    folder = await client.new_folder(room.id, "Deals/2024")
    assert folder.title == "Deals_2024"  # cleaned as a room title (docspace-api.md 10.1)
    template = next(iter(sb.template_ids.values()))
    copy = await client.copy_file(template, folder.id, "Welcome.pdf")
    assert copy.title == "Welcome.pdf" and copy.id != template
    assert await client.items(room.id) == FolderItems(folders=(folder,))
    assert await client.items(folder.id) == FolderItems(files=(copy,))
    renamed = await client.retitle_room(room.id, "Acme: Sales")
    assert renamed.id == room.id and renamed.title == "Acme_ Sales"
    me = await client.me()
    assert me.type == 3 and me.admin  # the owner, a DocSpace admin
    bo = await client.new_person("bo@example.com", "Bo", "Ek", UserType.ROOM_ADMIN)
    assert bo.type == ROOM_ADMIN and not bo.activated
    assert await client.person("bo@example.com") == bo
    with pytest.raises(PermanentError) as taken:
        await client.new_person("bo@example.com", "Bo", "Ek", UserType.ROOM_ADMIN)
    assert taken.value.refusal is Refusal.EMAIL_TAKEN
    reply = await client.share_room(room.id, [(bo.id, int(Access.ROOM_MANAGER))])
    assert reply.warning is None
    members = {m.email: m for m in await client.members(room.id)}
    assert members["bo@example.com"] == Member(bo.id, "bo@example.com", int(Access.ROOM_MANAGER))
    assert members[sb.owner_email].owner
    invitation = await client.put_link(room.id, LinkType.INVITATION, int(Access.READ), "Join")
    assert isinstance(invitation, Link) and invitation.url and invitation.access == Access.READ
    with pytest.raises(PermanentError) as limit:
        await client.put_link(room.id, LinkType.INVITATION, int(Access.READ), "Again")
    assert limit.value.refusal is Refusal.LINK_LIMIT
    assert await client.links(room.id, LinkType.INVITATION) == [invitation]
    await client.remove_from_room(room.id, bo.id)
    assert "bo@example.com" not in {m.email for m in await client.members(room.id)}
    account = await client.account("bo@example.com")
    assert account is not None and account.id == bo.id and not account.owner
    await client.archive_room(room.id, interval=0.01)
    assert await client.room(room.id) == Room(room.id, "Acme_ Sales", ("client:K-1",), True)
