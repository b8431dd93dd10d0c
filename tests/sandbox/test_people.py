"""POST people, POST people/invite, GET people/email|exists|filter|@self, POST /sandbox/people."""

from __future__ import annotations

import pytest

from .conftest import Api


async def test_add_member_without_type_is_a_room_admin(api: Api) -> None:
    """Section 9d: type defaults to All (0): no group, reported as RoomAdmin."""
    reply = await api.post(
        "/api/2.0/people",
        {"firstName": "Alice", "lastName": "Smith", "email": "alice.smith@example.com"},
    )
    assert reply.status == 200
    person = reply.response
    assert person["isRoomAdmin"] is True and person["isCollaborator"] is False
    assert person["status"] == 1 and person["activationStatus"] == 2
    assert person["email"] == "alice.smith@example.com" and person["displayName"] == "Alice Smith"
    mails = await api.outbox()
    assert [(m["to"], m["kind"]) for m in mails] == [("alice.smith@example.com", "activation")]


async def test_add_member_with_type_user(api: Api) -> None:
    reply = await api.add_member("Ann", "Lee", "ann@example.com", password="Passw0rd!x")
    person = reply.response
    assert person["isCollaborator"] is True and person["isRoomAdmin"] is False
    assert person["isVisitor"] is False and person["isAdmin"] is False
    assert await api.login("ann@example.com", "Passw0rd!x")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"firstName": "G", "lastName": "H", "email": "g@example.com", "type": 2},
            403,
            "Access denied",
        ),
        (
            {"firstName": "G", "lastName": "H", "email": "g@example.com", "type": "Guest"},
            403,
            "Access denied",
        ),
        (
            {"firstName": "R2D2", "lastName": "Droid", "email": "r@example.com", "type": 4},
            400,
            "Incorrect firstname or lastname",
        ),
        (
            {"firstName": "Ann", "email": "a@example.com", "type": 4},
            400,
            "Incorrect firstname or lastname",
        ),
        (
            {"firstName": "Ann", "lastName": "Lee", "email": "not-an-email", "type": 4},
            400,
            "Incorrect email",
        ),
        ({"firstName": "Ann", "lastName": "Lee", "type": 4}, 400, "Incorrect email"),
    ],
)
async def test_add_member_errors(
    api: Api, body: dict[str, object], status: int, message: str
) -> None:
    reply = await api.post("/api/2.0/people", body)
    assert reply.status == status and reply.error["message"] == message
    assert len((await api.state())["people"]) == 1 and await api.outbox() == []


async def test_names_may_hold_letters_marks_apostrophes_spaces_hyphens(api: Api) -> None:
    reply = await api.add_member("Zoë Anne", "O'Brien-Núñez", "zoe@example.com")
    assert reply.status == 200


async def test_an_existing_email_is_refused(api: Api) -> None:
    body = {"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com", "type": 4}
    assert (await api.post("/api/2.0/people", body)).status == 200
    again = await api.post("/api/2.0/people", {**body, "email": "ANN@example.com"})
    assert again.status == 400
    assert again.error["message"] == "User with this email is already registered"
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "p@example.com", "type": 4}]}
    )
    pending = await api.post("/api/2.0/people", {**body, "email": "p@example.com"})
    assert pending.status == 400


async def test_invite_creates_pending_people_and_mails_them(api: Api) -> None:
    reply = await api.post(
        "/api/2.0/people/invite",
        {
            "invitations": [
                {"email": "alice@example.com", "type": 4},
                {"email": "bob@example.com", "type": "User"},
            ],
            "culture": "en-US",
        },
    )
    assert reply.status == 200
    listed = reply.response
    assert len(listed) == 2 and all("email" not in p for p in listed)
    assert {p["displayName"] for p in listed} == {"alice@example.com", "bob@example.com"}
    alice = (await api.get("/api/2.0/people/email", params={"email": "alice@example.com"})).response
    assert alice["status"] == 4 and alice["activationStatus"] == 2
    assert alice["isCollaborator"] is True
    assert [(m["to"], m["kind"]) for m in await api.outbox()] == [
        ("alice@example.com", "invitation"),
        ("bob@example.com", "invitation"),
    ]


