"""A client for the sandbox's own endpoints (/sandbox/...), for the demo and for tests:
seed people, read the outbox, the audit and the webhook deliveries."""

from __future__ import annotations

from typing import Any

import aiohttp


async def sandbox_call(url: str, method: str, path: str, body: Any = None) -> Any:
    """`method url/path` with an optional JSON body; the JSON answer (raises on non-2xx)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{url}{path}", json=body) as reply,
    ):
        reply.raise_for_status()
        return await reply.json()
