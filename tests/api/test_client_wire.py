"""DocSpaceClient on the wire (aioresponses): exact requests, envelopes, paging, 404 → None."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import aioresponses
from yarl import URL

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.api.client import (
    CONTENTS_FIELDS,
    LINK_FIELDS,
    MEMBER_FIELDS,
    NEW_ITEM_FIELDS,
    NEW_LINK_FIELDS,
    NEW_PERSON_FIELDS,
    NEW_ROOM_FIELDS,
    PERSON_FIELDS,
    ROOM_FIELDS,
    SHARE_REPLY_FIELDS,
)
from bulk_onboard.errors import PermanentError
from bulk_onboard.model.records import Access, LinkType, RoomType, UserType

from .conftest import API, TOKEN, LogCapture, make_settings


def ok(response: Any, **extra: Any) -> dict[str, Any]:
    return {"response": response, "status": 0, "statusCode": 200, **extra}


@pytest.fixture
async def client() -> AsyncIterator[DocSpaceClient]:
    async with DocSpaceClient(make_settings()) as c:
        yield c


def calls(mock: aioresponses, method: str, url: str) -> list[Any]:
    return list(mock.requests.get((method, URL(url)), []))


def body_of(call: Any) -> Any:
    return json.loads(call.kwargs["data"])


async def test_headers_and_exact_body_of_a_write(
    client: DocSpaceClient, mock: aioresponses
) -> None:
    rooms = f"{API}/files/rooms?fields={NEW_ROOM_FIELDS}"  # only what the engine reads
    mock.post(rooms, payload=ok({"id": 7, "title": "Acme", "roomType": 5}))
    room = await client.create_room("Acme", RoomType.CUSTOM, ["client"])
    assert room == {"id": 7, "title": "Acme", "roomType": 5}
    (call,) = calls(mock, "POST", rooms)
    headers = call.kwargs["headers"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json"
    assert call.kwargs["data"] == b'{"title": "Acme", "roomType": 5, "tags": ["client"]}'
    assert call.kwargs["allow_redirects"] is False
    assert client.stats.requests == {"POST create_room": 1}
    assert client.stats.attempts == 1
    assert client.stats.bytes_sent == len(call.kwargs["data"])


WRITES: list[tuple[str, str, str, tuple[Any, ...], dict[str, Any], Any]] = [
    (
        "create_folder",
        "POST",
        f"files/folder/7?fields={NEW_ITEM_FIELDS}",
        (7, "Contracts"),
        {"title": "Contracts"},
        {"id": 8},
    ),
    (
        "copy_file_as",
        "POST",
        f"files/file/31/copyas?fields={NEW_ITEM_FIELDS}",
        (31, 8, "Welcome.docx"),
        {"destFolderId": 8, "destTitle": "Welcome.docx"},
        {"id": 99},
    ),
    (
        "set_room_share",
        "PUT",
        f"files/rooms/7/share?fields={SHARE_REPLY_FIELDS}",
        (7, [("a@example.com", Access.EDITING), ("0f0e-guid", 9)], True, "Hi", "en-US"),
        {
            "invitations": [
                {"email": "a@example.com", "access": 10},
                {"id": "0f0e-guid", "access": 9},
            ],
            "notify": True,
            "message": "Hi",
            "culture": "en-US",
        },
        {"members": [], "warning": None, "error": 0},
    ),
    (
        "set_room_link",
        "PUT",
        f"files/rooms/7/links?fields={NEW_LINK_FIELDS}",
        (7, LinkType.EXTERNAL, Access.READ, "Read-only link"),
        {"linkType": 1, "access": 2, "title": "Read-only link"},
        {"access": 2, "sharedLink": {"id": "l1", "shareLink": "https://p/s/x"}},
    ),
    (
        "add_member",
        "POST",
        f"people?fields={NEW_PERSON_FIELDS}",
        ("ann@example.com", "Ann", "Lee", UserType.USER, "en-GB"),
        {
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "ann@example.com",
            "type": 4,
            "cultureName": "en-GB",
        },
        {"id": "u1", "email": "ann@example.com"},
    ),
    (
        "invite_users",
        "POST",
        "people/invite?fields=id",
        ([("bo@example.com", UserType.USER)], "en-US"),
        {"invitations": [{"email": "bo@example.com", "type": 4}], "culture": "en-US"},
        [{"id": "u2", "displayName": "bo"}],
    ),
]


@pytest.mark.parametrize(("action", "method", "path", "args", "body", "response"), WRITES)
async def test_each_write_sends_the_corrected_body(
    client: DocSpaceClient,
    mock: aioresponses,
    action: str,
    method: str,
    path: str,
    args: tuple[Any, ...],
    body: dict[str, Any],
    response: Any,
) -> None:
    mock.add(f"{API}/{path}", method, payload=ok(response))
    result = await getattr(client, action)(*args)
    assert result == response
    (call,) = calls(mock, method, f"{API}/{path}")
    assert body_of(call) == body
    assert client.stats.requests == {f"{method} {action}": 1}


async def test_deleted_link_returns_none(client: DocSpaceClient, mock: aioresponses) -> None:
    links = f"{API}/files/rooms/7/links?fields={NEW_LINK_FIELDS}"
    mock.put(links, payload={"count": 0, "status": 0, "statusCode": 200})
    assert await client.set_room_link(7, 1, 0, "x", link_id="l1") is None
    (call,) = calls(mock, "PUT", links)
    assert body_of(call)["linkId"] == "l1"


READS: list[tuple[str, str, tuple[Any, ...], Any, Any]] = [
    ("get_room", "files/rooms/7", (7,), {"id": 7}, {"id": 7}),
    ("primary_link", "files/rooms/7/link", (7,), {"access": 2}, {"access": 2}),
    (
        "room_links",
        f"files/rooms/7/links?fields={LINK_FIELDS}",
        (7,),
        [{"access": 2}],
        [{"access": 2}],
    ),
    ("room_links", f"files/rooms/7/links?fields={LINK_FIELDS}&type=1", (7, 1), [], []),
    ("self_profile", "people/@self", (), {"id": "me"}, {"id": "me"}),
    (
        "user_by_email",
        f"people/email?email=ann%40example.com&fields={PERSON_FIELDS}",
        ("ann@example.com",),
        {"id": "u1"},
        {"id": "u1"},
    ),
    (
        "user_exists",
        "people/exists?email=ann%40example.com",
        ("ann@example.com",),
        {"exists": True, "status": 4},
        True,
    ),
    (
        "user_exists",
        "people/exists?email=bo%40example.com",
        ("bo@example.com",),
        {"exists": False, "status": None},
        False,
    ),
]


@pytest.mark.parametrize(("action", "path_query", "args", "response", "expected"), READS)
async def test_each_read_hits_its_endpoint(
    client: DocSpaceClient,
    mock: aioresponses,
    action: str,
    path_query: str,
    args: tuple[Any, ...],
    response: Any,
    expected: Any,
) -> None:
    mock.get(f"{API}/{path_query}", payload=ok(response))
    assert await getattr(client, action)(*args) == expected
    assert len(calls(mock, "GET", f"{API}/{path_query}")) == 1


async def test_user_lookup_404_is_none_but_403_raises(
    client: DocSpaceClient, mock: aioresponses, log_capture: LogCapture
) -> None:
    missing = {"error": {"message": "The user could not be found"}, "status": 1, "statusCode": 404}
    mock.get(re.compile(r".*/people/email\?email=nobody.*"), status=404, payload=missing)
    assert await client.user_by_email("nobody@example.com") is None
    assert client.stats.failures == {}  # an answer, not a failure
    assert log_capture.events("request_failed") == []
    mock.get(re.compile(r".*/people/email\?email=hidden.*"), status=403, body=b"")
    with pytest.raises(PermanentError) as info:
        await client.user_by_email("hidden@example.com")
    assert info.value.status == 403
    assert client.stats.failures == {"PermanentError": 1}
    (failed,) = log_capture.events("request_failed")
    # a refusal is the row's business: its row_finished is at the default level, this at debug
    assert (failed["level"], failed["status"]) == ("debug", 403)


async def test_list_rooms_reads_folders_and_total(
    client: DocSpaceClient, mock: aioresponses
) -> None:
    mock.get(
        f"{API}/files/rooms?count=10&filterValue=Acme&startIndex=20&fields={ROOM_FIELDS}",
        payload=ok({"folders": [{"id": 1}], "files": [], "total": 21, "count": 1}),
    )
    assert await client.list_rooms("Acme", start_index=20, count=10) == ([{"id": 1}], 21)
    with pytest.raises(ValueError):
        await client.list_rooms(count=101)


async def test_all_rooms_pages_through(client: DocSpaceClient, mock: aioresponses) -> None:
    first = [{"id": i} for i in range(100)]
    mock.get(
        f"{API}/files/rooms?count=100&startIndex=0&fields={ROOM_FIELDS}",
        payload=ok({"folders": first, "total": 130}),
    )
    mock.get(
        f"{API}/files/rooms?count=100&startIndex=100&fields={ROOM_FIELDS}",
        payload=ok({"folders": [{"id": i} for i in range(100, 130)], "total": 130}),
    )
    rooms = await client.all_rooms()
    assert [r["id"] for r in rooms] == list(range(130))
    assert client.stats.requests == {"GET list_rooms": 2}


async def test_folder_contents_pages_files_and_folders(
    client: DocSpaceClient, mock: aioresponses
) -> None:
    files = [{"id": i, "title": f"f{i}.docx"} for i in range(60)]
    folders = [{"id": 1000 + i, "title": f"d{i}"} for i in range(45)]
    mock.get(
        f"{API}/files/7?count=100&startIndex=0&fields={CONTENTS_FIELDS}",
        payload=ok({"files": files[:55], "folders": folders, "current": {"id": 7}, "total": 105}),
    )
    mock.get(
        f"{API}/files/7?count=100&startIndex=100&fields={CONTENTS_FIELDS}",
        payload=ok({"files": files[55:], "folders": [], "current": {"id": 7}, "total": 105}),
    )
    contents = await client.folder_contents(7)
    assert len(contents.files) == 60
    assert len(contents.folders) == 45
    assert contents.current == {"id": 7}
    assert contents.folder_titled("d3") == {"id": 1003, "title": "d3"}
    assert contents.file_titled("nope") is None


async def test_room_share_and_filter_people_page_with_envelope_total(
    client: DocSpaceClient, mock: aioresponses
) -> None:
    members = [{"access": 2, "sharedToUser": {"email": f"m{i}@x.test"}} for i in range(150)]
    mock.get(
        f"{API}/files/rooms/7/share?count=100&startIndex=0&fields={MEMBER_FIELDS}",
        payload=ok(members[:100], count=100, total=150),
    )
    mock.get(
        f"{API}/files/rooms/7/share?count=100&startIndex=100&fields={MEMBER_FIELDS}",
        payload=ok(members[100:], count=50, total=150),
    )
    assert await client.room_share(7) == members
    mock.get(
        f"{API}/people/filter?count=100&employeeType=4&filterValue=lee&startIndex=0",
        payload=ok([{"id": "u1"}], count=1, total=1),
    )
    assert await client.filter_people("lee", employee_type=UserType.USER) == [{"id": "u1"}]


async def test_paging_stops_on_an_empty_page_even_if_total_says_more(
    client: DocSpaceClient, mock: aioresponses
) -> None:
    mock.get(
        f"{API}/people/filter?count=100&startIndex=0",
        payload=ok([{"id": "u1"}], count=1, total=500),
    )
    mock.get(f"{API}/people/filter?count=100&startIndex=1", payload=ok([], count=0, total=500))
    assert await client.filter_people() == [{"id": "u1"}]


async def test_an_injected_session_is_used_and_not_closed(mock: aioresponses) -> None:
    import aiohttp

    mock.get(f"{API}/people/@self", payload=ok({"id": "me"}))
    async with aiohttp.ClientSession() as session:
        async with DocSpaceClient(make_settings(), session=session) as client:
            assert await client.self_profile() == {"id": "me"}
        assert not session.closed
        # aiohttp would resend a PUT by itself on a dropped keep-alive connection; the
        # client switches that off so every resend goes through its own rules.
        assert session._retry_connection is False


async def test_an_owned_session_does_not_resend_by_itself() -> None:
    async with DocSpaceClient(make_settings()) as client:
        session = client._transport._http._session
        assert session is not None
        assert session._retry_connection is False
    assert session.closed


async def test_using_a_client_that_was_not_opened_is_an_error() -> None:
    client = DocSpaceClient(make_settings())
    with pytest.raises(RuntimeError, match="async with"):
        await client.self_profile()