async def test_invite_answers_with_all_pending_people(api: Api) -> None:
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "a@example.com", "type": 4}]}
    )
    reply = await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "b@example.com", "type": 4}]}
    )
    assert len(reply.response) == 2 and reply.body["count"] == 2


async def test_inviting_an_existing_address_is_skipped_without_mail(api: Api) -> None:
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "a@example.com", "type": 4}]}
    )
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "A@example.com", "type": 4}]}
    )
    assert len(await api.outbox(to="a@example.com")) == 1
    assert (await api.audit())["counts"]["people"] == 2


async def test_invite_with_type_all_takes_a_room_admin_seat(api: Api) -> None:
    """Section 9c: "All" is accepted and the invitee counts as RoomAdmin."""
    reply = await api.post(
        "/api/2.0/people/invite",
        {"invitations": [{"email": "alice.smith@example.com", "type": "All"}]},
    )
    assert reply.status == 200
    person = (
        await api.get("/api/2.0/people/email", params={"email": "alice.smith@example.com"})
    ).response
    assert person["isRoomAdmin"] is True


async def test_invite_may_raise_an_existing_type(api: Api) -> None:
    await api.person("u@example.com", "User")
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "u@example.com", "type": 1}]}
    )
    person = (await api.get("/api/2.0/people/email", params={"email": "u@example.com"})).response
    assert person["isRoomAdmin"] is True
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "u@example.com", "type": 4}]}
    )
    assert (await api.get("/api/2.0/people/email", params={"email": "u@example.com"})).response[
        "isRoomAdmin"
    ] is True
    assert await api.outbox() == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"invitations": [{"email": "g@example.com", "type": 2}]}, 403),
        (
            {"invitations": [{"email": "bad", "type": 4}, {"email": "ok@example.com", "type": 4}]},
            400,
        ),
        ({"invitations": [{"email": "g@example.com", "type": "Visitor"}]}, 400),
        ({"emails": ["x@example.com"]}, 400),
    ],
)
async def test_invite_errors_change_nothing(api: Api, body: dict[str, object], status: int) -> None:
    reply = await api.post("/api/2.0/people/invite", body)
    assert reply.status == status
    assert len((await api.state())["people"]) == 1 and await api.outbox() == []


async def test_invite_entries_run_in_order_and_an_error_keeps_the_earlier_ones(
    api: Api,
) -> None:
    """docspace-api.md 10.5 (UserController.InviteUsers): an error stops the batch with the
    earlier entries done and mailed."""
    body = {"invitations": [{"email": "ok@example.com", "type": 4}, {"email": "bad", "type": 4}]}
    reply = await api.post("/api/2.0/people/invite", body)
    assert reply.status == 400 and reply.error["message"] == "Incorrect email"
    assert [m["to"] for m in await api.outbox()] == ["ok@example.com"]
    assert [p["email"] for p in (await api.state())["people"]][1:] == ["ok@example.com"]


async def test_inviting_a_terminated_user_is_refused(api: Api) -> None:
    await api.person("gone@example.com", "User", status="Terminated")
    reply = await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "gone@example.com", "type": 4}]}
    )
    assert reply.status == 400 and reply.error["message"] == "User disabled: gone@example.com"


async def test_get_by_email(api: Api) -> None:
    await api.person("Mixed.Case@Example.com", "User")
    found = await api.get("/api/2.0/people/email", params={"email": "mixed.case@example.com"})
    assert found.status == 200 and found.response["email"] == "Mixed.Case@Example.com"
    missing = await api.get("/api/2.0/people/email", params={"email": "nobody@example.com"})
    assert missing.status == 404 and missing.error["message"] == "The user could not be found"
    empty = await api.get("/api/2.0/people/email", params={"email": ""})
    assert empty.status == 400


async def test_exists(api: Api) -> None:
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "p@example.com", "type": 4}]}
    )
    yes = await api.get("/api/2.0/people/exists", params={"email": "P@example.com"})
    assert yes.response == {"exists": True, "status": 4}
    no = await api.get("/api/2.0/people/exists", params={"email": "n@example.com"})
    assert no.response == {"exists": False}


