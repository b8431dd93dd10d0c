"""docspace-api.md section 10, item 1 of the sandbox-fidelity issue: behaviours the
sandbox had wrong, each asserted as the reference states it."""

from __future__ import annotations

import json

from .conftest import Api


async def _room_admin(api: Api, email: str = "ra@example.com") -> tuple[str, str]:
    """(id, session token) of a room admin who can log in."""
    user_id = await api.person(email, "RoomAdmin", password="Passw0rd!x")
    return user_id, await api.login(email, "Passw0rd!x")


async def test_subject_and_tag_filters_of_the_room_list(api: Api) -> None:
    """10.4: a room admin who is a member of the owner's room and owns one room."""
    admin, token = await _room_admin(api)
    owners = await api.room("Owner room")
    await api.share(owners, {"id": admin, "access": 10})
    mine = await api.post(
        "/api/2.0/files/rooms", {"title": "Admin room", "roomType": 5, "tags": ["vip"]}, token=token
    )
    mine_id = mine.response["id"]

    async def ids(**params: str) -> list[int]:
        reply = await api.get("/api/2.0/files/rooms", params=params, token=token)
        assert reply.status == 200, reply.text
        return [r["id"] for r in reply.response["folders"]]

    owner = api.sandbox.owner_id
    assert sorted(await ids()) == sorted([owners, mine_id])
    assert await ids(subjectOwnerId=admin) == [mine_id]
    assert await ids(subjectOwnerId=admin, excludeSubject="true") == [owners]
    assert await ids(subjectId=admin, subjectFilter="0") == [mine_id]
    assert await ids(subjectId=owner, subjectFilter="1") == [owners]
    assert await ids(subjectId=owner) == [owners]  # created by, or a share record
    assert await ids(subjectId=owner, subjectFilter="0", subjectOwnerId=admin) == [owners]
    assert await ids(tags=json.dumps(["VIP"])) == [mine_id]
    assert await ids(withoutTags="true", tags=json.dumps(["vip"])) == [owners]
    assert sorted(await ids(tags="[]")) == sorted([owners, mine_id])
    # Member: created by the subject or holding a direct share record.
    assert sorted(await ids(subjectId=admin, subjectFilter="1")) == sorted([owners, mine_id])


async def test_room_list_filters_fail_as_the_server_does(api: Api) -> None:
    """10.4: a non-GUID subject and a tags value that is not JSON are 500s."""
    for params in ({"subjectId": "nobody"}, {"subjectOwnerId": "x"}, {"tags": "vip"}):
        reply = await api.get("/api/2.0/files/rooms", params=params)
        assert reply.status == 500 and reply.body["status"] == 1, params
    reply = await api.get("/api/2.0/files/rooms", params={"withoutTags": "yes"})
    assert reply.status == 400


async def test_link_records_cannot_have_their_access_edited(api: Api) -> None:
    """FileSharing.ToAceAsync sets CanEditAccess = false for every link."""
    room = await api.room("Custom", 5)
    primary = await api.get(f"/api/2.0/files/rooms/{room}/link")
    assert primary.response["canEditAccess"] is False
    await api.put(f"/api/2.0/files/rooms/{room}/links", {"linkType": 0, "access": 2})
    links = await api.get(f"/api/2.0/files/rooms/{room}/links")
    assert [k["canEditAccess"] for k in links.response] == [False, False]
    shares = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"filterType": 15})
    assert shares.body["total"] == 2
    assert {k["canEditAccess"] for k in shares.response} == {False}


async def test_owner_may_edit_internal_on_custom_room_links_not_public(api: Api) -> None:
    """FileSecurity: EditInternal is refused in Public and VDR rooms, granted to who
    manages a Custom room."""
    custom = await api.room("Custom", 5)
    public = await api.room("Public", 6)
    assert (await api.get(f"/api/2.0/files/rooms/{custom}/link")).response[
        "canEditInternal"
    ] is True
    assert (await api.get(f"/api/2.0/files/rooms/{public}/link")).response[
        "canEditInternal"
    ] is False


async def test_request_token_reads_the_room_anonymously(api: Api) -> None:
    """ExternalShare: a request with a link's Request-Token and no credentials reads the
    room's folder as the link's anonymous visitor."""
    room = await api.room("Shared", 5)
    await api.folder(room, "Docs")
    link = (await api.get(f"/api/2.0/files/rooms/{room}/link")).response
    token = link["sharedLink"]["requestToken"]
    reply = await api.get(f"/api/2.0/files/{room}", token=None, headers={"Request-Token": token})
    assert reply.status == 200
    assert reply.response["current"]["id"] == room
    assert reply.response["current"]["access"] == 2
    assert [f["title"] for f in reply.response["folders"]] == ["Docs"]
    assert (await api.get(f"/api/2.0/files/{room}", token=None)).status == 401
    other = await api.room("Other", 5)
    denied = await api.get(f"/api/2.0/files/{other}", token=None, headers={"Request-Token": token})
    assert denied.status == 403
    unknown = await api.get(f"/api/2.0/files/{room}", token=None, headers={"Request-Token": "x"})
    assert unknown.status == 401
    # Only reading: every other route still needs credentials.
    people = await api.get("/api/2.0/people/@self", token=None, headers={"Request-Token": token})
    assert people.status == 401


