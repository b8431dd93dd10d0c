"""Fixtures for the sandbox tests: an in-process sandbox on a free port and a plain
aiohttp client that records what a DocSpace client would observe."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.helpers import FakeClock

__all__ = ["INVITED", "Api", "FakeClock", "Reply"]  # FakeClock: the sandbox tests import it here

INVITED = "You have been invited to a room"


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str]

    @property
    def body(self) -> Any:
        return json.loads(self.text) if self.text else None

    @property
    def response(self) -> Any:
        return self.body["response"]

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]  # type: ignore[no-any-return]


class Api:
    """Requests as a client sends them; auth is the owner's API key unless told otherwise."""

    def __init__(self, session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
        self.session = session
        self.sandbox = sandbox
        self.base = sandbox.url

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: Any = None,
        params: Any = None,
        token: str | None = "owner",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if token == "owner":
            sent["Authorization"] = f"Bearer {self.sandbox.token}"
        elif token is not None:
            sent["Authorization"] = token
        kwargs: dict[str, Any] = {"headers": sent, "params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        async with self.session.request(method, self.base + path, **kwargs) as resp:
            return Reply(resp.status, await resp.text(), dict(resp.headers))

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, json_body=body, **kwargs)

    async def put(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, json_body=body, **kwargs)

    async def delete_user(self, user: str, **kwargs: Any) -> Reply:
        return await self.call("DELETE", f"/api/2.0/people/{user}", **kwargs)

    # --- shortcuts ---------------------------------------------------------------------

    async def room(self, title: str = "Client room", room_type: int | str = 5) -> int:
        reply = await self.post("/api/2.0/files/rooms", {"title": title, "roomType": room_type})
        assert reply.status == 200, reply.text
        return int(reply.response["id"])

    async def folder(self, parent_id: int, title: str) -> int:
        reply = await self.post(f"/api/2.0/files/folder/{parent_id}", {"title": title})
        assert reply.status == 200, reply.text
        return int(reply.response["id"])

    async def people(self, *specs: dict[str, Any]) -> list[dict[str, Any]]:
        reply = await self.post("/sandbox/people", list(specs), token=None)
        assert reply.status == 200, reply.text
        return reply.body["people"]  # type: ignore[no-any-return]

    async def person(self, email: str, type: int | str = 4, **extra: Any) -> str:
        return str((await self.people({"email": email, "type": type, **extra}))[0]["id"])

    async def login(self, email: str, password: str) -> str:
        reply = await self.post(
            "/api/2.0/authentication", {"userName": email, "password": password}, token=None
        )
        assert reply.status == 200, reply.text
        return str(reply.response["token"])

    async def share(self, room_id: int, *invitations: dict[str, Any], **extra: Any) -> Reply:
        return await self.put(
            f"/api/2.0/files/rooms/{room_id}/share", {"invitations": list(invitations), **extra}
        )

    async def invite(self, room_id: int, email: str) -> Reply:
        """The documentation's example: an address invited to edit, mailed with a message."""
        return await self.share(
            room_id, {"email": email, "access": "Editing"}, notify=True, message=INVITED
        )

    async def add_member(self, first: str, last: str, email: str, **extra: Any) -> Reply:
        """POST /api/2.0/people: a user (type 4) unless `extra` says otherwise."""
        body = {"firstName": first, "lastName": last, "email": email, "type": 4, **extra}
        return await self.post("/api/2.0/people", body)

    async def members(self, room_id: int) -> dict[str, int]:
        """email → access of the room's users (owner included)."""
        reply = await self.get(f"/api/2.0/files/rooms/{room_id}/share")
        assert reply.status == 200, reply.text
        return {m["sharedToUser"]["email"]: m["access"] for m in reply.response}

    async def outbox(self, **params: str) -> list[dict[str, Any]]:
        reply = await self.get("/sandbox/outbox", params=params or None, token=None)
        return reply.body["mails"]  # type: ignore[no-any-return]

    async def state(self) -> dict[str, Any]:
        return (await self.get("/sandbox/state", token=None)).body  # type: ignore[no-any-return]

    async def audit(self) -> dict[str, Any]:
        return (await self.get("/sandbox/audit", token=None)).body  # type: ignore[no-any-return]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with start_sandbox(SandboxConfig()) as sb:
        yield sb


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, sandbox)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
