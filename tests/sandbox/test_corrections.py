"""docspace-api.md section 9: the examples' mistakes get the real server's answers, and the
corrected requests succeed."""

from __future__ import annotations

from .conftest import Api


async def test_client_room_onboarding_as_the_example_wrote_it(api: Api) -> None:
    """The example's flow: every call 'succeeds', yet nobody gets access and no link exists."""
    manager = await api.person("manager@example.com", "RoomAdmin")
    client = await api.person("contact@acme.example.com", "User")
    room = await api.room("Client - Acme Corporation", 2)
    for title in ("Invoices", "Contracts"):
        await api.folder(room, title)
    deliverables = await api.folder(room, "Deliverables")
    for name, title in (
        ("Welcome.pdf", "Welcome to your client room.pdf"),
        ("Guide.pdf", "How to use the client portal.pdf"),
    ):
        copied = await api.post(
            f"/api/2.0/files/file/{api.sandbox.template_ids[name]}/copyas",
            {"destFolderId": deliverables, "destTitle": title},
        )
        assert copied.status == 200  # (f) matches the real API
    access = await api.put(
        f"/api/2.0/files/rooms/{room}/share",
        {
            "entries": [
                {"id": manager, "isGroup": False, "access": 4},
                {"id": client, "isGroup": False, "access": 1},
            ]
        },
    )
    assert access.status == 200 and access.response == {"error": 0}  # (a)
    link = await api.put(f"/api/2.0/files/rooms/{room}/links", {})
    assert link.status == 200 and "response" not in link.body  # (e)
    assert await api.members(room) == {api.sandbox.owner_email: 1}
    assert (await api.get(f"/api/2.0/files/rooms/{room}/links")).response == []


async def test_client_room_onboarding_corrected(api: Api) -> None:
    manager = await api.person("manager@example.com", "RoomAdmin")
    client = await api.person("contact@acme.example.com", "User")
    room = await api.room("Client - Acme Corporation", 5)
    access = await api.share(
        room, {"id": manager, "access": 9}, {"id": client, "access": 2}, notify=False
    )
    assert access.status == 200  # (a) corrected
    assert await api.members(room) == {
        api.sandbox.owner_email: 1,
        "manager@example.com": 9,
        "contact@acme.example.com": 2,
    }
    public = await api.get(f"/api/2.0/files/rooms/{room}/link")  # (e) corrected
    assert public.status == 200 and "/s/" in public.response["sharedLink"]["shareLink"]
    extra = await api.put(
        f"/api/2.0/files/rooms/{room}/links",
        {"linkType": 1, "access": 2, "title": "Read-only link"},
    )
    assert extra.status == 200 and extra.response["sharedLink"]["title"] == "Read-only link"
    join = await api.put(
        f"/api/2.0/files/rooms/{room}/links", {"linkType": 0, "access": 10, "title": "Join"}
    )
    assert join.status == 200 and join.response["sharedLink"]["linkType"] == 0


async def test_example_access_numbers_would_be_refused_if_sent_correctly(api: Api) -> None:
    room = await api.room("Client - Acme", 2)
    manager = await api.person("manager@example.com", "RoomAdmin")
    refused = await api.share(room, {"id": manager, "access": 4})
    assert refused.status == 403


async def test_create_room_and_invite_user_example(api: Api) -> None:
    """(b) matches: 'Editing' parses to 10; the unknown address becomes a pending Guest."""
    room = await api.room("Project Collaboration", 2)
    reply = await api.invite(room, "example.user@mail.com")
    assert reply.status == 200
    assert (await api.members(room))["example.user@mail.com"] == 10
    assert [m["kind"] for m in await api.outbox()] == ["room_invitation"]
    # The example's default access 'ReadWrite' parses to 1, which is never a room role.
    default = await api.share(room, {"email": "other@mail.com", "access": "ReadWrite"})
    assert default.status == 403


async def test_invite_users_example_and_its_correction(api: Api) -> None:
    """(d) then (c): people created without type, then invited with type All."""
    created = []
    for first, last, email in (
        ("Alice", "Smith", "alice.smith@example.com"),
        ("Bob", "Johnson", "bob.johnson@example.com"),
    ):
        reply = await api.post(
            "/api/2.0/people", {"firstName": first, "lastName": last, "email": email}
        )
        assert reply.status == 200 and reply.response["isRoomAdmin"] is True
        created.append(reply.response)
    invite = await api.post(
        "/api/2.0/people/invite",
        {"invitations": [{"email": p["email"], "type": "All"} for p in created]},
    )
    # Nobody new is invited; the answer lists every activation-pending user the caller
    # can see, so also the two POST people users who never activated (10.5).
    assert invite.status == 200
    assert sorted(p["displayName"] for p in invite.response) == ["Alice Smith", "Bob Johnson"]
    kinds = [(m["to"], m["kind"]) for m in await api.outbox()]
    assert kinds == [
        ("alice.smith@example.com", "activation"),
        ("bob.johnson@example.com", "activation"),
    ]
    again = await api.post(
        "/api/2.0/people",
        {"firstName": "Alice", "lastName": "Smith", "email": "alice.smith@example.com"},
    )
    assert again.status == 400  # a rerun of (d)

    corrected = await api.post(
        "/api/2.0/people",
        {"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com", "type": 4},
    )
    assert corrected.response["isCollaborator"] is True
    invited = await api.post(
        "/api/2.0/people/invite",
        {"invitations": [{"email": "new@example.com", "type": 4}], "culture": "en-US"},
    )
    # Alice, Bob, Ann (POST people, not activated) and the new invitee (10.5).
    assert invited.status == 200 and len(invited.response) == 4
    person = await api.get("/api/2.0/people/email", params={"email": "new@example.com"})
    assert person.response["isCollaborator"] is True and person.response["status"] == 4
    assert (
        await api.post(
            "/api/2.0/people/invite", {"invitations": [{"email": "guest@example.com", "type": 2}]}
        )
    ).status == 403


async def test_copy_as_with_a_string_folder_id(api: Api) -> None:
    room = await api.room("Custom", 5)
    reply = await api.post(
        f"/api/2.0/files/file/{api.sandbox.template_ids['Welcome.pdf']}/copyas",
        {"destFolderId": str(room), "destTitle": "Welcome.pdf"},
    )
    assert reply.status == 403
