"""Runs against the sandbox answering exactly as docspace-api.md section 7 says (a sliding
window refused naming its limit, no Retry-After): the cloud's shape scaled down, a shared
budget, a wrong belief. Windows are a second long on both sides (the sandbox's test-only
window, the run's rate_window) so that each test takes a few seconds."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.demo import EXISTING_MANAGERS
from bulk_onboard.cli.output import limits_lines
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import SandboxConfig, start_sandbox
from tests.helpers import SAMPLES, admin, assert_clean, settings_for

from .test_adaptive_limits import keep_busy

pytestmark = pytest.mark.e2e


def defaults(sb: Any, tmp_path: Path, **changes: Any) -> Any:
    """The default options (adaptive rate, writes from 15), real waits."""
    settings = replace(
        settings_for(sb, tmp_path),
        requests_per_second=None,
        max_write_inflight=None,
        retry=RetryPolicy(max_attempts=6, base_delay=0.2, max_delay=2.0),
    )
    return replace(settings, **changes)


async def test_the_clouds_shape_scaled_down_fails_no_row(tmp_path: Path) -> None:
    """1,500 a minute with 15 writes and 50 reads, scaled to 100 a second: the sample
    workbook (85 rows, several windows' worth of requests) with the default options."""
    config = SandboxConfig(rate_limit=True, window_limit=100, window_seconds=1.0, latency_ms=5)
    async with start_sandbox(config) as sb:
        await admin(sb, "POST", "/sandbox/people", EXISTING_MANAGERS)
        intake = load_intake([SAMPLES / "onboarding.xlsx"], load_playbook(None))
        settings = defaults(sb, tmp_path, rate_window=1.0, request_timeout=2.0)
        started = time.monotonic()
        outcome = await modes.start(settings, intake, progress=Progress(), stop=Stop())
        elapsed = time.monotonic() - started
        counters = await admin(sb, "GET", "/sandbox/requests")
        await assert_clean(sb)
    assert [r.row_key for r in outcome.results if r.status.value != "created"] == []
    requests = outcome.document["requests"]
    rate = requests["limits"]["rate"]
    assert (rate["mode"], rate["limit"], rate["window_s"]) == ("mirroring", 100, 1.0), rate
    refused = counters["rejected"]["window"]
    assert refused == requests["window_refusals"]
    # few refusals: the first wall (what was in flight when it came) and a probe or two
    assert refused <= 0.05 * counters["total"], (refused, counters["total"], rate)
    assert requests["pauses"] == 0
    # the window's allowance is used: no slower than 1.3 x the requests at 99 a second
    assert elapsed <= 1.3 * (counters["total"] - refused) / 99 + 1.0, elapsed


async def test_a_budget_shared_with_another_client_is_detected(tmp_path: Path) -> None:
    """Another client of the same API user spends 40 of the 60 a second: the run is refused
    while its own count is well under the limit, says so, and keeps to what is left."""
    config = SandboxConfig(rate_limit=True, window_limit=60, window_seconds=1.0)
    async with start_sandbox(config) as sb, aiohttp.ClientSession() as other:
        headers = {"Authorization": f"Bearer {sb.token}"}
        stop = asyncio.Event()

        async def sharer() -> None:
            while not stop.is_set():
                async with other.get(f"{sb.url}/api/2.0/people/@self", headers=headers):
                    pass
                await asyncio.sleep(1 / 40)

        task = asyncio.create_task(sharer())
        await asyncio.sleep(0.5)
        async with DocSpaceClient(defaults(sb, tmp_path, rate_window=1.0)) as client:
            await keep_busy(4.0, 8, client.self_profile)
            limits = client.stats.as_dict()["limits"]
            stats = client.stats
        stop.set()
        await task
    rate = limits["rate"]  # type: ignore[index]
    assert rate["shared_refusals"] >= 1, rate
    assert rate["limit"] == 60 and rate["allowance"] < 59, rate
    assert stats.failures == {}
    line = limits_lines(limits)[0]
    assert "shared" in line and "another client" in line, line


async def test_a_wrong_window_is_corrected_within_seconds(tmp_path: Path) -> None:
    """The run believes the server's 60 s; this portal counts 40 a second. After the first
    refusal the run keeps to 39 in 60 s only until a probe past the limit is accepted: then
    it mirrors what the accepted requests show."""
    config = SandboxConfig(rate_limit=True, window_limit=40, window_seconds=1.0)
    async with start_sandbox(config) as sb:
        async with DocSpaceClient(defaults(sb, tmp_path)) as client:
            done = await keep_busy(5.0, 8, client.self_profile)
            limits = client.stats.as_dict()["limits"]
        counters = await admin(sb, "GET", "/sandbox/requests")
    rate = limits["rate"]  # type: ignore[index]
    assert rate["probes"] >= 1 and rate["window_s"] < 2.0, rate
    assert len(done) >= 100, (len(done), rate)  # 40 a minute would be 40 in 5 s
    assert counters["rejected"]["window"] <= 0.1 * counters["total"], (counters, rate)