async def test_room_admin_cannot_add_a_guest_they_cannot_see(api: Api) -> None:
    """10.7 (bug 79361, RoomInvite_GuestWhoDoesNotBelongToMe_ReturnEmpty)."""
    _, token = await _room_admin(api)
    other, other_token = await _room_admin(api, "ra2@example.com")
    room = (
        await api.post("/api/2.0/files/rooms", {"title": "R", "roomType": 2}, token=token)
    ).response["id"]
    other_room = (
        await api.post("/api/2.0/files/rooms", {"title": "O", "roomType": 2}, token=other_token)
    ).response["id"]
    # The other admin creates a guest (a relation of theirs only).
    created = await api.put(
        f"/api/2.0/files/rooms/{other_room}/share",
        {"invitations": [{"email": "guest@example.com", "access": 2}]},
        token=other_token,
    )
    assert created.status == 200
    guest = (await api.get("/api/2.0/people/email", params={"email": "guest@example.com"})).response
    reply = await api.put(
        f"/api/2.0/files/rooms/{room}/share",
        {"invitations": [{"id": guest["id"], "access": 2}]},
        token=token,
    )
    assert reply.status == 200 and reply.response.get("members", []) == []
    assert "warning" not in reply.response
    listed = await api.get(f"/api/2.0/files/rooms/{room}/share", token=token)
    assert "guest@example.com" not in [m["sharedToUser"]["email"] for m in listed.response]
    # By e-mail the same guest can be added, and becomes related to the caller.
    by_email = await api.put(
        f"/api/2.0/files/rooms/{room}/share",
        {"invitations": [{"email": "guest@example.com", "access": 2}]},
        token=token,
    )
    assert by_email.status == 200
    assert (await api.members(room))["guest@example.com"] == 2
    assert other


async def test_share_mails_follow_the_table_row_by_row(api: Api) -> None:
    """10.8."""
    room = await api.room("Collab", 2)
    pending = await api.person("pending@example.com", "User", status="Pending")
    active = await api.person("active@example.com", "User")
    # id, pending, notify false → no mail
    await api.share(room, {"id": pending, "access": 2}, notify=False)
    assert await api.outbox(to="pending@example.com") == []
    # id, notify true, new record → "you were invited" without a join link
    await api.share(room, {"id": active, "access": 2}, notify=True)
    assert [m["kind"] for m in await api.outbox(to="active@example.com")] == ["room_notification"]
    # unchanged → skipped, no mail even with notify
    await api.share(room, {"id": active, "access": 2}, notify=True)
    # changed access → no mail
    await api.share(room, {"id": active, "access": 10}, notify=True)
    assert len(await api.outbox(to="active@example.com")) == 1
    # e-mail, existing pending → the join link whatever notify says
    await api.share(room, {"email": "pending@example.com", "access": 10}, notify=False)
    assert [m["kind"] for m in await api.outbox(to="pending@example.com")] == ["room_invitation"]
    # e-mail, new address → a pending Guest and the join link
    await api.share(room, {"email": "new@example.com", "access": 2}, notify=False)
    assert [m["kind"] for m in await api.outbox(to="new@example.com")] == ["room_invitation"]
    new = (await api.get("/api/2.0/people/email", params={"email": "new@example.com"})).response
    assert new["isVisitor"] is True and new["status"] == 4
    # e-mail, existing activated → none without notify
    other = await api.room("Other", 2)
    await api.share(other, {"email": "active@example.com", "access": 2}, notify=False)
    assert len(await api.outbox(to="active@example.com")) == 1


async def test_titles_are_cleaned_on_create(api: Api) -> None:
    """10.1, Global.ReplaceInvalidCharsAndTruncate on every folder save."""
    reply = await api.post(
        "/api/2.0/files/rooms", {"title": ' Import/Export: "a"*b+c<d>e?f|g\\h\ti ', "roomType": 5}
    )
    assert reply.status == 200
    assert reply.response["title"] == "Import_Export_ _a__b_c_d_e_f_g_h_i"
    folder = await api.post(f"/api/2.0/files/folder/{reply.response['id']}", {"title": "a/b"})
    assert folder.response["title"] == "a_b"
    long = await api.post("/api/2.0/files/rooms", {"title": "x" * 170, "roomType": 5})
    assert long.status == 200
    emoji = await api.post("/api/2.0/files/rooms", {"title": "\U0001f600" * 86, "roomType": 5})
    assert emoji.status == 400  # 172 UTF-16 units


def test_the_sandbox_imports_nothing_else_of_the_package() -> None:
    import ast
    from pathlib import Path

    import bulk_onboard.sandbox

    root = Path(bulk_onboard.sandbox.__file__).parent
    outside = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            outside += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith("bulk_onboard") and not n.startswith("bulk_onboard.sandbox")
            ]
    assert outside == []
