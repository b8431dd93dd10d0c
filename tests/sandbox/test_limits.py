"""The rate-limiter chain: sliding window, concurrency and the daily write budget."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bulk_onboard.sandbox import SandboxConfig, start_sandbox

from .conftest import Api, FakeClock

LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


@asynccontextmanager
async def limited(**settings: Any) -> AsyncIterator[Api]:
    async with (
        start_sandbox(SandboxConfig(rate_limit=True, **settings)) as sb,
        aiohttp.ClientSession() as session,
    ):
        yield Api(session, sb)


def limit_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in LIMIT_HEADERS}


async def test_sliding_window_rejects_with_exact_headers() -> None:
    clock = FakeClock()
    async with limited(window_limit=3, window_seconds=10, clock=clock) as api:
        for _ in range(3):
            assert (await api.get("/api/2.0/people/@self")).status == 200
            clock.advance(1)
        clock.advance(0.5)  # 3.5 s after the first request
        refused = await api.get("/api/2.0/people/@self")
        assert (refused.status, refused.text) == (429, "")
        # RedisSlidingWindowRateLimiter's lease (section 7): the limit and nothing left; no
        # Retry-After, no Reset: the client knows the window (60 s) and what it sent
        assert limit_headers(refused.headers) == {
            "X-RateLimit-Limit": "3",
            "X-RateLimit-Remaining": "0",
        }
        clock.advance(6.4)  # 9.9 s: the first request is still in the window
        assert (await api.get("/api/2.0/people/@self")).status == 429
        clock.advance(0.1)  # the first request has left the window
        assert (await api.get("/api/2.0/people/@self")).status == 200
        assert (await api.get("/api/2.0/people/@self")).status == 429
        counts = (await api.get("/sandbox/requests", token=None)).body
        assert counts["rejected"] == {"window": 3, "concurrency": 0, "daily": 0}
        assert counts["byStatus"]["429"] == 3


async def test_partitions_are_per_user_then_per_ip() -> None:
    clock = FakeClock()
    async with limited(window_limit=2, window_seconds=60, clock=clock) as api:
        await api.person("u@example.com", "User", password="pw-123456")
        token = await api.login("u@example.com", "pw-123456")  # counts for this IP
        for _ in range(2):
            assert (await api.get("/api/2.0/people/@self")).status == 200
        assert (await api.get("/api/2.0/people/@self")).status == 429
        assert (await api.get("/api/2.0/people/@self", token=token)).status == 200
        assert (await api.get("/api/2.0/people/@self", token=None)).status == 401
        assert (await api.get("/api/2.0/people/@self", token=None)).status == 429
        assert (await api.get("/sandbox/state", token=None)).status == 200  # never limited


async def test_sixteenth_concurrent_write_is_refused_naming_the_cap() -> None:
    async with limited(latency_ms=300, max_write_inflight=15) as api:
        replies = await asyncio.gather(
            *(
                api.post("/api/2.0/files/rooms", {"title": f"Room {n}", "roomType": 2})
                for n in range(16)
            )
        )
        assert Counter(r.status for r in replies) == {200: 15, 429: 1}
        refused = next(r for r in replies if r.status == 429)
        # RedisConcurrencyRateLimiter's lease: the lane's cap and what is left of it
        assert refused.text == "" and limit_headers(refused.headers) == {
            "X-RateLimit-Limit": "15",
            "X-RateLimit-Remaining": "0",
        }
        assert len((await api.state())["rooms"]) == 16  # the templates room + 15
        counts = (await api.get("/sandbox/requests", token=None)).body
        assert counts["rejected"]["concurrency"] == 1
        assert counts["peakInflight"]["write"] == 15


async def test_reads_have_their_own_concurrency_budget() -> None:
    async with limited(latency_ms=250, max_write_inflight=2, max_get_inflight=3) as api:
        writes = [
            api.post("/api/2.0/files/rooms", {"title": f"R{n}", "roomType": 2}) for n in range(2)
        ]
        reads = [api.get("/api/2.0/people/@self") for _ in range(4)]
        replies = await asyncio.gather(*writes, *reads)
        assert [r.status for r in replies[:2]] == [200, 200]
        assert Counter(r.status for r in replies[2:]) == {200: 3, 429: 1}
        refused = next(r for r in replies if r.status == 429)
        assert limit_headers(refused.headers) == {
            "X-RateLimit-Limit": "3",
            "X-RateLimit-Remaining": "0",
        }


async def test_a_request_refused_for_concurrency_still_counts_in_the_window() -> None:
    clock = FakeClock()
    async with limited(
        latency_ms=200, max_write_inflight=1, window_limit=20, window_seconds=60, clock=clock
    ) as api:
        replies = await asyncio.gather(
            *(api.post("/api/2.0/files/rooms", {"title": "R", "roomType": 2}) for _ in range(2))
        )
        assert sorted(r.status for r in replies) == [200, 429]
        usage = (await api.get("/sandbox/limits", token=None)).body["usage"]
        owner = usage[f"user:{api.sandbox.owner_id}"]
        assert owner["windowCount"] == 2 and owner["writeInflight"] == 0


async def test_daily_write_budget_with_exact_headers() -> None:
    clock = FakeClock()
    async with limited(daily_write_limit=3, clock=clock) as api:
        start = math.floor(clock())
        room = await api.room("One", 2)
        assert (await api.share(room, {"email": "a@example.com", "access": 2})).status == 200
        assert (await api.post(f"/api/2.0/files/folder/{room}", {"title": "F"})).status == 200
        clock.advance(100.4)
        refused = await api.post("/api/2.0/files/rooms", {"title": "Two", "roomType": 2})
        assert (refused.status, refused.text) == (429, "")
        assert limit_headers(refused.headers) == {
            "X-RateLimit-Limit": "3",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(start + 86_400),
            "Retry-After": str(86_400 - 100),
        }
        assert (await api.get("/api/2.0/files/rooms")).status == 200  # reads are not counted
        clock.advance(86_400)
        assert (
            await api.post("/api/2.0/files/rooms", {"title": "Two", "roomType": 2})
        ).status == 200
        assert [r["title"] for r in (await api.state())["rooms"]] == ["Templates", "One", "Two"]


async def test_limits_can_change_at_runtime() -> None:
    async with limited() as api:
        await api.room("One", 2)
        await api.room("Two", 2)
        changed = await api.post("/sandbox/limits", {"dailyWriteLimit": 2}, token=None)
        assert changed.status == 200 and changed.body["settings"]["dailyWriteLimit"] == 2
        refused = await api.post("/api/2.0/files/rooms", {"title": "Three", "roomType": 2})
        assert refused.status == 429 and refused.headers["X-RateLimit-Limit"] == "2"
        await api.post("/sandbox/limits", {"enabled": False}, token=None)
        assert (
            await api.post("/api/2.0/files/rooms", {"title": "Three", "roomType": 2})
        ).status == 200
        bad = await api.post("/sandbox/limits", {"windowLimit": 0}, token=None)
        assert bad.status == 400
        unknown = await api.post("/sandbox/limits", {"perSecond": 5}, token=None)
        assert unknown.status == 400


async def test_no_limits_unless_enabled() -> None:
    async with (
        start_sandbox(SandboxConfig(window_limit=2, daily_write_limit=1)) as sb,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, sb)
        for n in range(4):
            assert (
                await api.post("/api/2.0/files/rooms", {"title": f"R{n}", "roomType": 2})
            ).status == 200


async def test_the_global_window_is_a_minute_unless_a_test_sets_another() -> None:
    """BaseStartup.cs: TimeSpan.FromMinutes(1); only the limit is the admin's."""
    assert SandboxConfig().window_seconds == 60.0
    clock = FakeClock()
    async with limited(window_limit=2, clock=clock) as api:
        for _ in range(2):
            assert (await api.get("/api/2.0/people/@self")).status == 200
        clock.advance(59.9)
        refused = await api.get("/api/2.0/people/@self")
        assert refused.status == 429 and "Retry-After" not in refused.headers
        clock.advance(0.2)
        assert (await api.get("/api/2.0/people/@self")).status == 200
        settings = (await api.get("/sandbox/limits", token=None)).body["settings"]
        assert (settings["windowLimit"], settings["windowSeconds"]) == (2, 60.0)
