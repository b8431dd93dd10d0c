"""PUT files/fileops/copy as the server runs it (docspace-api.md 13): content copy, recursion,
titles already there (Skip merges folders and skips files; Duplicate copies beside them), the
operation's progress record polled through GET files/fileops, and its permission check."""

from __future__ import annotations

import asyncio
from typing import Any

from bulk_onboard.sandbox.copying import UPLOAD_TO_FORM_ROOM

from .conftest import Api


async def _wait(api: Api, op_id: str) -> dict[str, Any]:
    for _ in range(100):
        reply = await api.get("/api/2.0/files/fileops", params={"id": op_id})
        if reply.response and reply.response[0]["finished"]:
            return reply.response[0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError("the operation never finished")


async def skeleton(api: Api) -> int:
    """Templates/Skeleton: Invoices, Contracts/2024, Deliverables with Welcome.pdf, and
    Guide.pdf at its top."""
    templates = api.sandbox.templates_room_id
    top = await api.folder(templates, "Skeleton")
    await api.folder(top, "Invoices")
    contracts = await api.folder(top, "Contracts")
    await api.folder(contracts, "2024")
    deliverables = await api.folder(top, "Deliverables")
    ids = api.sandbox.template_ids
    for title, into in (("Welcome.pdf", deliverables), ("Guide.pdf", top)):
        body = {"destFolderId": into, "destTitle": title}
        assert (await api.post(f"/api/2.0/files/file/{ids[title]}/copyas", body)).status == 200
    return top


async def tree(api: Api, folder_id: int) -> dict[str, Any]:
    """{folder title: its tree, file title: None}."""
    content = (await api.get(f"/api/2.0/files/{folder_id}")).response
    out: dict[str, Any] = {f["title"]: None for f in content["files"]}
    for folder in content["folders"]:
        out[folder["title"]] = await tree(api, folder["id"])
    return out


SKELETON = {
    "Guide.pdf": None,
    "Invoices": {},
    "Contracts": {"2024": {}},
    "Deliverables": {"Welcome.pdf": None},
}


def _copy(source: int, dest: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"folderIds": [source], "fileIds": [], "destFolderId": dest}
    return {**body, "content": True, "returnSingleOperation": True, **extra}


async def test_content_copy_is_one_operation_recursive_and_polled(api: Api) -> None:
    source, room = await skeleton(api), await api.room("Acme")
    reply = await api.put("/api/2.0/files/fileops/copy", _copy(source, room))
    assert reply.status == 200 and reply.body["count"] == 1
    [op] = reply.response
    assert op["Operation"] == 1 and op["finished"] is False and op["status"] == 0
    assert await tree(api, room) == {}  # nothing copied before the operation runs
    done = await _wait(api, op["id"])
    assert done["progress"] == 100 and done["status"] == 2 and done["error"] == ""
    assert sorted(f["title"] for f in done["folders"]) == ["Contracts", "Deliverables", "Invoices"]
    assert [f["title"] for f in done["files"]] == ["Guide.pdf"]
    assert (await api.get("/api/2.0/files/fileops", params={"id": op["id"]})).response == []
    assert await tree(api, room) == SKELETON
    assert await tree(api, source) == SKELETON  # a copy: the source keeps its content


async def test_skip_fills_in_only_what_is_missing(api: Api) -> None:
    source, room = await skeleton(api), await api.room("Acme")
    contracts = await api.folder(room, "Contracts")  # partly there: merged into, not doubled
    reply = await api.put("/api/2.0/files/fileops/copy", _copy(source, room))
    await _wait(api, reply.response[0]["id"])
    assert await tree(api, room) == SKELETON
    again = await api.put("/api/2.0/files/fileops/copy", _copy(source, room))
    await _wait(api, again.response[0]["id"])
    assert await tree(api, room) == SKELETON
    assert (await api.audit())["duplicates"]["folders"] == []
    content = (await api.get(f"/api/2.0/files/{room}")).response
    assert contracts in [f["id"] for f in content["folders"]]


async def test_duplicate_copies_beside_what_is_there(api: Api) -> None:
    source, room = await skeleton(api), await api.room("Acme")
    for _ in range(2):
        body = _copy(source, room, conflictResolveType="Duplicate")
        await _wait(api, (await api.put("/api/2.0/files/fileops/copy", body)).response[0]["id"])
    content = (await api.get(f"/api/2.0/files/{room}")).response
    assert sorted(f["title"] for f in content["folders"]).count("Invoices") == 2
    assert [f["title"] for f in content["files"]] == ["Guide.pdf", "Guide.pdf"]


async def test_copy_needs_read_on_the_source_and_create_in_the_destination(api: Api) -> None:
    source = await skeleton(api)
    missing = await api.put("/api/2.0/files/fileops/copy", _copy(source, 999_999))
    assert missing.status == 403
    room = await api.room("A")
    unknown = await api.put("/api/2.0/files/fileops/copy", _copy(999_999, room, content=False))
    assert unknown.status == 403
    # content: the unknown folder's content (nothing) replaced it before the check: a trap,
    # an operation that copies nothing (server Publish/GetContent)
    empty = await api.put("/api/2.0/files/fileops/copy", _copy(999_999, room))
    assert empty.status == 200
    done = await _wait(api, empty.response[0]["id"])
    assert done["error"] == "" and done["folders"] == [] and await tree(api, room) == {}
    bad = await api.put(
        "/api/2.0/files/fileops/copy", _copy(source, source, conflictResolveType="Merge")
    )
    assert bad.status == 400
    nothing = await api.put(
        "/api/2.0/files/fileops/copy", {"folderIds": [], "fileIds": [], "destFolderId": 1}
    )
    assert nothing.status == 200 and nothing.response == []  # nothing queued


async def test_into_a_form_filling_room_files_are_refused_and_folders_made(api: Api) -> None:
    # Only ONLYOFFICE PDF forms may go into a form-filling room (FileMoveCopyOperation
    # .MoveOrCopyFilesAsync): every other file is skipped and the operation's error says so.
    source, room = await skeleton(api), await api.room("Forms", room_type=1)
    reply = await api.put("/api/2.0/files/fileops/copy", _copy(source, room))
    done = await _wait(api, reply.response[0]["id"])
    assert done["error"] == UPLOAD_TO_FORM_ROOM
    assert await tree(api, room) == {"Invoices": {}, "Contracts": {"2024": {}}, "Deliverables": {}}
