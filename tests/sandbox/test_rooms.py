"""POST/GET /api/2.0/files/rooms and GET rooms/{id}."""

from __future__ import annotations

import pytest

from .conftest import Api

ROOM_FOLDER_TYPES = {1: 15, 2: 16, 5: 19, 6: 22, 8: 29, 9: 31}


@pytest.mark.parametrize(
    ("room_type", "expected"),
    [
        (2, 2),
        ("EditingRoom", 2),
        ("editingroom", 2),
        (5, 5),
        ("CustomRoom", 5),
        (6, 6),
        ("PublicRoom", 6),
        (1, 1),
        ("FillingFormsRoom", 1),
        (8, 8),
        ("VirtualDataRoom", 8),
        (9, 9),
    ],
)
async def test_create_room_accepts_names_or_integers(
    api: Api, room_type: int | str, expected: int
) -> None:
    reply = await api.post(
        "/api/2.0/files/rooms",
        {"title": "  Client - Acme  ", "roomType": room_type, "tags": ["vip"]},
    )
    assert reply.status == 200, reply.text
    room = reply.response
    assert room["title"] == "Client - Acme"
    assert room["roomType"] == expected and room["type"] == ROOM_FOLDER_TYPES[expected]
    assert room["parentId"] == 1 and room["rootFolderId"] == 1 and room["rootFolderType"] == 14
    assert room["tags"] == ["vip"] and room["fileEntryType"] == 1
    assert room["createdBy"]["id"] == api.sandbox.owner_id
    assert (await api.get(f"/api/2.0/files/rooms/{room['id']}")).response["id"] == room["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roomType": 2}, "Title"),
        ({"title": "   ", "roomType": 2}, "Title"),
        ({"title": "x" * 171, "roomType": 2}, "Title"),
        ({"title": "Acme"}, "RoomType"),
        ({"title": "Acme", "roomType": "Collaboration"}, "$.roomType"),
        ({"title": "Acme", "roomType": 2, "color": "1234567"}, "Color"),
    ],
)
async def test_create_room_validation(api: Api, body: dict[str, object], field: str) -> None:
    reply = await api.post("/api/2.0/files/rooms", body)
    assert reply.status == 400 and reply.body["status"] == 1
    assert list(reply.response["errors"]) == [field]


async def test_title_of_170_characters_is_accepted(api: Api) -> None:
    reply = await api.post("/api/2.0/files/rooms", {"title": "t" * 170, "roomType": 5})
    assert reply.status == 200 and len(reply.response["title"]) == 170


async def test_unknown_room_type_number_is_an_argument_error(api: Api) -> None:
    reply = await api.post("/api/2.0/files/rooms", {"title": "Acme", "roomType": 3})
    assert reply.status == 400
    assert reply.error["type"] == "System.ArgumentOutOfRangeException"
    assert "roomType" in reply.error["message"]
    assert [r["title"] for r in (await api.state())["rooms"]] == ["Templates"]


async def test_duplicate_room_titles_are_allowed(api: Api) -> None:
    first, second = await api.room("Same"), await api.room("Same")
    assert first != second
    audit = await api.audit()
    assert audit["duplicates"]["rooms"] == [{"title": "Same", "ids": [first, second]}]
    assert audit["clean"] is False


async def test_list_rooms_is_a_folder_content(api: Api) -> None:
    ids = [await api.room(f"Client {n}", 2) for n in range(3)]
    reply = await api.get("/api/2.0/files/rooms")
    assert reply.status == 200 and reply.body["count"] == 1 and "total" not in reply.body
    content = reply.response
    assert content["files"] == [] and content["current"]["id"] == 1
    assert content["total"] == 4 and content["count"] == 4 and content["startIndex"] == 0
    assert [f["id"] for f in content["folders"]] == [api.sandbox.templates_room_id, *ids]
    assert content["pathParts"] == [{"id": 1, "title": "Rooms", "folderType": 14}]


async def test_list_rooms_filters_and_pages(api: Api) -> None:
    acme = [await api.room(f"Acme {n}", 2) for n in range(5)]
    await api.room("Globex", 5)
    page = (
        await api.get(
            "/api/2.0/files/rooms", params={"filterValue": "acme", "count": 2, "startIndex": 2}
        )
    ).response
    assert [f["id"] for f in page["folders"]] == acme[2:4]
    assert page["total"] == 5 and page["count"] == 2 and page["startIndex"] == 2
    typed = (await api.get("/api/2.0/files/rooms", params={"type": "CustomRoom"})).response
    assert [f["title"] for f in typed["folders"]] == ["Templates", "Globex"]
    archived = (await api.get("/api/2.0/files/rooms", params={"searchArea": "Archive"})).response
    assert archived["folders"] == [] and archived["current"]["id"] == 2


@pytest.mark.parametrize(
    "params",
    [{"count": 0}, {"count": 101}, {"count": "many"}, {"startIndex": -1}, {"type": "Nope"}],
)
async def test_list_rooms_rejects_bad_paging(api: Api, params: dict[str, object]) -> None:
    reply = await api.get("/api/2.0/files/rooms", params=params)
    assert reply.status == 400 and reply.body["status"] == 1


async def test_get_missing_room_is_404(api: Api) -> None:
    reply = await api.get("/api/2.0/files/rooms/424242")
    assert reply.status == 404 and reply.error["message"] == "The required folder was not found"
    room = await api.room()
    folder = await api.folder(room, "Not a room")
    assert (await api.get(f"/api/2.0/files/rooms/{folder}")).status == 404


async def test_public_and_form_rooms_start_with_their_primary_link(api: Api) -> None:
    public, forms, custom = await api.room("P", 6), await api.room("F", 1), await api.room("C", 5)
    for room, access in ((public, 2), (forms, 7)):
        links = (await api.get(f"/api/2.0/files/rooms/{room}/links")).response
        assert [(k["access"], k["sharedLink"]["primary"]) for k in links] == [(access, True)]
    assert (await api.get(f"/api/2.0/files/rooms/{custom}/links")).response == []
