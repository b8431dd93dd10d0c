"""The client methods for renaming, archiving, type changes and member removal, and the
`fields=` it sends: on the wire (aioresponses) and against the sandbox."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aioresponses import aioresponses

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.api.client import PERSON_FIELDS
from bulk_onboard.errors import AmbiguousWrite, PermanentError
from bulk_onboard.model.records import Access, RoomType, UserType
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

from .conftest import API, make_settings
from .test_client_sandbox import settings_for
from .test_client_wire import body_of, calls, ok

OP = {"id": "op-1", "Operation": 0, "progress": 0, "error": "", "finished": False, "status": 0}


@pytest.fixture
async def wire() -> AsyncIterator[DocSpaceClient]:
    async with DocSpaceClient(make_settings()) as c:
        yield c


async def test_update_room_on_the_wire(wire: DocSpaceClient, mock: aioresponses) -> None:
    mock.put(f"{API}/files/rooms/7", payload=ok({"id": 7, "title": "A_B"}))
    assert await wire.rename_room(7, "A/B") == {"id": 7, "title": "A_B"}
    (call,) = calls(mock, "PUT", f"{API}/files/rooms/7")
    assert body_of(call) == {"title": "A/B"}
    mock.put(f"{API}/files/rooms/7", payload=ok({"id": 7, "tags": []}))
    await wire.update_room(7, tags=[])
    assert body_of(calls(mock, "PUT", f"{API}/files/rooms/7")[1]) == {"tags": []}
    with pytest.raises(ValueError):
        await wire.update_room(7)
    assert wire.stats.requests == {"PUT update_room": 2}


async def test_archive_polls_fileops_then_rereads_the_room(
    wire: DocSpaceClient, mock: aioresponses
) -> None:
    mock.put(f"{API}/files/rooms/7/archive", payload=ok(OP))
    mock.get(f"{API}/files/fileops?id=op-1", payload=ok([OP], count=1))
    done = {**OP, "progress": 100, "finished": True, "status": 2, "processed": "1"}
    mock.get(f"{API}/files/fileops?id=op-1", payload=ok([done], count=1))
    mock.get(f"{API}/files/rooms/7", payload=ok({"id": 7, "rootFolderType": 20}))
    room = await wire.archive_room(7, interval=0)
    assert room == {"id": 7, "rootFolderType": 20}
    (call,) = calls(mock, "PUT", f"{API}/files/rooms/7/archive")
    assert body_of(call) == {}
    assert wire.stats.requests == {
        "PUT archive_room": 1,
        "GET file_operations": 2,
        "GET get_room": 1,
    }


async def test_unarchive_treats_a_vanished_operation_as_finished(
    wire: DocSpaceClient, mock: aioresponses
) -> None:
    mock.put(f"{API}/files/rooms/7/unarchive", payload=ok(OP))
    mock.get(f"{API}/files/fileops?id=op-1", payload=ok([], count=1))
    mock.get(f"{API}/files/rooms/7", payload=ok({"id": 7, "rootFolderType": 14}))
    assert (await wire.unarchive_room(7, interval=0))["rootFolderType"] == 14


async def test_archive_gives_up_with_a_clear_error(
    wire: DocSpaceClient, mock: aioresponses
) -> None:
    mock.put(f"{API}/files/rooms/7/archive", payload=ok(OP))
    mock.get(re.compile(r".*/files/fileops\?id=op-1"), payload=ok([OP], count=1), repeat=True)
    with pytest.raises(AmbiguousWrite, match="did not finish the archive of room 7") as info:
        await wire.archive_room(7, give_up_after=0.05, interval=0.01)
    assert "op-1" in str(info.value) and "read the room" in str(info.value)


async def test_archive_reports_the_operation_error(
    wire: DocSpaceClient, mock: aioresponses
) -> None:
    failed = {**OP, "finished": True, "error": "The room quota is exceeded", "status": 2}
    mock.put(f"{API}/files/rooms/7/unarchive", payload=ok(failed))
    with pytest.raises(PermanentError, match="room quota"):
        await wire.unarchive_room(7, interval=0)


async def test_type_change_and_member_removal_on_the_wire(
    wire: DocSpaceClient, mock: aioresponses
) -> None:
    mock.put(f"{API}/people/type/4", payload=ok([{"id": "u1", "isCollaborator": True}]))
    assert await wire.set_user_type(UserType.USER, ["u1"]) == [{"id": "u1", "isCollaborator": True}]
    assert body_of(calls(mock, "PUT", f"{API}/people/type/4")[0]) == {"userIds": ["u1"]}
    mock.put(f"{API}/files/rooms/7/share", payload=ok({"members": [], "error": 0}))
    assert (await wire.remove_member(7, "u1"))["error"] == 0
    assert body_of(calls(mock, "PUT", f"{API}/files/rooms/7/share")[0]) == {
        "invitations": [{"id": "u1", "access": 0}],
        "notify": False,
    }
    with pytest.raises(ValueError, match="by user id"):
        await wire.remove_member(7, "a@example.com")
    with pytest.raises(ValueError):
        await wire.set_user_type(4, [])


async def test_people_page_asks_for_few_fields(wire: DocSpaceClient, mock: aioresponses) -> None:
    url = f"{API}/people/filter?startIndex=0&count=100&fields={PERSON_FIELDS}"
    mock.get(url, payload=ok([{"id": "u1", "email": "a@example.com"}], count=1, total=1))
    assert await wire.people_page() == ([{"id": "u1", "email": "a@example.com"}], 1)


# ------------------------------------------------------------------ against the sandbox


@pytest.fixture
async def quick() -> AsyncIterator[tuple[Sandbox, DocSpaceClient]]:
    async with (
        start_sandbox(SandboxConfig(fileop_ms=20)) as sb,
        DocSpaceClient(settings_for(sb)) as client,
    ):
        yield sb, client


async def test_rename_archive_restore_against_the_sandbox(
    quick: tuple[Sandbox, DocSpaceClient],
) -> None:
    _, client = quick
    room = await client.create_room("Acme", RoomType.CUSTOM, ["client"])
    renamed = await client.rename_room(room["id"], "Acme: Sales")
    assert renamed["title"] == "Acme_ Sales"
    archived = await client.archive_room(room["id"], interval=0.01)
    assert archived["rootFolderType"] == 20
    assert room["id"] not in [r["id"] for r in await client.all_rooms()]
    restored = await client.unarchive_room(room["id"], interval=0.01)
    assert restored["rootFolderType"] == 14


async def test_type_change_removal_and_trimmed_answers_against_the_sandbox(
    quick: tuple[Sandbox, DocSpaceClient],
) -> None:
    _, client = quick
    room = await client.create_room("Beta", RoomType.CUSTOM)
    await client.set_room_share(room["id"], [("guest@example.com", Access.READ)])
    guest = await client.user_by_email("guest@example.com")
    assert guest is not None and set(guest) <= set(PERSON_FIELDS.split(","))
    raised = await client.set_user_type(UserType.USER, [guest["id"]])
    assert raised[0]["isCollaborator"] is True
    with pytest.raises(PermanentError) as info:
        await client.set_user_type(UserType.USER, [guest["id"]])  # no change → 403
    assert info.value.status == 403
    await client.remove_member(room["id"], guest["id"])
    emails = [m.get("sharedToUser", {}).get("email") for m in await client.room_share(room["id"])]
    assert "guest@example.com" not in emails
    rooms, _ = await client.list_rooms()
    assert all(set(r) <= {"id", "title", "tags", "roomType", "rootFolderType"} for r in rooms)
    invited = await client.invite_users([("new@example.com", UserType.USER)])
    assert invited and all(set(p) == {"id"} for p in invited)
