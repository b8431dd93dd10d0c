"""PUT/GET /api/2.0/files/rooms/{id}/share: the role matrix, the traps and the mail rules."""

from __future__ import annotations

import pytest

from .conftest import Api

ROLE_NOT_AVAILABLE = "The role is not available for this user type"

# docspace-api.md section 6, copied here so the test does not read the emulator's own table.
ROOM_USER_ROLES = {
    2: {9, 11, 10, 2, 0},
    5: {9, 11, 10, 5, 6, 2, 0},
    6: {9, 11, 0},
    1: {9, 11, 7, 0},
    8: {9, 11, 10, 2, 7, 0},
    9: {9, 11, 2, 0},
}
PAID = {9, 11, 10, 7, 5, 6, 2, 0}
FREE = {11, 10, 5, 6, 7, 2, 0}
TYPE_ROLES = {"DocSpaceAdmin": PAID, "RoomAdmin": PAID, "User": FREE, "Guest": FREE}


@pytest.mark.parametrize("user_type", sorted(TYPE_ROLES))
@pytest.mark.parametrize("room_type", sorted(ROOM_USER_ROLES))
async def test_role_matrix(api: Api, room_type: int, user_type: str) -> None:
    room = await api.room("Matrix", room_type)
    user = await api.person(f"{user_type.lower()}@example.com", user_type)
    allowed = set()
    for access in range(12):
        reply = await api.share(room, {"id": user, "access": access})
        if reply.status == 200:
            allowed.add(access)
            members = await api.members(room)
            assert members.get(f"{user_type.lower()}@example.com") == (access or None)
        else:
            assert reply.status == 403, reply.text
            assert reply.error["message"] == ROLE_NOT_AVAILABLE
            assert reply.error["type"] == "System.InvalidOperationException"
    assert allowed == ROOM_USER_ROLES[room_type] & TYPE_ROLES[user_type]


async def test_entries_instead_of_invitations_changes_nothing(api: Api) -> None:
    """Section 9a: `entries` is not a field; the server answers 200 {"error": 0}."""
    room = await api.room("Client - Acme", 2)
    manager = await api.person("manager@example.com", "RoomAdmin")
    client = await api.person("client@example.com", "User")
    reply = await api.put(
        f"/api/2.0/files/rooms/{room}/share",
        {
            "entries": [
                {"id": manager, "isGroup": False, "access": 4},
                {"id": client, "isGroup": False, "access": 1},
            ]
        },
    )
    assert reply.status == 200 and reply.body["status"] == 0
    assert reply.response == {"error": 0}
    assert await api.members(room) == {api.sandbox.owner_email: 1}
    assert (await api.share(424242)).response == {"error": 0}  # answered before the lookup


@pytest.mark.parametrize("access", [1, 3, 4, 8])
async def test_values_that_are_never_room_roles(api: Api, access: int) -> None:
    room = await api.room("Custom", 5)
    user = await api.person("u@example.com", "RoomAdmin")
    reply = await api.share(room, {"id": user, "access": access})
    assert reply.status == 403 and reply.error["message"] == ROLE_NOT_AVAILABLE


async def test_corrected_share_by_id(api: Api) -> None:
    room = await api.room("Client - Acme", 5)
    manager = await api.person("manager@example.com", "RoomAdmin")
    client = await api.person("client@example.com", "User")
    reply = await api.share(
        room, {"id": manager, "access": 9}, {"id": client, "access": 2}, notify=False
    )
    assert reply.status == 200
    members = reply.response["members"]
    assert [(m["sharedToUser"]["id"], m["access"]) for m in members] == [(manager, 9), (client, 2)]
    assert reply.response["error"] == 0 and "warning" not in reply.response
    assert await api.members(room) == {
        api.sandbox.owner_email: 1,
        "manager@example.com": 9,
        "client@example.com": 2,
    }
    assert await api.outbox() == []  # notify false, active users: no mail


async def test_file_share_names_parse_and_other_strings_mean_removal(api: Api) -> None:
    room = await api.room("Collab", 2)
    user = await api.person("u@example.com", "User")
    assert (await api.share(room, {"id": user, "access": "Editing"})).status == 200
    assert (await api.members(room))["u@example.com"] == 10
    for wrong in ("editing", "10", "Edit", "ReadOnly"):
        assert (await api.share(room, {"id": user, "access": "Read"})).status == 200
        assert (await api.share(room, {"id": user, "access": wrong})).status == 200
        assert "u@example.com" not in await api.members(room), wrong


