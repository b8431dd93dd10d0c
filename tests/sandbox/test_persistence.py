"""A file database keeps the portal across restarts; /sandbox/reset goes back to the seed."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bulk_onboard.sandbox import SandboxConfig, start_sandbox

from .conftest import Api


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "portal.db")
    async with start_sandbox(SandboxConfig(db=db)) as first:
        token, templates = first.token, first.template_ids
        async with aiohttp.ClientSession() as session:
            api = Api(session, first)
            room = await api.room("Client - Acme", 5)
            await api.folder(room, "Invoices")
            await api.share(room, {"email": "guest@example.com", "access": 2})
            await api.get(f"/api/2.0/files/rooms/{room}/link")
            session_token = await api.login(first.owner_email, first.owner_password)
            before = await api.state()
    async with start_sandbox(SandboxConfig(db=db)) as second:
        assert second.token == token and second.template_ids == templates
        assert second.url != "" and second.owner_email == first.owner_email
        async with aiohttp.ClientSession() as session:
            api = Api(session, second)
            assert (await api.get("/api/2.0/people/@self")).status == 200
            assert (await api.get("/api/2.0/people/@self", token=session_token)).status == 200
            after = await api.state()
            for key in ("rooms", "folders", "files", "people", "shares"):
                assert after[key] == before[key], key
            assert [k["id"] for k in after["links"]] == [k["id"] for k in before["links"]]
            assert [m["to"] for m in await api.outbox()] == ["guest@example.com"]
            assert await api.room("Next", 2) > room


async def test_a_given_token_replaces_the_stored_one(tmp_path: Path) -> None:
    db = str(tmp_path / "portal.db")
    async with start_sandbox(SandboxConfig(db=db)) as first:
        old = first.token
    new = "sk-" + "ab" * 20
    async with start_sandbox(SandboxConfig(db=db, token=new)) as second:
        assert second.token == new
        async with aiohttp.ClientSession() as session:
            api = Api(session, second)
            assert (await api.get("/api/2.0/people/@self")).status == 200
            stale = await api.get("/api/2.0/people/@self", token=f"Bearer {old}")
            assert stale.status == 401


async def test_reset_goes_back_to_the_seeded_portal(api: Api) -> None:
    room = await api.room("Client - Acme", 2)
    await api.share(room, {"email": "guest@example.com", "access": 2})
    await api.post("/sandbox/faults", {"rates": {"5xx": 1.0}}, token=None)
    reply = await api.post("/sandbox/reset", token=None)
    assert reply.status == 200
    assert reply.body["token"] == api.sandbox.token
    assert reply.body["templateIds"] == api.sandbox.template_ids
    state = await api.state()
    assert [r["title"] for r in state["rooms"]] == ["Templates"]
    assert [p["email"] for p in state["people"]] == [api.sandbox.owner_email]
    assert state["shares"] == [] and await api.outbox() == []
    assert (await api.get("/api/2.0/people/@self")).status == 200  # faults are off again
    assert (await api.get("/sandbox/requests", token=None)).body["total"] == 1
