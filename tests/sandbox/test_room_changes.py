"""PUT files/rooms/{id}, archive/unarchive with GET files/fileops, and fields= trimming
(docspace-api.md 10.1-10.3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import SandboxConfig, start_sandbox

from .conftest import Api


@pytest.fixture
async def quick() -> AsyncIterator[Api]:
    """A sandbox whose file operations finish at once (on the next request)."""
    async with start_sandbox(SandboxConfig(fileop_ms=0)) as sb, aiohttp.ClientSession() as s:
        yield Api(s, sb)


async def _login_as(api: Api, email: str, kind: str) -> tuple[str, str]:
    user_id = await api.person(email, kind, password="Passw0rd!x")
    return user_id, await api.login(email, "Passw0rd!x")


async def test_update_room_renames_and_cleans_the_title(api: Api) -> None:
    room = await api.room("Acme")
    reply = await api.put(f"/api/2.0/files/rooms/{room}", {"title": " Acme/Sales "})
    assert reply.status == 200 and reply.body["status"] == 0 and reply.body["count"] == 1
    assert reply.response["id"] == room and reply.response["title"] == "Acme_Sales"
    assert (await api.get(f"/api/2.0/files/rooms/{room}")).response["title"] == "Acme_Sales"
    for body in ({}, {"title": "   "}):  # blank or omitted: no rename, no error
        same = await api.put(f"/api/2.0/files/rooms/{room}", body)
        assert same.status == 200 and same.response["title"] == "Acme_Sales"
    assert (await api.outbox()) == []


async def test_update_room_tags_and_settings(api: Api) -> None:
    room = await api.room("Acme")
    tagged = await api.put(f"/api/2.0/files/rooms/{room}", {"tags": ["vip", "north"]})
    assert tagged.response["tags"] == ["vip", "north"]
    kept = await api.put(f"/api/2.0/files/rooms/{room}", {"title": "Acme"})
    assert kept.response["tags"] == ["vip", "north"]  # omitted → unchanged
    other = await api.room("Other")
    reused = await api.put(f"/api/2.0/files/rooms/{other}", {"tags": ["VIP"]})
    assert reused.response["tags"] == ["vip"]  # an existing tag in another case is reused
    cleared = await api.put(f"/api/2.0/files/rooms/{room}", {"tags": [], "denyDownload": True})
    assert cleared.response["tags"] == [] and cleared.response["denyDownload"] is True
    empty = await api.put(f"/api/2.0/files/rooms/{room}", {"tags": [""]})
    assert empty.status == 400
    assert empty.error["message"] == "The value cannot be an empty string. (Parameter 'name')"


async def test_update_room_errors(api: Api) -> None:
    room = await api.room("Acme")
    missing = await api.put("/api/2.0/files/rooms/999999", {"title": "x"})
    assert missing.status == 403
    assert missing.error["message"] == "The required folder was not found"
    too_long = await api.put(f"/api/2.0/files/rooms/{room}", {"title": "x" * 171})
    assert too_long.status == 400 and too_long.body["status"] == 1
    assert "Title" in too_long.response["errors"]
    member, token = await _login_as(api, "member@example.com", "User")
    await api.share(room, {"id": member, "access": 10})
    denied = await api.put(f"/api/2.0/files/rooms/{room}", {"title": "Mine"}, token=token)
    assert denied.status == 403
    assert denied.error["message"] == "You don't have permission to edit the room"
    manager, manager_token = await _login_as(api, "boss@example.com", "RoomAdmin")
    await api.share(room, {"id": manager, "access": 9})
    ok = await api.put(f"/api/2.0/files/rooms/{room}", {"title": "Boss"}, token=manager_token)
    assert ok.status == 200 and ok.response["title"] == "Boss"


async def _wait(api: Api, op_id: str) -> dict[str, Any]:
    for _ in range(100):
        reply = await api.get("/api/2.0/files/fileops", params={"id": op_id})
        assert reply.status == 200 and reply.body["count"] == 1
        if reply.response and reply.response[0]["finished"]:
            return reply.response[0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError("the operation never finished")


async def test_archive_is_an_operation_polled_through_fileops(api: Api) -> None:
    room = await api.room("Acme")
    reply = await api.put(f"/api/2.0/files/rooms/{room}/archive", {})
    assert reply.status == 200 and reply.body["count"] == 1
    op = reply.response
    assert op["Operation"] == 0 and op["finished"] is False and op["status"] == 0
    assert op["progress"] == 0 and op["processed"] == "0" and op["error"] == ""
    assert (await api.get(f"/api/2.0/files/rooms/{room}")).response["rootFolderType"] == 14
    done = await _wait(api, op["id"])
    assert done["progress"] == 100 and done["status"] == 2 and done["processed"] == "1"
    assert [f["id"] for f in done["folders"]] == [2, room]
    again = await api.get("/api/2.0/files/fileops", params={"id": op["id"]})
    assert again.response == []  # answered once, then dequeued
    archived = (await api.get(f"/api/2.0/files/rooms/{room}")).response
    assert archived["rootFolderType"] == 20 and archived["parentId"] == 2
    assert [r["id"] for r in (await api.get("/api/2.0/files/rooms")).response["folders"]] == [
        api.sandbox.templates_room_id
    ]
    listing = await api.get("/api/2.0/files/rooms", params={"searchArea": "1"})
    assert [r["id"] for r in listing.response["folders"]] == [room]
    assert listing.response["current"]["type"] == 20
    both = await api.get("/api/2.0/files/rooms", params={"searchArea": "Any"})
    assert len(both.response["folders"]) == 2 and both.response["current"]["type"] == 14
    assert await api.outbox() == []


async def test_an_archived_room_is_read_only_and_restores(quick: Api) -> None:
    api = quick
    room = await api.room("Acme")
    user = await api.person("u@example.com", "User")
    await api.share(room, {"id": user, "access": 10})
    await api.put(f"/api/2.0/files/rooms/{room}/archive", {})
    await api.get("/api/2.0/files/fileops")  # settles and answers the finished operation
    folder = await api.post(f"/api/2.0/files/folder/{room}", {"title": "x"})
    assert folder.status == 403
    assert folder.error["message"] == "You don't have enough permission to create"
    share = await api.share(room, {"email": "n@example.com", "access": 2})
    assert share.status == 403 and share.error["message"] == "Access denied"
    assert (await api.put(f"/api/2.0/files/rooms/{room}", {"title": "y"})).status == 403
    assert (await api.members(room))["u@example.com"] == 10  # members kept
    again = await api.put(f"/api/2.0/files/rooms/{room}/archive", {})  # a silent no-op
    assert again.status == 200
    noop = (await api.get("/api/2.0/files/fileops")).response[0]
    assert noop["finished"] is True and noop["error"] == "" and len(noop["folders"]) == 1
    restore = await api.put(f"/api/2.0/files/rooms/{room}/unarchive", {})
    assert restore.status == 200
    await api.get("/api/2.0/files/fileops")
    assert (await api.get(f"/api/2.0/files/rooms/{room}")).response["rootFolderType"] == 14
    assert (await api.post(f"/api/2.0/files/folder/{room}", {"title": "x"})).status == 200


async def test_archive_refusals_and_delete_after(quick: Api) -> None:
    api = quick
    room = await api.room("Acme")
    no_body = await api.call("PUT", f"/api/2.0/files/rooms/{room}/archive")
    assert no_body.status == 415
    empty = await api.call(
        "PUT", f"/api/2.0/files/rooms/{room}/archive", headers={"Content-Type": "application/json"}
    )
    assert empty.status == 400
    assert (await api.put("/api/2.0/files/rooms/999999/archive", {})).status == 404
    folder = await api.folder(room, "Sub")
    assert (await api.put(f"/api/2.0/files/rooms/{folder}/archive", {})).status == 403
    manager, token = await _login_as(api, "m@example.com", "RoomAdmin")
    await api.share(room, {"id": manager, "access": 9})
    manager_try = await api.put(f"/api/2.0/files/rooms/{room}/archive", {}, token=token)
    assert manager_try.status == 403 and manager_try.error["message"] == "Access denied"
    dropped = await api.put(f"/api/2.0/files/rooms/{room}/archive", {"deleteAfter": True})
    assert dropped.status == 200
    assert (await api.get("/api/2.0/files/fileops")).response == []  # dequeued unseen
    assert (await api.get(f"/api/2.0/files/rooms/{room}")).response["rootFolderType"] == 20
    anonymous = await api.get("/api/2.0/files/fileops", token=None)
    assert anonymous.status == 200 and anonymous.response == []


async def test_fields_trims_the_response_only(api: Api) -> None:
    room = await api.room("Acme")
    reply = await api.get(
        "/api/2.0/files/rooms", params={"fields": "total,folders.id,folders.title"}
    )
    assert reply.status == 200 and reply.body["count"] == 1 and reply.body["links"]
    assert reply.response["total"] == 2
    assert {"id": room, "title": "Acme"} in reply.response["folders"]
    assert all(set(f) == {"id", "title"} for f in reply.response["folders"])
    assert set(reply.response) == {"total", "folders"}
    spaced = await api.get(f"/api/2.0/files/rooms/{room}", params={"fields": "id, title"})
    assert spaced.response == {"id": room}  # " title" matches nothing
    cased = await api.get(f"/api/2.0/files/rooms/{room}", params={"fields": "Title"})
    assert cased.response == {}
    repeated = await api.get(
        f"/api/2.0/files/rooms/{room}", params=[("fields", "id"), ("fields", "title")]
    )
    assert repeated.response == {"id": room, "title": "Acme"}
    brackets = await api.get(f"/api/2.0/files/rooms/{room}", params={"fields[]": "id"})
    assert brackets.response == {"id": room}
    security = await api.get(f"/api/2.0/files/rooms/{room}", params={"fields": "security.Read"})
    assert len(security.response["security"]) > 1  # dictionaries are written whole
    listed = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"fields": "access"})
    assert listed.response == [{"access": 1}] and listed.body["total"] == 1
    header = await api.get(f"/api/2.0/files/rooms/{room}", headers={"fields": "id"})
    assert "title" in header.response  # a header is never read
    error = await api.get("/api/2.0/files/rooms/999999", params={"fields": "id"})
    assert error.status == 404 and error.error["message"] == "The required folder was not found"
    problem = await api.put(
        f"/api/2.0/files/rooms/{room}", {"title": "x" * 171}, params={"fields": "status"}
    )
    assert problem.response == {"status": 400}
    op = await api.put(
        f"/api/2.0/files/rooms/{room}/archive", {}, params={"fields": "operationType"}
    )
    assert op.response == {"operationType": 0}