async def test_access_zero_removes_and_missing_access_means_zero(api: Api) -> None:
    room = await api.room("Collab", 2)
    user = await api.person("u@example.com", "User")
    await api.share(room, {"id": user, "access": 2})
    assert (await api.share(room, {"id": user})).status == 200
    assert "u@example.com" not in await api.members(room)


async def test_a_refused_entry_keeps_the_earlier_ones(api: Api) -> None:
    room = await api.room("Public", 6)
    first = await api.person("first@example.com", "User")
    second = await api.person("second@example.com", "User")
    reply = await api.share(
        room,
        {"id": first, "access": 11},
        {"id": second, "access": 2},
        {"email": "third@example.com", "access": 11},
    )
    assert reply.status == 403 and reply.error["message"] == ROLE_NOT_AVAILABLE
    members = await api.members(room)
    assert members.get("first@example.com") == 11 and "second@example.com" not in members
    assert "third@example.com" not in members


async def test_unknown_email_becomes_a_pending_guest_with_an_invitation(api: Api) -> None:
    room = await api.room("Project Collaboration", 2)
    reply = await api.invite(room, "Example.User@mail.com")
    assert reply.status == 200 and reply.response["members"] == []
    person = (
        await api.get("/api/2.0/people/email", params={"email": "example.user@mail.com"})
    ).response
    assert person["status"] == 4 and person["activationStatus"] == 2
    assert person["isVisitor"] is True
    assert (await api.members(room))["Example.User@mail.com"] == 10
    mails = await api.outbox()
    assert [(m["to"], m["kind"], m["roomId"]) for m in mails] == [
        ("Example.User@mail.com", "room_invitation", room)
    ]
    assert mails[0]["message"] == "You have been invited to a room"


async def test_sharing_a_pending_address_again_with_the_same_access_is_skipped(api: Api) -> None:
    """docspace-api.md 10.8: an unchanged share is skipped, no write and no mail."""
    room = await api.room("Collab", 2)
    for _ in range(2):  # a naive rerun
        reply = await api.share(room, {"email": "guest@example.com", "access": 2})
        assert reply.status == 200
    assert [m["kind"] for m in await api.outbox(to="guest@example.com")] == ["room_invitation"]
    audit = await api.audit()
    assert audit["duplicates"]["shares"] == []
    assert audit["counts"]["people"] == 2  # the owner and one guest, not two


async def test_sharing_a_pending_address_again_with_a_new_access_mails_again(api: Api) -> None:
    """10.8: the pending-by-e-mail row mails again on an update."""
    room = await api.room("Collab", 2)
    for access in (2, 10):
        reply = await api.share(room, {"email": "guest@example.com", "access": access})
        assert reply.status == 200
    assert [m["kind"] for m in await api.outbox(to="guest@example.com")] == [
        "room_invitation",
        "room_invitation",
    ]
    audit = await api.audit()
    assert audit["duplicates"]["shares"] == [
        {"roomId": room, "email": "guest@example.com", "invitations": 2}
    ]


async def test_room_manager_cannot_be_granted_by_email_to_a_new_address(api: Api) -> None:
    room = await api.room("Collab", 2)
    reply = await api.share(room, {"email": "boss@example.com", "access": 9})
    assert reply.status == 403 and reply.error["message"] == ROLE_NOT_AVAILABLE
    assert (
        await api.get("/api/2.0/people/exists", params={"email": "boss@example.com"})
    ).response == {"exists": False}
    assert await api.outbox() == []


async def test_existing_active_user_by_email_is_that_user(api: Api) -> None:
    room = await api.room("Collab", 2)
    admin = await api.person("admin@example.com", "RoomAdmin")
    reply = await api.share(room, {"email": "ADMIN@example.com", "access": 10})
    assert reply.status == 200
    assert (await api.members(room))["admin@example.com"] == 10
    assert await api.outbox() == []  # active user, notify false
    people = (await api.state())["people"]
    assert [p["id"] for p in people if p["email"] == "admin@example.com"] == [admin]


