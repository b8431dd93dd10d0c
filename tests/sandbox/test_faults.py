"""Seeded and scripted fault injection: what a client sees and what really happened."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import SandboxConfig, start_sandbox

from .conftest import Api

pytestmark = pytest.mark.chaos

ROOM = {"title": "Client - Acme", "roomType": 2}


@asynccontextmanager
async def faulty(**settings: Any) -> AsyncIterator[Api]:
    async with start_sandbox(SandboxConfig(**settings)) as sb, aiohttp.ClientSession() as session:
        yield Api(session, sb)


async def outcome(api: Api, method: str, path: str, body: Any = None) -> int | str:
    """The HTTP status, or 'dropped' when the connection closed without an answer."""
    try:
        return (await api.call(method, path, json_body=body)).status
    except aiohttp.ServerDisconnectedError:
        return "dropped"


async def script(api: Api, *faults: dict[str, Any]) -> None:
    """The faults the portal is to inject next, in order."""
    await api.post("/sandbox/faults", {"script": list(faults)}, token=None)


async def room_titles(api: Api) -> list[str]:
    return [r["title"] for r in (await api.state())["rooms"] if r["title"] != "Templates"]


async def test_5xx_has_no_effect() -> None:
    async with faulty(fault_5xx=1.0) as api:
        statuses = {await outcome(api, "POST", "/api/2.0/files/rooms", ROOM) for _ in range(8)}
        assert statuses <= {500, 502, 503} and len(statuses) > 1
        assert await room_titles(api) == []
        faults = (await api.get("/sandbox/requests", token=None)).body["faults"]
        assert faults["5xx"] == 8


async def test_a_500_carries_the_error_envelope() -> None:
    async with faulty() as api:
        await script(
            api, {"method": "POST", "path": "/api/2.0/files/rooms", "fault": "5xx", "status": 500}
        )
        reply = await api.post("/api/2.0/files/rooms", ROOM)
        assert reply.status == 500 and reply.body["status"] == 1
        assert reply.body["statusCode"] == 500 and await room_titles(api) == []


async def test_drop_has_no_effect() -> None:
    async with faulty(fault_drop=1.0) as api:
        assert await outcome(api, "POST", "/api/2.0/files/rooms", ROOM) == "dropped"
        assert await outcome(api, "GET", "/api/2.0/files/rooms") == "dropped"
        assert await room_titles(api) == []


async def test_ambiguous_failures_commit_the_write() -> None:
    async with faulty(fault_ambiguous=1.0, seed=3) as api:
        seen = {
            await outcome(api, "POST", "/api/2.0/files/rooms", {**ROOM, "title": f"R{n}"})
            for n in range(10)
        }
        assert seen == {502, "dropped"}
        assert await room_titles(api) == [f"R{n}" for n in range(10)]
        assert await outcome(api, "GET", "/api/2.0/files/rooms") == 200  # reads are spared


async def test_scripted_ambiguous_502_then_success_duplicates_a_naive_retry() -> None:
    async with faulty() as api:
        script = {
            "script": [
                {
                    "method": "POST",
                    "path": "/api/2.0/files/rooms",
                    "fault": "ambiguous_502",
                    "times": 1,
                }
            ]
        }
        assert (await api.post("/sandbox/faults", script, token=None)).status == 200
        first = await api.post("/api/2.0/files/rooms", ROOM)
        assert (first.status, first.text) == (502, "")
        retry = await api.post("/api/2.0/files/rooms", ROOM)  # the naive retry
        assert retry.status == 200
        audit = await api.audit()
        assert audit["duplicates"]["rooms"][0]["title"] == "Client - Acme"
        assert len(audit["duplicates"]["rooms"][0]["ids"]) == 2
        assert (await api.get("/sandbox/faults", token=None)).body["script"] == []


async def test_scripted_drop_regex_skip_and_times() -> None:
    async with faulty() as api:
        room = await api.room("Custom", 5)
        await script(
            api,
            {
                "regex": r"/api/2\.0/files/folder/\d+",
                "fault": "ambiguous_drop",
                "skip": 1,
                "times": 2,
            },
        )
        results = [
            await outcome(api, "POST", f"/api/2.0/files/folder/{room}", {"title": "F"})
            for _ in range(4)
        ]
        assert results == [200, "dropped", "dropped", 200]
        counts = (await api.get("/sandbox/requests", token=None)).body
        assert counts["byStatus"] == {"200": 3, "dropped": 2} and counts["dropped"] == 2
        assert len((await api.state())["folders"]) == 4  # every one was committed


async def test_scripted_429_with_retry_after() -> None:
    async with faulty() as api:
        await script(
            api,
            {"method": "PUT", "path": "/api/2.0/files/rooms/", "fault": "429", "retry_after": 2},
        )
        room = await api.room("Collab", 2)
        refused = await api.share(room, {"email": "a@example.com", "access": 2})
        assert (refused.status, refused.text) == (429, "")
        assert refused.headers["Retry-After"] == "2"
        assert await api.outbox() == []
        assert (await api.share(room, {"email": "a@example.com", "access": 2})).status == 200


async def test_latency_and_scripted_delay() -> None:
    async with faulty(latency_ms=120) as api:
        started = time.monotonic()
        await api.get("/api/2.0/people/@self")
        assert time.monotonic() - started >= 0.12
        await api.post(
            "/sandbox/faults",
            {
                "rates": {"latency_ms": 0},
                "script": [
                    {"method": "GET", "path": "/api/2.0/people", "fault": "delay", "ms": 150}
                ],
            },
            token=None,
        )
        started = time.monotonic()
        await api.get("/api/2.0/people/@self")
        assert time.monotonic() - started >= 0.15
        started = time.monotonic()
        await api.get("/api/2.0/people/@self")
        assert time.monotonic() - started < 0.12


async def test_a_seed_gives_the_same_faults_every_time() -> None:
    async def run(seed: int) -> list[int | str]:
        async with faulty(fault_5xx=0.3, fault_drop=0.2, fault_ambiguous=0.3, seed=seed) as api:
            return [await outcome(api, "POST", "/api/2.0/files/rooms", ROOM) for _ in range(25)]

    first, second, other = await run(7), await run(7), await run(8)
    assert first == second and first != other
    assert {200, "dropped"} <= set(first)


async def test_rates_can_change_at_runtime_and_bad_specs_are_refused() -> None:
    async with faulty() as api:
        changed = await api.post("/sandbox/faults", {"rates": {"5xx": 1.0}}, token=None)
        assert changed.body["rates"]["5xx"] == 1.0
        assert await outcome(api, "POST", "/api/2.0/files/rooms", ROOM) in (500, 502, 503)
        await api.post("/sandbox/faults", {"rates": {"5xx": 0}}, token=None)
        assert await outcome(api, "POST", "/api/2.0/files/rooms", ROOM) == 200
        for bad in (
            {"rates": {"5xx": 2}},
            {"rates": {"boom": 0.1}},
            {"script": [{"fault": "explode"}]},
            {"script": [{"fault": "drop", "regex": "("}]},
        ):
            assert (await api.post("/sandbox/faults", bad, token=None)).status == 400
