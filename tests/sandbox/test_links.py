"""PUT/GET rooms/{id}/links and GET rooms/{id}/link."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bulk_onboard.sandbox import SandboxConfig, start_sandbox

from .conftest import Api

MAX_ONE = "The maximum number of links may not exceed 1"
ROLE_NOT_AVAILABLE = "The role is not available for this user type"


async def test_empty_body_on_a_fresh_room_creates_nothing(api: Api) -> None:
    """Section 9e: {} is an invitation link with access None."""
    room = await api.room("Client - Acme", 2)
    reply = await api.put(f"/api/2.0/files/rooms/{room}/links", {})
    assert reply.status == 200 and "response" not in reply.body and reply.body["count"] == 0
    assert (await api.get(f"/api/2.0/files/rooms/{room}/links")).response == []


async def test_empty_body_when_the_invitation_link_exists_is_403(api: Api) -> None:
    room = await api.room("Client - Acme", 2)
    join = await api.put(
        f"/api/2.0/files/rooms/{room}/links", {"linkType": 0, "access": 10, "title": "Join"}
    )
    assert join.status == 200
    reply = await api.put(f"/api/2.0/files/rooms/{room}/links", {})
    assert reply.status == 403 and reply.error["message"] == MAX_ONE
    second = await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": 0, "access": 2})
    assert second.status == 403 and second.error["message"] == MAX_ONE


async def test_invitation_link_shape(api: Api) -> None:
    room = await api.room("Custom", 5)
    reply = await api.put(
        f"/api/2.0/files/rooms/{room}/links",
        {"linkType": 0, "access": 10, "title": "Join", "maxUseCount": "5"},
    )
    link = reply.response
    assert link["access"] == 10 and link["subjectType"] == 3
    shared = link["sharedLink"]
    assert shared == link["sharedTo"]
    assert shared["title"] == "Join" and shared["linkType"] == 0 and shared["primary"] is False
    assert shared["maxUseCount"] == 5 and shared["currentUseCount"] == 0
    assert re.fullmatch(re.escape(api.base) + r"/s/[\w-]+", shared["shareLink"])
    assert "expirationDate" in shared and shared["isExpired"] is False
    page = await api.session.get(shared["shareLink"])
    assert page.status == 200 and "Custom" in await page.text()
    page.release()


async def test_primary_link_is_created_on_first_call(api: Api) -> None:
    room = await api.room("Custom", 5)
    first = await api.get(f"/api/2.0/files/rooms/{room}/link")
    assert first.status == 200
    link = first.response
    assert link["access"] == 2 and link["subjectType"] == 4
    assert link["sharedLink"]["primary"] is True and link["sharedLink"]["linkType"] == 1
    assert link["sharedLink"]["title"] == "Shared link"
    again = await api.get(f"/api/2.0/files/rooms/{room}/link")
    assert again.response["sharedLink"]["id"] == link["sharedLink"]["id"]
    assert len((await api.get(f"/api/2.0/files/rooms/{room}/links")).response) == 1


async def test_form_rooms_have_a_fill_forms_primary_link(api: Api) -> None:
    room = await api.room("Forms", 1)
    link = (await api.get(f"/api/2.0/files/rooms/{room}/link")).response
    assert link["access"] == 7 and link["sharedLink"]["primary"] is True


@pytest.mark.parametrize("room_type", [2, 8, 9])
async def test_no_external_links_in_collaboration_vdr_and_ai_rooms(
    api: Api, room_type: int
) -> None:
    room = await api.room("No links", room_type)
    primary = await api.get(f"/api/2.0/files/rooms/{room}/link")
    assert primary.status == 403 and primary.error["message"] == ROLE_NOT_AVAILABLE
    extra = await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": 1, "access": 2})
    assert extra.status == 403 and extra.error["message"] == ROLE_NOT_AVAILABLE


async def test_at_most_five_additional_external_links(api: Api) -> None:
    room = await api.room("Custom", 5)
    await api.get(f"/api/2.0/files/rooms/{room}/link")
    for n in range(5):
        made = await api.put(
            f"/api/2.0/files/rooms/{room}/links",
            {"linkType": 1, "access": 2, "title": f"Read-only {n}"},
        )
        assert made.status == 200 and made.response["subjectType"] == 1
    sixth = await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": 1, "access": 2})
    assert sixth.status == 403
    assert sixth.error["message"] == "The maximum number of links may not exceed 5"
    assert len((await api.get(f"/api/2.0/files/rooms/{room}/links")).response) == 6


async def test_form_rooms_take_no_additional_external_links(api: Api) -> None:
    room = await api.room("Forms", 1)
    reply = await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": 1, "access": 7})
    assert reply.status == 403 and reply.error["message"] == ROLE_NOT_AVAILABLE


@pytest.mark.parametrize(
    ("room_type", "link_type", "access", "allowed"),
    [
        (2, 0, 9, False),
        (2, 0, 11, True),
        (5, 0, 5, True),
        (6, 0, 2, True),
        (6, 0, 10, False),
        (1, 0, 7, True),
        (1, 0, 2, False),
        (8, 0, 7, True),
        (5, 1, 7, True),
        (5, 1, 11, False),
        (6, 1, 10, True),
        (6, 1, 9, False),
    ],
)
async def test_link_roles_follow_the_matrix(
    api: Api, room_type: int, link_type: int, access: int, allowed: bool
) -> None:
    room = await api.room("Links", room_type)
    reply = await api.put(
        f"/api/2.0/files/rooms/{room}/links", {"linkType": link_type, "access": access}
    )
    assert (reply.status == 200) is allowed, reply.text
    if not allowed:
        assert reply.status == 403 and reply.error["message"] == ROLE_NOT_AVAILABLE


async def test_update_and_delete_by_link_id(api: Api) -> None:
    room = await api.room("Custom", 5)
    made = (
        await api.put(
            f"/api/2.0/files/rooms/{room}/links",
            {
                "linkType": 1,
                "access": 2,
                "title": "Read-only link",
                "password": " secret ",
                "denyDownload": True,
            },
        )
    ).response
    link_id = made["sharedLink"]["id"]
    assert made["sharedLink"]["password"] == "secret" and made["sharedLink"]["denyDownload"]
    updated = await api.put(
        f"/api/2.0/files/rooms/{room}/links",
        {"linkId": link_id, "linkType": 1, "access": 6, "title": "Comments"},
    )
    assert updated.response["access"] == 6 and updated.response["sharedLink"]["id"] == link_id
    assert updated.response["sharedLink"]["title"] == "Comments"
    deleted = await api.put(
        f"/api/2.0/files/rooms/{room}/links", {"linkId": link_id, "linkType": 1, "access": 0}
    )
    assert deleted.status == 200 and "response" not in deleted.body
    assert (await api.get(f"/api/2.0/files/rooms/{room}/links")).response == []


async def test_deleting_a_public_rooms_primary_link_regenerates_it(api: Api) -> None:
    room = await api.room("Public", 6)
    old = (await api.get(f"/api/2.0/files/rooms/{room}/link")).response["sharedLink"]
    reply = await api.put(
        f"/api/2.0/files/rooms/{room}/links", {"linkId": old["id"], "linkType": 1, "access": 0}
    )
    new = reply.response["sharedLink"]
    assert new["primary"] is True and new["id"] != old["id"]
    assert new["shareLink"] != old["shareLink"]


async def test_list_links_by_type(api: Api) -> None:
    room = await api.room("Custom", 5)
    await api.get(f"/api/2.0/files/rooms/{room}/link")
    await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": 0, "access": 2})
    all_links = (await api.get(f"/api/2.0/files/rooms/{room}/links")).response
    assert [k["subjectType"] for k in all_links] == [4, 3]
    invitations = await api.get(f"/api/2.0/files/rooms/{room}/links", params={"type": 0})
    assert [k["subjectType"] for k in invitations.response] == [3]
    external = await api.get(f"/api/2.0/files/rooms/{room}/links", params={"type": "External"})
    assert [k["subjectType"] for k in external.response] == [4]
    via_share = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"filterType": 15})
    assert [k["subjectType"] for k in via_share.response] == [4, 3]


async def test_link_request_validation(api: Api) -> None:
    room = await api.room("Custom", 5)
    as_text = await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": "External"})
    assert as_text.status == 400 and list(as_text.response["errors"]) == ["$.linkType"]
    too_long = await api.put(
        f"/api/2.0/files/rooms/{room}/links", {"linkType": 1, "access": 2, "title": "t" * 256}
    )
    assert too_long.status == 400 and list(too_long.response["errors"]) == ["Title"]
    bad_type = await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": 7, "access": 2})
    assert bad_type.status == 403 and bad_type.error["type"] == "System.InvalidOperationException"
    missing = await api.put("/api/2.0/files/rooms/424242/links", {"linkType": 1, "access": 2})
    assert missing.status == 404
    assert (await api.get("/api/2.0/files/rooms/424242/link")).status == 404
    assert (await api.get("/api/2.0/files/rooms/424242/links")).status == 404


async def test_share_links_use_the_public_url() -> None:
    async with (
        start_sandbox(SandboxConfig(public_url="https://docs.example.com/")) as sb,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, sb)
        room = await api.room("Custom", 5)
        link = (await api.get(f"/api/2.0/files/rooms/{room}/link")).response
        assert link["sharedLink"]["shareLink"].startswith("https://docs.example.com/s/")