async def test_email_entries_are_role_checked_as_guests(api: Api) -> None:
    """10.8: an id-less entry resolves to LostUser (a Guest) first, so RoomManager by
    e-mail is 403 even for an existing room admin; by id it works."""
    room = await api.room("Collab", 2)
    admin = await api.person("admin@example.com", "RoomAdmin")
    reply = await api.share(room, {"email": "admin@example.com", "access": 9})
    assert reply.status == 403 and reply.error["message"] == ROLE_NOT_AVAILABLE
    assert "admin@example.com" not in await api.members(room)
    assert (await api.share(room, {"id": admin, "access": 9})).status == 200
    assert (await api.members(room))["admin@example.com"] == 9


async def test_notify_mails_active_users_when_they_are_added(api: Api) -> None:
    room = await api.room("Collab", 2)
    user = await api.person("u@example.com", "User")
    await api.share(room, {"id": user, "access": 2}, notify=True)
    await api.share(room, {"id": user, "access": 10}, notify=True)  # an update: no new mail
    mails = await api.outbox()
    assert [(m["to"], m["kind"]) for m in mails] == [("u@example.com", "room_notification")]


async def test_activation_pending_people_get_invitations_by_email(api: Api) -> None:
    room = await api.room("Collab", 2)
    created = await api.post(
        "/api/2.0/people",
        {"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com", "type": 4},
    )
    assert created.response["activationStatus"] == 2
    await api.share(room, {"email": "ann@example.com", "access": 2})
    kinds = [m["kind"] for m in await api.outbox(to="ann@example.com")]
    assert kinds == ["activation", "room_invitation"]


async def test_unknown_ids_are_dropped_and_bad_ids_are_validation_errors(api: Api) -> None:
    room = await api.room("Collab", 2)
    unknown = await api.share(room, {"id": "0f9e8d7c-6b5a-4321-8765-123456789abc", "access": 2})
    assert unknown.status == 200 and unknown.response["members"] == []
    bad = await api.share(room, {"id": "account_manager_user_id_here", "access": 2})
    assert bad.status == 400 and list(bad.response["errors"]) == ["$.invitations[0].id"]
    assert await api.members(room) == {api.sandbox.owner_email: 1}


@pytest.mark.parametrize("email", ["not-an-address", "", "@example.com", "a@b@example.com"])
async def test_an_email_without_one_inner_at_is_a_validation_error(api: Api, email: str) -> None:
    """10.8: `[EmailAddress]` on RoomInvitation.Email: 400 ProblemDetails, nothing applied."""
    room = await api.room("Collab", 2)
    user = await api.person("u@example.com", "User")
    reply = await api.share(room, {"id": user, "access": 2}, {"email": email, "access": 2})
    assert reply.status == 400
    assert reply.response["errors"] == {
        "Invitations[1].Email": ["The Email field is not a valid e-mail address."]
    }
    assert "u@example.com" not in await api.members(room)
    assert await api.outbox() == []


async def test_an_email_the_attribute_passes_but_the_portal_rejects_is_a_warning(
    api: Api,
) -> None:
    room = await api.room("Collab", 2)
    reply = await api.share(room, {"email": "two..dots@example.com", "access": 2})
    assert reply.status == 200 and reply.response["warning"] == "Incorrect email"
    assert await api.outbox() == []


async def test_a_pending_person_added_by_id_without_notify_gets_no_mail(api: Api) -> None:
    """10.8: an entry by id with notify false mails nobody, pending or not; with notify a new
    record mails the room notice (no join link), also to a pending person."""
    one, two = await api.room("One", 2), await api.room("Two", 2)
    invited = await api.post("/api/2.0/people/invite", {"invitations": [{"email": "p@x.com"}]})
    assert invited.status == 200
    pending = (await api.get("/api/2.0/people/email", params={"email": "p@x.com"})).response
    assert pending["activationStatus"] == 2
    await api.share(one, {"id": pending["id"], "access": 10}, notify=False)
    assert [m["kind"] for m in await api.outbox(to="p@x.com")] == ["invitation"]
    assert (await api.audit())["duplicates"]["mails"] == []
    await api.share(two, {"id": pending["id"], "access": 10}, notify=True)
    mails = await api.outbox(to="p@x.com")
    assert [(m["kind"], m["roomId"]) for m in mails] == [
        ("invitation", None),
        ("room_notification", two),
    ]
    assert "/confirm/" not in (mails[1]["link"] or "")  # the room's address, no join link
    assert (await api.audit())["duplicates"]["mails"] == [
        {"email": "p@x.com", "count": 2, "kinds": {"invitation": 1, "room_notification": 1}}
    ]