async def test_filter(api: Api) -> None:
    await api.people(
        {
            "email": "alice.smith@example.com",
            "firstName": "Alice",
            "lastName": "Smith",
            "type": "User",
        },
        {"email": "bob@example.com", "firstName": "Bob", "lastName": "Smith", "type": "RoomAdmin"},
        {
            "email": "carol@acme.example.com",
            "firstName": "Carol",
            "lastName": "Jones",
            "type": "Guest",
            "status": "Pending",
        },
    )

    async def emails(**params: object) -> list[str]:
        reply = await api.get("/api/2.0/people/filter", params=params)
        assert reply.status == 200, reply.text
        assert reply.body["count"] == len(reply.response)
        return [p["email"] for p in reply.response]

    assert await emails(filterValue="smith") == ["alice.smith@example.com", "bob@example.com"]
    assert await emails(filterValue="SMITH ali") == ["alice.smith@example.com"]
    assert await emails(filterValue="acme") == ["carol@acme.example.com"]
    assert await emails(filterValue="nobody") == []
    assert await emails(employeeType=1) == ["bob@example.com"]
    assert await emails(employeeType="Guest") == ["carol@acme.example.com"]
    assert await emails(employeeStatus=4) == ["carol@acme.example.com"]
    assert await emails(activationStatus=2) == ["carol@acme.example.com"]
    page = await api.get("/api/2.0/people/filter", params={"count": 1, "startIndex": 1})
    assert page.body["count"] == 1 and page.body["total"] == 4
    for bad in ({"count": 0}, {"count": 101}, {"employeeType": "Boss"}):
        assert (await api.get("/api/2.0/people/filter", params=bad)).status == 400


async def test_self_is_the_owner(api: Api) -> None:
    me = (await api.get("/api/2.0/people/@self")).response
    assert me["isOwner"] is True and me["isAdmin"] is False
    assert me["email"] == api.sandbox.owner_email and me["id"] == api.sandbox.owner_id


async def test_sandbox_people_endpoint(api: Api) -> None:
    added = await api.people(
        {"email": "a@example.com", "firstName": "Ann", "type": "RoomAdmin"},
        {"email": "g@example.com", "type": 2, "status": "Pending"},
    )
    assert added[0]["isRoomAdmin"] is True and added[0]["activationStatus"] == 1
    assert added[1]["isVisitor"] is True and added[1]["status"] == 4
    assert await api.outbox() == []
    taken = await api.post("/sandbox/people", [{"email": "A@example.com"}], token=None)
    assert taken.status == 409
    bad = await api.post("/sandbox/people", [{"email": "nope"}], token=None)
    assert bad.status == 400 and "invalid email" in bad.body["error"]


async def test_people_active_makes_a_named_guest_without_mail_that_a_share_by_email_invites(
    api: Api,
) -> None:
    """POST people/active (UserController.AddMemberAsActivated): Guest allowed to a room
    admin, Active with activation Pending, no mail; the share by e-mail then mails the room
    invitation (10.8: an activation-pending person)."""
    await api.person("ra@example.com", "RoomAdmin", password="pw-123456")
    token = await api.login("ra@example.com", "pw-123456")
    guest = {"firstName": "Ana", "lastName": "Núñez", "email": "ana@example.com", "type": 2}
    reply = await api.post("/api/2.0/people/active", guest, token=token)
    assert reply.status == 200, reply.text
    person = reply.response
    assert person["isVisitor"] is True and person["displayName"] == "Ana Núñez"
    assert person["status"] == 1 and person["activationStatus"] == 2
    assert await api.outbox() == []
    again = await api.post("/api/2.0/people/active", guest, token=token)
    assert again.status == 400  # the address is taken
    user = await api.person("u@example.com", "User", password="pw-123456")
    assert user
    as_user = await api.login("u@example.com", "pw-123456")
    other = {**guest, "email": "bo@example.com"}
    assert (await api.post("/api/2.0/people/active", other, token=as_user)).status == 403
    room = await api.post("/api/2.0/files/rooms", {"title": "R", "roomType": 2}, token=token)
    shared = await api.share(room.response["id"], {"email": "ana@example.com", "access": 2})
    assert shared.status == 200, shared.text
    mails = [(m["to"], m["kind"]) for m in await api.outbox()]
    assert mails == [("ana@example.com", "room_invitation")]
