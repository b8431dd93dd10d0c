"""Fixtures for CRM delivery: a sandbox whose webhook receiver knows the secret, a sleep that
only records how long it was asked to wait, and a helper to script the receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

SECRET = "whsec-7f3a9c1e5b2d8f4a6c0e"

# An onboarded client and its room, as the CRM records are built from them.
CLIENT: dict[str, Any] = dict(
    client_id="C-10045",
    client_name="Acme Corporation",
    client_email="contact@acme.example.com",
    manager_email="maria.garcia@northwind.example",
    room_id=5012,
    room_title="Client - Acme Corporation",
)


class Sleeps:
    """An asyncio.sleep stand-in: records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Receiver:
    """The sandbox's webhook receiver, seen from a test."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.url = f"{sandbox.url}/sandbox/webhook"

    async def script(self, **settings: Any) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/config", json=settings) as reply,
        ):
            assert reply.status == 200, await reply.text()

    async def listing(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.get(self.url) as reply:
            return await reply.json()  # type: ignore[no-any-return]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with start_sandbox(SandboxConfig(webhook_secret=SECRET)) as sandbox:
        yield Receiver(sandbox)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