async def test_an_invited_person_added_by_email_is_mailed_twice(api: Api) -> None:
    """10.8: adding by e-mail after POST people/invite means two invitation mails, and the
    e-mail entry is role-checked as a guest."""
    room = await api.room("Collab", 2)
    await api.post("/api/2.0/people/invite", {"invitations": [{"email": "p@x.com", "type": 4}]})
    reply = await api.share(room, {"email": "p@x.com", "access": 10})
    assert reply.status == 200
    assert [m["kind"] for m in await api.outbox(to="p@x.com")] == ["invitation", "room_invitation"]
    assert (await api.audit())["duplicates"]["mails"][0]["email"] == "p@x.com"
    person = (await api.get("/api/2.0/people/email", params={"email": "p@x.com"})).response
    assert person["isCollaborator"] is True  # an existing person keeps their type


async def test_disabled_people_by_id_are_skipped_silently(api: Api) -> None:
    room = await api.room("Collab", 2)
    gone = await api.person("gone@example.com", "User", status=2)
    reply = await api.share(room, {"id": gone, "access": 2}, notify=True)
    assert reply.status == 200 and reply.response["members"] == []
    assert "gone@example.com" not in await api.members(room)
    assert await api.outbox() == []


async def test_share_on_missing_room_is_404(api: Api) -> None:
    reply = await api.share(424242, {"email": "x@example.com", "access": 2})
    assert reply.status == 404


async def test_the_owner_entry_is_skipped(api: Api) -> None:
    room = await api.room("Collab", 2)
    reply = await api.share(room, {"id": api.sandbox.owner_id, "access": 2})
    assert reply.status == 200
    assert await api.members(room) == {api.sandbox.owner_email: 1}


async def test_get_share_lists_owner_then_members_with_paging(api: Api) -> None:
    room = await api.room("Collab", 2)
    ids = [await api.person(f"m{n}@example.com", "User") for n in range(3)]
    await api.share(room, *({"id": i, "access": 2} for i in ids))
    reply = await api.get(f"/api/2.0/files/rooms/{room}/share")
    owner = reply.response[0]
    assert owner["isOwner"] is True and owner["access"] == 1 and owner["subjectType"] == 0
    assert owner["sharedToUser"]["email"] == api.sandbox.owner_email
    assert owner["sharedToUser"]["isOwner"] is True
    assert reply.body["count"] == 4 and reply.body["total"] == 4
    page = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"count": 2, "startIndex": 1})
    assert [m["sharedToUser"]["id"] for m in page.response] == ids[:2]
    assert page.body["count"] == 2 and page.body["total"] == 4
    found = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"filterValue": "m2@"})
    assert [m["sharedToUser"]["id"] for m in found.response] == [ids[2]]
    assert (await api.get(f"/api/2.0/files/rooms/{room}/share", params={"count": 0})).status == 400
    assert (await api.get("/api/2.0/files/rooms/424242/share")).status == 404


async def test_members_who_do_not_manage_the_room_cannot_share(api: Api) -> None:
    room = await api.room("Collab", 2)
    user = await api.person("u@example.com", "User", password="secret-pass")
    await api.share(room, {"id": user, "access": 11})
    session = await api.login("u@example.com", "secret-pass")
    reply = await api.put(
        f"/api/2.0/files/rooms/{room}/share",
        {"invitations": [{"email": "x@example.com", "access": 2}]},
        token=session,
    )
    assert reply.status == 403 and reply.error["message"] == "Access denied"
    leave = await api.put(
        f"/api/2.0/files/rooms/{room}/share",
        {"invitations": [{"id": user, "access": 0}]},
        token=session,
    )
    assert leave.status == 200 and "u@example.com" not in await api.members(room)
