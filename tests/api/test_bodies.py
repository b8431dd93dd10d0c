"""Request bodies: the corrected requests of docspace-api.md section 9, exactly."""

from __future__ import annotations

import json

import pytest

from bulk_onboard.api import bodies
from bulk_onboard.model.records import Access, LinkType, RoomType, UserType


def test_share_body_uses_invitations_with_integer_access() -> None:
    body = bodies.share_body(
        [("6a1b0c2d-0000-4000-8000-000000000001", Access.ROOM_MANAGER), ("x@example.com", 10)],
        notify=True,
        message="Welcome",
        culture="en-US",
    )
    assert body == {
        "invitations": [
            {"id": "6a1b0c2d-0000-4000-8000-000000000001", "access": 9},
            {"email": "x@example.com", "access": 10},
        ],
        "notify": True,
        "message": "Welcome",
        "culture": "en-US",
    }
    assert type(body["invitations"][0]["access"]) is int  # not the IntEnum


def test_share_body_defaults_to_no_notify_and_omits_unset_fields() -> None:
    assert bodies.share_body([("a@b.c", 2)]) == {
        "invitations": [{"email": "a@b.c", "access": 2}],
        "notify": False,
    }


def test_share_body_refuses_string_access_and_empty_lists() -> None:
    with pytest.raises(TypeError):
        bodies.share_body([("a@b.c", "Editing")])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        bodies.share_body([("a@b.c", True)])
    with pytest.raises(ValueError):
        bodies.share_body([])


def test_invite_body() -> None:
    body = bodies.invite_body([("ann@example.com", UserType.USER)], culture="de-DE")
    assert body == {"invitations": [{"email": "ann@example.com", "type": 4}], "culture": "de-DE"}
    assert bodies.invite_body([("b@example.com", 1)]) == {
        "invitations": [{"email": "b@example.com", "type": 1}]
    }


def test_member_body_always_sends_the_type() -> None:
    assert bodies.member_body("ann@example.com", "Ann", "Lee", UserType.USER) == {
        "firstName": "Ann",
        "lastName": "Lee",
        "email": "ann@example.com",
        "type": 4,
    }
    with_culture = bodies.member_body("a@b.c", "A", "B", 4, culture="fr-FR")
    assert with_culture["cultureName"] == "fr-FR"


def test_copy_as_body_sends_the_folder_id_as_a_number() -> None:
    body = bodies.copy_as_body(123, "Welcome.docx")
    assert body == {"destFolderId": 123, "destTitle": "Welcome.docx"}
    assert json.dumps(body) == '{"destFolderId": 123, "destTitle": "Welcome.docx"}'
    with pytest.raises(TypeError):
        bodies.copy_as_body("123", "x.docx")  # type: ignore[arg-type]


def test_link_and_room_and_folder_bodies() -> None:
    assert bodies.link_body(LinkType.EXTERNAL, Access.READ, "Read-only link") == {
        "linkType": 1,
        "access": 2,
        "title": "Read-only link",
    }
    assert bodies.link_body(0, 10, "Join", link_id="abc")["linkId"] == "abc"
    assert bodies.create_room_body("Acme", RoomType.CUSTOM, ("client", "2024")) == {
        "title": "Acme",
        "roomType": 5,
        "tags": ["client", "2024"],
    }
    assert bodies.create_folder_body("Contracts") == {"title": "Contracts"}
