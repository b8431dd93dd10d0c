"""A real outage in the middle of a run (the sandbox's listening socket closed, its open
connections aborted): ridden out with no failed row and nothing twice, or, once the outage
wait is spent, the run fails as a whole (exit code 6) with its rows interrupted, not failed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.demo import EXISTING_MANAGERS
from bulk_onboard.cli.output import EXIT_PORTAL, exit_code
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import RunSummary
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.helpers import SAMPLES, admin, assert_sample_onboarded_once, settings_for

pytestmark = pytest.mark.e2e


async def run_through_outage(
    sb: Sandbox, tmp_path: Path, *, seconds: float, delay: float, wait: float
) -> RunSummary:
    await admin(sb, "POST", "/sandbox/people", EXISTING_MANAGERS)
    intake = load_intake([SAMPLES / "onboarding.xlsx"], load_playbook(None))
    settings = replace(
        settings_for(sb, tmp_path),
        requests_per_second=None,  # the defaults: adaptive rate and write cap
        max_write_inflight=None,
        outage_wait=wait,
        retry=RetryPolicy(base_delay=0.2, max_delay=2.0),
    )
    await admin(sb, "POST", "/sandbox/outage", {"seconds": seconds, "delay": delay})
    return await modes.start(settings, intake, progress=Progress(), stop=Stop())


async def test_a_run_rides_out_an_outage_with_no_failed_row(tmp_path: Path) -> None:
    async with start_sandbox(SandboxConfig(latency_ms=20)) as sb:  # still sending at 0.3 s
        summary = await run_through_outage(sb, tmp_path, seconds=2.0, delay=0.3, wait=30.0)
        state = await admin(sb, "GET", "/sandbox/outage")
        assert state["outages"] == 1 and not state["down"]
        assert [r.row_key for r in summary.results if r.status.value != "created"] == []
        assert exit_code(summary) == 0
        await assert_sample_onboarded_once(sb)  # aborted requests were looked at, not redone
    outage = summary.document["requests"]["limits"]["outage"]
    assert outage["outages"] == 1
    assert 1.8 <= outage["seconds_unreachable"] <= 4.0, outage
    assert summary.document["duration_s"] >= 2.0


async def test_an_outage_longer_than_the_wait_fails_the_run_not_the_rows(tmp_path: Path) -> None:
    # 20 ms a request keeps the run sending for well over a second, so the outage (0.3 s in)
    # meets requests still to send however fast the machine is
    async with start_sandbox(SandboxConfig(latency_ms=20)) as sb:
        summary = await run_through_outage(sb, tmp_path, seconds=3.0, delay=0.3, wait=1.0)
    assert summary.verdict == "portal_unreachable"
    assert exit_code(summary) == EXIT_PORTAL
    assert summary.statuses["failed"] == 0
    assert summary.statuses["interrupted"] > 0
    assert summary.document["requests"]["limits"]["outage"]["outages"] == 1


async def test_writes_cut_off_by_an_outage_are_written_once_the_portal_is_back(
    tmp_path: Path,
) -> None:
    """A write whose connection the outage aborted is looked at once the portal answers again
    and, not found, written then: the restarted portal runs nothing it had before, so the
    row does not wait out the window (--request-timeout) since its answer was lost."""
    window = 30.0
    async with start_sandbox(SandboxConfig(latency_ms=40)) as sb:  # writes in flight at 0.3 s
        await admin(sb, "POST", "/sandbox/people", EXISTING_MANAGERS)
        intake = load_intake([SAMPLES / "onboarding.xlsx"], load_playbook(None))
        settings = replace(
            settings_for(sb, tmp_path),
            requests_per_second=None,
            max_write_inflight=None,
            request_timeout=window,
            retry=RetryPolicy(base_delay=0.2, max_delay=2.0),
        )
        await admin(sb, "POST", "/sandbox/outage", {"seconds": 2.0, "delay": 0.3})
        summary = await modes.start(settings, intake, progress=Progress(), stop=Stop())
        assert exit_code(summary) == 0
        await assert_sample_onboarded_once(sb)
    assert summary.document["requests"]["ambiguous_writes"] >= 1  # writes were cut off
    assert summary.document["duration_s"] < window / 2
