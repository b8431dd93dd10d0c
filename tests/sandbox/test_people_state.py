"""People state (docspace-api.md 10.5), member removal (10.6) and the sensitive_api policy."""

from __future__ import annotations

import aiohttp

from bulk_onboard.sandbox import SandboxConfig, start_sandbox
from tests.helpers import FakeClock

from .conftest import Api


async def _login_as(api: Api, email: str, kind: str) -> tuple[str, str]:
    user_id = await api.person(email, kind, password="Passw0rd!x")
    return user_id, await api.login(email, "Passw0rd!x")


async def test_type_change_raises_and_mails(api: Api) -> None:
    guest = await api.person("g@example.com", "Guest")
    user = await api.person("u@example.com", "User")
    reply = await api.put("/api/2.0/people/type/4", {"userIds": [guest]})
    assert reply.status == 200 and reply.response[0]["isCollaborator"] is True
    assert [m["kind"] for m in await api.outbox(to="g@example.com")] == ["type_changed"]
    by_name = await api.put("/api/2.0/people/type/RoomAdmin", {"userIds": [user]})
    assert by_name.status == 200 and by_name.response[0]["isRoomAdmin"] is True
    assert [m["kind"] for m in await api.outbox(to="u@example.com")] == ["type_changed"]


async def test_type_change_refusals(api: Api) -> None:
    user = await api.person("u@example.com", "User")
    admin = await api.person("a@example.com", "RoomAdmin")
    same = await api.put("/api/2.0/people/type/4", {"userIds": [user]})
    assert same.status == 403  # "no change"
    down = await api.put("/api/2.0/people/type/2", {"userIds": [user]})
    assert down.status == 403  # downgrades are POST people/type
    owner = await api.put("/api/2.0/people/type/1", {"userIds": [api.sandbox.owner_id]})
    assert owner.status == 403
    missing = await api.put("/api/2.0/people/type/1", {})
    assert missing.status == 400
    assert missing.error["message"] == "Value cannot be null. (Parameter 'source')"
    # user by user: the earlier ones stay changed
    guest = await api.person("g@example.com", "Guest")
    partial = await api.put("/api/2.0/people/type/4", {"userIds": [guest, admin]})
    assert partial.status == 403
    people = {p["email"]: p["type"] for p in (await api.state())["people"]}
    assert people["g@example.com"] == 4 and people["a@example.com"] == 1


async def test_room_admin_may_only_raise_related_guests_to_user(api: Api) -> None:
    _, token = await _login_as(api, "ra@example.com", "RoomAdmin")
    guest = await api.person("g@example.com", "Guest")  # created by the owner
    reply = await api.put("/api/2.0/people/type/4", {"userIds": [guest]}, token=token)
    assert reply.status == 403  # a guest the room admin cannot see
    user = await api.person("u@example.com", "User")
    assert (await api.put("/api/2.0/people/type/1", {"userIds": [user]}, token=token)).status == 403


async def test_disable_enable_and_delete(api: Api) -> None:
    user, token = await _login_as(api, "u@example.com", "User")
    room = await api.room("Acme")
    await api.share(room, {"id": user, "access": 2})
    active = await api.delete_user(user)
    assert active.status == 403 and active.error["message"] == "The user is not suspended"
    off = await api.put("/api/2.0/people/status/2", {"userIds": [user]})
    assert off.status == 200 and off.response[0]["status"] == 2
    assert (await api.get("/api/2.0/people/@self", token=token)).status == 401  # sessions closed
    on = await api.put("/api/2.0/people/status/Active", {"userIds": [user]})
    assert on.status == 200 and on.response[0]["status"] == 1
    await api.put("/api/2.0/people/status/2", {"userIds": [user]})
    gone = await api.delete_user(user)
    assert gone.status == 200 and gone.response["id"] == user
    assert (await api.get("/api/2.0/people/email", params={"email": "u@example.com"})).status == 404
    assert "u@example.com" not in await api.members(room)
    assert (await api.delete_user(user)).status == 404
    assert await api.outbox() == []  # none of it mails


async def test_status_refusals_change_nothing(api: Api) -> None:
    user = await api.person("u@example.com", "User")
    bad = await api.put("/api/2.0/people/status/4", {"userIds": [user]})
    assert bad.status == 400 and bad.error["message"] == "Incorrect status"
    mixed = await api.put("/api/2.0/people/status/2", {"userIds": [user, api.sandbox.owner_id]})
    assert mixed.status == 403
    assert {p["email"]: p["status"] for p in (await api.state())["people"]}["u@example.com"] == 1


async def test_resend_invitation_mails_pending_people_only(api: Api) -> None:
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "n@example.com", "type": 4}]}
    )
    invited = (await api.get("/api/2.0/people/email", params={"email": "n@example.com"})).response
    active = await api.person("a@example.com", "User")
    reply = await api.put("/api/2.0/people/invite", {"userIds": [invited["id"], active]})
    assert reply.status == 200 and len(reply.response) == 2
    assert [m["kind"] for m in await api.outbox(to="n@example.com")] == ["invitation"] * 2
    assert await api.outbox(to="a@example.com") == []


async def test_resend_falls_under_sensitive_api() -> None:
    clock = FakeClock()
    config = SandboxConfig(rate_limit=True, clock=clock)
    async with start_sandbox(config) as sb, aiohttp.ClientSession() as session:
        api = Api(session, sb)
        body = {"userIds": [sb.owner_id]}
        for _ in range(5):
            assert (await api.put("/api/2.0/people/invite", body)).status == 200
        refused = await api.put("/api/2.0/people/invite", body)
        assert refused.status == 429 and refused.text == ""
        # a sliding window (section 7): its limit and nothing left, no Retry-After
        assert "Retry-After" not in refused.headers
        assert refused.headers["X-RateLimit-Limit"] == "5"
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        clock.advance(899)
        assert (await api.put("/api/2.0/people/invite", body)).status == 429
        clock.advance(2)
        assert (await api.put("/api/2.0/people/invite", body)).status == 200


async def test_remove_a_member_with_access_0(api: Api) -> None:
    """10.6: the record is deleted, no mail; a non-member with notify gets the room mail."""
    room = await api.room("Acme")
    user = await api.person("u@example.com", "User")
    await api.share(room, {"id": user, "access": 2})
    removed = await api.share(room, {"id": user, "access": 0}, notify=True)
    assert removed.status == 200 and removed.response.get("members", []) == []
    assert "u@example.com" not in await api.members(room)
    assert await api.outbox() == []
    stranger = await api.person("s@example.com", "User")
    await api.share(room, {"id": stranger, "access": 0}, notify=True)
    assert [m["kind"] for m in await api.outbox(to="s@example.com")] == ["room_notification"]
    await api.share(room, {"id": user, "access": 2})
    by_email = await api.share(room, {"email": "u@example.com", "access": 0})
    assert by_email.status == 200
    assert (await api.members(room))["u@example.com"] == 2  # e-mail entries remove nothing
