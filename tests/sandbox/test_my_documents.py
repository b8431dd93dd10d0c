"""GET files/@my, PUT files/folder/{id} (rename) and DELETE files/folder/{id} as the server
answers them (FoldersController, FileStorageService.FolderRenameAsync, FolderDao.
RenameFolderAsync, DeletePermissionsCheck): "My documents" made on the first visit and private
to its owner, ids from one sequence, `updated` stamped by a rename that changes the title and
by nothing else, a delete that is an operation."""

from __future__ import annotations

import asyncio
from typing import Any

from .conftest import Api


async def _my(api: Api, token: str = "owner") -> dict[str, Any]:
    reply = await api.get("/api/2.0/files/@my", token=token)
    assert reply.status == 200, reply.text
    return reply.response  # type: ignore[no-any-return]


async def _gone(api: Api, folder_id: int) -> None:
    for _ in range(100):
        if (await api.get(f"/api/2.0/files/{folder_id}")).status == 404:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the folder was never deleted")


async def test_my_documents_is_made_on_the_first_visit_and_listed(api: Api) -> None:
    first = await _my(api)
    assert first["current"]["type"] == 5 and first["current"]["rootFolderType"] == 5
    assert first["current"]["parentId"] == 0 and first["total"] == 0
    my_id = first["current"]["id"]
    room_folder = await api.folder(await api.room("A room"), "In a room")
    a = await api.folder(my_id, "marker a")
    b = await api.folder(my_id, "marker b")
    assert room_folder < a < b  # one sequence for every folder: later is higher
    again = await _my(api)
    assert again["current"]["id"] == my_id
    assert [(f["id"], f["title"]) for f in again["folders"]] == [(a, "marker a"), (b, "marker b")]
    assert again["folders"][0]["rootFolderType"] == 5 and again["folders"][0]["parentId"] == my_id
    paged = (await api.get("/api/2.0/files/@my", params={"count": 1, "startIndex": 1})).response
    assert [f["id"] for f in paged["folders"]] == [b] and paged["total"] == 2
    state = await api.state()  # personal folders are no room's folders
    assert all(f["id"] not in (a, b) for f in state["folders"])


async def test_my_documents_is_private_to_its_owner(api: Api) -> None:
    mine = (await _my(api))["current"]["id"]
    marker = await api.folder(mine, "owner's marker")
    await api.person("admin@example.com", "DocSpaceAdmin", password="pw-123456")
    other = await api.login("admin@example.com", "pw-123456")
    theirs = await _my(api, other)
    assert theirs["current"]["id"] != mine and theirs["total"] == 0
    assert (await api.get(f"/api/2.0/files/{mine}", token=other)).status == 403
    refused = await api.post(f"/api/2.0/files/folder/{mine}", {"title": "x"}, token=other)
    assert refused.status == 403
    renamed = await api.put(f"/api/2.0/files/folder/{marker}", {"title": "x"}, token=other)
    assert renamed.status == 403
    assert renamed.error["message"] == "You don't have enough permission to rename the folder"
    deleted = await api.call("DELETE", f"/api/2.0/files/folder/{marker}", json_body={}, token=other)
    assert deleted.status == 403 and deleted.error["message"] == "Access denied"


async def test_a_guest_has_no_my_documents(api: Api) -> None:
    await api.person("guest@example.com", "Guest", password="pw-123456")
    guest = await api.login("guest@example.com", "pw-123456")
    reply = await api.get("/api/2.0/files/@my", token=guest)
    assert reply.status == 404 and reply.error["message"] == "The required folder was not found"


async def test_a_rename_stamps_updated_only_when_the_title_changes(api: Api) -> None:
    my_id = (await _my(api))["current"]["id"]
    marker = await api.folder(my_id, "lease beat=1")
    created = (await _my(api))["folders"][0]
    await asyncio.sleep(0.01)
    same = await api.put(f"/api/2.0/files/folder/{marker}", {"title": "lease beat=1"})
    assert same.status == 200 and same.response["updated"] == created["updated"]
    await asyncio.sleep(0.01)
    renamed = await api.put(f"/api/2.0/files/folder/{marker}", {"title": "lease beat=2 a:b"})
    assert renamed.status == 200 and renamed.response["title"] == "lease beat=2 a_b"
    assert renamed.response["updated"] > created["updated"]
    assert renamed.response["created"] == created["created"]
    missing = await api.put("/api/2.0/files/folder/999999", {"title": "x"})
    assert missing.status == 404
    assert missing.error["message"] == "The required folder was not found"
    empty = await api.put(f"/api/2.0/files/folder/{marker}", {"title": " "})
    assert empty.status == 400 and "Title" in empty.response["errors"]


async def test_a_delete_is_an_operation_and_a_second_one_is_not_found(api: Api) -> None:
    my_id = (await _my(api))["current"]["id"]
    marker = await api.folder(my_id, "to delete")
    kept = await api.folder(my_id, "to trash")
    no_type = await api.call("DELETE", f"/api/2.0/files/folder/{marker}")
    assert no_type.status == 415
    started = await api.call(
        "DELETE", f"/api/2.0/files/folder/{marker}", json_body={"immediately": True}
    )
    assert started.status == 200, started.text
    operation = started.response[0]
    assert operation["Operation"] == 2 and operation["finished"] is False
    await _gone(api, marker)
    done = (await api.get("/api/2.0/files/fileops", params={"id": operation["id"]})).response
    assert done[0]["finished"] is True and done[0]["error"] == ""
    again = await api.call("DELETE", f"/api/2.0/files/folder/{marker}", json_body={})
    assert again.status == 404 and again.error["message"] == "The required folder was not found"
    assert (await api.call("DELETE", f"/api/2.0/files/folder/{kept}", json_body={})).status == 200
    for _ in range(100):  # to the Trash: gone from "My documents", not from the portal
        if not (await _my(api))["folders"]:
            break
        await asyncio.sleep(0.02)
    trashed = (await api.get(f"/api/2.0/files/{kept}")).response
    assert trashed["current"]["rootFolderType"] == 3
    refused = await api.put(f"/api/2.0/files/folder/{kept}", {"title": "back"})
    assert refused.status == 403  # nothing in the Trash is renamed


async def test_a_room_is_deleted_only_immediately_and_by_who_may_move_it(api: Api) -> None:
    room = await api.room("Doomed")
    not_now = await api.call("DELETE", f"/api/2.0/files/folder/{room}", json_body={})
    assert not_now.status == 403
    now = await api.call("DELETE", f"/api/2.0/files/folder/{room}", json_body={"immediately": True})
    assert now.status == 200, now.text
    await _gone(api, room)
