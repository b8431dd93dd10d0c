"""POST files/folder/{id}, GET files/{id}, POST files/file/{id}/copyas."""

from __future__ import annotations

import pytest

from .conftest import Api


async def test_seeded_templates(api: Api) -> None:
    ids = api.sandbox.template_ids
    assert set(ids) == {"Welcome.pdf", "Guide.pdf"}
    content = (await api.get(f"/api/2.0/files/{api.sandbox.templates_room_id}")).response
    assert content["current"]["title"] == "Templates" and content["current"]["roomType"] == 5
    files = {f["title"]: f for f in content["files"]}
    assert {t: f["id"] for t, f in files.items()} == ids
    welcome = files["Welcome.pdf"]
    assert welcome["fileExst"] == ".pdf" and welcome["pureContentLength"] > 100
    assert welcome["contentLength"].endswith("bytes") and welcome["fileEntryType"] == 2


async def test_create_folders_in_rooms_and_folders(api: Api) -> None:
    room = await api.room()
    reply = await api.post(f"/api/2.0/files/folder/{room}", {"title": "  Invoices  "})
    assert reply.status == 200
    folder = reply.response
    assert folder["title"] == "Invoices" and folder["parentId"] == room
    assert folder["type"] == 0 and folder["rootFolderId"] == 1 and folder["inRoom"] is True
    nested = await api.folder(folder["id"], "2024")
    path = (await api.get(f"/api/2.0/files/{nested}")).response["pathParts"]
    assert [p["id"] for p in path] == [1, room, folder["id"], nested]
    assert (await api.get(f"/api/2.0/files/rooms/{room}")).response["foldersCount"] == 2


async def test_duplicate_folder_titles_are_allowed(api: Api) -> None:
    room = await api.room()
    first, second = await api.folder(room, "Contracts"), await api.folder(room, "Contracts")
    assert first != second
    dups = (await api.audit())["duplicates"]["folders"]
    assert dups == [{"parentId": room, "title": "Contracts", "ids": [first, second]}]


@pytest.mark.parametrize("body", [{}, {"title": ""}, {"title": "   "}, {"title": "x" * 166}])
async def test_folder_title_validation(api: Api, body: dict[str, str]) -> None:
    room = await api.room()
    reply = await api.post(f"/api/2.0/files/folder/{room}", body)
    assert reply.status == 400 and list(reply.response["errors"]) == ["Title"]


async def test_folder_title_of_165_is_accepted(api: Api) -> None:
    room = await api.room()
    assert (await api.post(f"/api/2.0/files/folder/{room}", {"title": "f" * 165})).status == 200


async def test_folder_under_missing_parent_is_403_not_404(api: Api) -> None:
    reply = await api.post("/api/2.0/files/folder/99999", {"title": "Orphan"})
    assert reply.status == 403
    assert reply.error["message"] == "The required folder was not found"
    assert reply.error["type"] == "System.InvalidOperationException"


async def test_folder_in_the_rooms_root_is_refused(api: Api) -> None:
    reply = await api.post("/api/2.0/files/folder/1", {"title": "Loose"})
    assert reply.status == 403 and reply.error["message"] == "Access denied"


async def test_folder_contents_paging_and_404(api: Api) -> None:
    room = await api.room()
    folders = [await api.folder(room, f"F{n}") for n in range(3)]
    copy = await api.post(
        f"/api/2.0/files/file/{api.sandbox.template_ids['Guide.pdf']}/copyas",
        {"destTitle": "Guide.pdf", "destFolderId": room},
    )
    assert copy.status == 200
    page = (await api.get(f"/api/2.0/files/{room}", params={"count": 2, "startIndex": 2})).response
    assert [f["id"] for f in page["folders"]] == folders[2:]
    assert [f["id"] for f in page["files"]] == [copy.response["id"]]
    assert page["total"] == 4 and page["count"] == 2 and page["current"]["id"] == room
    assert (await api.get(f"/api/2.0/files/{room}", params={"count": 101})).status == 400
    missing = await api.get("/api/2.0/files/777777")
    assert missing.status == 404 and missing.error["message"] == "The required folder was not found"


async def test_copy_as_creates_a_file(api: Api) -> None:
    room = await api.room()
    target = await api.folder(room, "Deliverables")
    source = api.sandbox.template_ids["Welcome.pdf"]
    reply = await api.post(
        f"/api/2.0/files/file/{source}/copyas",
        {"destTitle": "Welcome to your client room.pdf", "destFolderId": target},
    )
    assert reply.status == 200
    copied = reply.response
    assert copied["title"] == "Welcome to your client room.pdf"
    assert copied["folderId"] == target and copied["fileExst"] == ".pdf"
    assert copied["id"] not in api.sandbox.template_ids.values()
    again = await api.post(
        f"/api/2.0/files/file/{source}/copyas",
        {"destTitle": "Welcome to your client room.pdf", "destFolderId": target},
    )
    assert again.status == 200
    dups = (await api.audit())["duplicates"]["files"]
    assert dups == [
        {
            "folderId": target,
            "title": "Welcome to your client room.pdf",
            "ids": [copied["id"], again.response["id"]],
        }
    ]


async def test_copy_as_keeps_the_source_extension_when_none_is_given(api: Api) -> None:
    room = await api.room()
    reply = await api.post(
        f"/api/2.0/files/file/{api.sandbox.template_ids['Guide.pdf']}/copyas",
        {"destTitle": "Guide for Acme", "destFolderId": room},
    )
    assert reply.response["title"] == "Guide for Acme.pdf"


async def test_copy_as_errors(api: Api) -> None:
    room = await api.room()
    source = api.sandbox.template_ids["Guide.pdf"]
    missing = await api.post(
        "/api/2.0/files/file/5/copyas", {"destTitle": "x.pdf", "destFolderId": room}
    )
    assert missing.status == 404 and missing.error["message"] == "The required file was not found"
    as_string = await api.post(
        f"/api/2.0/files/file/{source}/copyas", {"destTitle": "x.pdf", "destFolderId": str(room)}
    )
    assert as_string.status == 403
    assert as_string.error["message"] == "The required folder was not found"
    no_folder = await api.post(
        f"/api/2.0/files/file/{source}/copyas", {"destTitle": "x.pdf", "destFolderId": 424242}
    )
    assert no_folder.status == 403
    root = await api.post(
        f"/api/2.0/files/file/{source}/copyas", {"destTitle": "x.pdf", "destFolderId": 1}
    )
    assert root.status == 403 and root.error["message"] == "Access denied"
    for body, field in (
        ({"destFolderId": room}, "DestTitle"),
        ({"destTitle": "x"}, "DestFolderId"),
    ):
        invalid = await api.post(f"/api/2.0/files/file/{source}/copyas", body)
        assert invalid.status == 400 and list(invalid.response["errors"]) == [field]
    neither = await api.post(
        f"/api/2.0/files/file/{source}/copyas", {"destTitle": "x.pdf", "destFolderId": True}
    )
    assert neither.status == 200 and "response" not in neither.body
    assert len((await api.state())["files"]) == 2
