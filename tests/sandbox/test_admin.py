"""The sandbox-only endpoints: outbox filters, audit counts, request counters, state."""

from __future__ import annotations

from .conftest import Api


async def test_outbox_filters_and_fields(api: Api) -> None:
    room = await api.room("Collab", 2)
    await api.share(room, {"email": "g@example.com", "access": 2}, culture="de-DE")
    await api.post(
        "/api/2.0/people/invite", {"invitations": [{"email": "i@example.com", "type": 4}]}
    )
    mails = await api.outbox()
    assert [m["kind"] for m in mails] == ["room_invitation", "invitation"]
    first = mails[0]
    assert first["to"] == "g@example.com" and first["roomId"] == room
    assert first["culture"] == "de-DE" and first["link"].startswith(api.base + "/s/")
    assert first["time"].endswith("Z") and first["userId"]
    assert [m["to"] for m in await api.outbox(to="I@EXAMPLE.COM")] == ["i@example.com"]
    assert [m["to"] for m in await api.outbox(kind="room_invitation")] == ["g@example.com"]


async def test_audit_counts_and_mail_duplicates(api: Api) -> None:
    one, two = await api.room("One", 2), await api.room("Two", 2)
    for room in (one, two):
        await api.share(room, {"email": "g@example.com", "access": 2})
    audit = await api.audit()
    assert audit["counts"] == {
        "rooms": 3,
        "folders": 0,
        "files": 2,
        "people": 2,
        "pendingPeople": 1,
        "shares": 2,
        "links": 0,
        "groups": 0,
        "mails": 2,
        "mailsByKind": {"room_invitation": 2},
    }
    assert audit["duplicates"]["shares"] == []  # one invitation per room
    assert audit["duplicates"]["mails"] == [
        {"email": "g@example.com", "count": 2, "kinds": {"room_invitation": 2}}
    ]
    assert audit["clean"] is False
    assert audit["seed"]["templateIds"] == api.sandbox.template_ids


async def test_duplicate_additional_links_are_reported(api: Api) -> None:
    room = await api.room("Custom", 5)
    for _ in range(2):
        await api.put(
            f"/api/2.0/files/rooms/{room}/links",
            {"linkType": 1, "access": 2, "title": "Read-only link"},
        )
    links = (await api.audit())["duplicates"]["links"]
    assert len(links) == 1 and links[0]["title"] == "Read-only link"
    assert len(links[0]["ids"]) == 2


async def test_request_counters_can_be_cleared(api: Api) -> None:
    await api.get("/api/2.0/people/@self")
    await api.get("/api/2.0/people/@self", token=None)
    counts = (await api.get("/sandbox/requests", token=None)).body
    assert counts["total"] == 2 and counts["unauthenticated"] == 1
    assert counts["byStatus"] == {"200": 1, "401": 1}
    cleared = (await api.call("DELETE", "/sandbox/requests", token=None)).body
    assert cleared["total"] == 0 and cleared["byRoute"] == {}


async def test_state_lists_everything_for_an_audit(api: Api) -> None:
    room = await api.room("Custom", 5)
    folder = await api.folder(room, "Docs")
    user = await api.person("u@example.com", "User")
    await api.share(room, {"id": user, "access": 2})
    await api.get(f"/api/2.0/files/rooms/{room}/link")
    state = await api.state()
    assert state["owner"] == {"id": api.sandbox.owner_id, "email": api.sandbox.owner_email}
    assert state["rooms"][-1] == {
        "id": room,
        "title": "Custom",
        "roomType": 5,
        "tags": [],
        "createdBy": api.sandbox.owner_id,
        "archived": False,
    }
    assert state["folders"] == [{"id": folder, "parentId": room, "roomId": room, "title": "Docs"}]
    assert state["shares"] == [
        {"roomId": room, "userId": user, "access": 2, "email": "u@example.com"}
    ]
    assert [k["primary"] for k in state["links"]] == [True]


async def test_unknown_share_codes_are_404(api: Api) -> None:
    reply = await api.get("/s/unknown-code", token=None)
    assert reply.status == 404
