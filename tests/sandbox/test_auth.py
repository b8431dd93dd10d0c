"""API keys, session tokens (cookie, raw header, Bearer), Basic auth and caller rights."""

from __future__ import annotations

import base64

from .conftest import Api


async def test_login_gives_a_session_token_usable_three_ways(api: Api) -> None:
    reply = await api.post(
        "/api/2.0/authentication",
        {"userName": api.sandbox.owner_email, "password": api.sandbox.owner_password},
        token=None,
    )
    assert reply.status == 200
    login = reply.response
    assert set(login) == {"token", "expires", "sms", "tfa"} and login["sms"] is False
    token = login["token"]
    assert not token.startswith("sk-")
    for header in (token, f"Bearer {token}"):
        me = await api.get("/api/2.0/people/@self", token=header)
        assert me.status == 200 and me.response["isOwner"] is True
    cookie = await api.get(
        "/api/2.0/people/@self", token=None, headers={"Cookie": f"asc_auth_key={token}"}
    )
    assert cookie.status == 200


async def test_the_cookie_wins_over_the_header(api: Api) -> None:
    token = await api.login(api.sandbox.owner_email, api.sandbox.owner_password)
    reply = await api.get(
        "/api/2.0/people/@self", token="not-a-token", headers={"Cookie": f"asc_auth_key={token}"}
    )
    assert reply.status == 200


async def test_failed_login_is_a_json_401(api: Api) -> None:
    for body in (
        {"userName": api.sandbox.owner_email, "password": "wrong"},
        {"userName": "nobody@example.com", "password": "x"},
    ):
        reply = await api.post("/api/2.0/authentication", body, token=None)
        assert reply.status == 401
        assert reply.body == {
            "error": {
                "message": "User authentication failed",
                "type": None,
                "stack": None,
                "hresult": 0,
            },
            "status": 1,
            "statusCode": 401,
        }
    missing = await api.post("/api/2.0/authentication", {"password": "x"}, token=None)
    assert missing.status == 400


async def test_basic_auth(api: Api) -> None:
    pair = f"{api.sandbox.owner_email}:{api.sandbox.owner_password}".encode()
    reply = await api.get("/api/2.0/people/@self", token="Basic " + base64.b64encode(pair).decode())
    assert reply.status == 200 and reply.response["isOwner"] is True


async def test_pending_and_terminated_people_cannot_log_in(api: Api) -> None:
    await api.person("gone@example.com", "User", status="Terminated", password="pw-123456")
    gone = await api.post(
        "/api/2.0/authentication",
        {"userName": "gone@example.com", "password": "pw-123456"},
        token=None,
    )
    assert gone.status == 403
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "p@example.com", "type": 4}]}
    )
    pending = await api.post(
        "/api/2.0/authentication", {"userName": "p@example.com", "password": ""}, token=None
    )
    assert pending.status == 401


async def test_a_user_acts_within_their_rights(api: Api) -> None:
    visible = await api.room("Shared with the user", 2)
    await api.room("Not shared", 2)
    user = await api.person("u@example.com", "User", password="pw-123456")
    await api.share(visible, {"id": user, "access": 2})
    token = await api.login("u@example.com", "pw-123456")
    rooms = (await api.get("/api/2.0/files/rooms", token=token)).response
    assert [r["id"] for r in rooms["folders"]] == [visible] and rooms["total"] == 1
    assert (
        await api.post("/api/2.0/files/rooms", {"title": "Mine", "roomType": 2}, token=token)
    ).status == 403
    assert (
        await api.post(
            "/api/2.0/people",
            {"firstName": "A", "lastName": "B", "email": "ab@example.com", "type": 4},
            token=token,
        )
    ).status == 403
    assert (
        await api.post(f"/api/2.0/files/folder/{visible}", {"title": "Docs"}, token=token)
    ).status == 403  # Read cannot create
    hidden = (await api.state())["rooms"][-1]["id"]
    assert (await api.get(f"/api/2.0/files/rooms/{hidden}", token=token)).status == 403


async def test_a_room_admin_may_create_rooms_and_users_but_not_admins(api: Api) -> None:
    await api.person("ra@example.com", "RoomAdmin", password="pw-123456")
    token = await api.login("ra@example.com", "pw-123456")
    room = await api.post("/api/2.0/files/rooms", {"title": "Mine", "roomType": 5}, token=token)
    assert room.status == 200
    members = (
        await api.get(f"/api/2.0/files/rooms/{room.response['id']}/share", token=token)
    ).response
    assert members[0]["sharedToUser"]["email"] == "ra@example.com"
    user = {"firstName": "A", "lastName": "B", "email": "ab@example.com", "type": 4}
    assert (await api.post("/api/2.0/people", user, token=token)).status == 200
    admin = {**user, "email": "cd@example.com", "type": 1}
    assert (await api.post("/api/2.0/people", admin, token=token)).status == 403
    invite = {"invitations": [{"email": "ef@example.com", "type": 3}]}
    assert (await api.post("/api/2.0/people/invite", invite, token=token)).status == 403
