"""The run's limits find the portal's over real HTTP: the sandbox's limiter set to each shape
of docspace-api.md section 7 (sliding window, refused naming its limit without Retry-After;
concurrency, refused naming the lane's cap). Windows are shortened to a second or two, on
both sides (the sandbox's test-only window length, the run's --rate-window), so each test
takes a few seconds. Outages: tests/engine/test_outage.py."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.config import Settings
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.helpers import admin, settings_for


def adaptive(sb: Sandbox, tmp_path: Path, **changes: Any) -> Settings:
    """Settings with the default limits (adaptive rate and write cap), real waits."""
    settings = settings_for(sb, tmp_path)
    return replace(
        settings,
        requests_per_second=None,
        max_write_inflight=None,
        retry=RetryPolicy(max_attempts=6, base_delay=0.2, max_delay=2.0),
        **changes,
    )


async def keep_busy(seconds: float, workers: int, call: Any) -> list[float]:
    """`workers` loops calling `call()` for `seconds`; the times the calls returned."""
    done: list[float] = []
    until = time.monotonic() + seconds

    async def loop() -> None:
        while time.monotonic() < until:
            await call()
            done.append(time.monotonic())

    await asyncio.gather(*(loop() for _ in range(workers)))
    return done


async def test_the_rate_settles_just_under_the_sliding_window(tmp_path: Path) -> None:
    config = SandboxConfig(rate_limit=True, window_limit=40, window_seconds=1.0)
    async with start_sandbox(config) as sb:
        async with DocSpaceClient(adaptive(sb, tmp_path, rate_window=1.0)) as client:
            started = time.monotonic()
            done = await keep_busy(4.0, 12, client.self_profile)
            limits = client.stats.as_dict()["limits"]
            stats = client.stats
        counters = await admin(sb, "GET", "/sandbox/requests")
    rate = limits["rate"]  # type: ignore[index]
    # the refusal named 40 while the run had sent about 40 in the window: mirrored
    assert (rate["mode"], rate["limit"], rate["window_s"]) == ("mirroring", 40, 1.0), rate
    # once learned, the allowance is used: the last three whole windows carried >= 90% of
    # 3 x 40 (the pacer sends up to the window's edge: a freed allowance goes at once)
    late = [t for t in done if started + 1.0 <= t < started + 4.0]
    assert len(late) >= 0.9 * 3 * 40, (len(late), rate)
    refused = counters["byStatus"].get("429", 0)
    assert refused == stats.rate_limited
    assert refused <= 0.08 * counters["total"], (refused, counters["total"], rate)
    assert stats.pauses == 0  # a learned window holds retries in the pacer, nobody pauses


async def test_a_concurrency_refusal_sets_the_write_cap_to_the_named_limit(
    tmp_path: Path,
) -> None:
    """Writes start at the server's 15; a portal whose cap is 3 refuses naming it
    (X-RateLimit-Limit: 3): the cap is 3 at once, not halved step by step."""
    config = SandboxConfig(rate_limit=True, max_write_inflight=3, latency_ms=30)
    async with start_sandbox(config) as sb:
        async with DocSpaceClient(adaptive(sb, tmp_path)) as client:
            room = await client.create_room("Caps", 6)
            titles = iter(f"Folder {n:03d}" for n in range(10_000))

            async def write() -> None:
                await client.create_folder(room["id"], next(titles))

            await keep_busy(2.5, 12, write)
            writes = client.stats.as_dict()["limits"]["writes"]  # type: ignore[index]
            stats = client.stats
        counters = await admin(sb, "GET", "/sandbox/requests")
        audit = await admin(sb, "GET", "/sandbox/audit")
    assert (writes["cap"], writes["ceiling"], writes["lowest"]) == (3, 3, 3), writes
    assert writes["decreases"] == 1  # one step, to the named limit
    assert counters["peakInflight"]["write"] == 3
    folders = counters["byRoute"]["POST /api/2.0/files/folder/{folderId}"]
    refused = counters["rejected"]["concurrency"]
    assert stats.concurrency_refusals == refused
    assert stats.failures == {}  # a refusal never fails a call
    assert refused <= 12, (refused, folders)  # the first burst only (12 callers at once)
    assert counters["rejected"]["window"] == 0
    # every call succeeded, and each folder exists once
    assert audit["counts"]["folders"] == folders - refused
    assert audit["clean"]
