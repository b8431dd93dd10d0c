"""Faults on the wire, exactly-once results: every row ends ok, the portal holds no duplicate."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.demo import EXISTING_MANAGERS
from bulk_onboard.cli.output import exit_code
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.helpers import SAMPLES, admin, assert_clean, settings_for

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]


async def _audited_run(
    sb: Sandbox, tmp_path: Path, **settings_changes: object
) -> dict[str, object]:
    await admin(sb, "POST", "/sandbox/people", EXISTING_MANAGERS)
    intake = load_intake([SAMPLES / "onboarding.xlsx"], load_playbook(None))
    # The sandbox answers at once (no latency faults here), so a 0.3 s request timeout is
    # ample (below what --request-timeout accepts, so set directly), and a write without an
    # answer is looked for over 0.3 s instead of 1 s.
    changes = {"request_timeout": 0.3, **settings_changes}
    settings = replace(settings_for(sb, tmp_path), **changes)  # type: ignore[arg-type]
    outcome = await modes.start(settings, intake, progress=Progress(), stop=Stop())
    bad = [
        (r.row_key, r.failed_step, r.error) for r in outcome.results if r.status.value != "created"
    ]
    assert bad == []
    assert exit_code(outcome) == 0
    audit = await assert_clean(sb)
    assert audit["counts"]["rooms"] == 26 and audit["counts"]["folders"] == 75
    assert audit["counts"]["files"] == 52 and audit["counts"]["links"] == 25
    outbox = await admin(sb, "GET", "/sandbox/outbox")
    invitations = Counter(
        m["to"]
        for m in outbox["mails"]
        if m["kind"] in ("activation", "invitation", "room_invitation")
    )
    assert max(invitations.values()) == 1
    assert len(invitations) == 52 + 8 + 25  # named people, invited people, client contacts
    return outcome.document


@pytest.mark.parametrize("seed", [3, 11])
async def test_ambiguous_writes_5xx_and_drops_create_nothing_twice(
    tmp_path: Path, seed: int
) -> None:
    config = SandboxConfig(fault_ambiguous=0.08, fault_5xx=0.05, fault_drop=0.03, seed=seed)
    async with start_sandbox(config) as sb:
        summary = await _audited_run(sb, tmp_path)
        requests = await admin(sb, "GET", "/sandbox/requests")
    faults = requests.get("faults") or requests.get("injected") or {}
    assert sum(faults.values()) >= 20, requests  # the run really went through weather
    assert summary["requests"]["ambiguous_writes"] > 0  # type: ignore[index]


async def test_scripted_ambiguous_create_room_is_found_not_recreated(tmp_path: Path) -> None:
    async with start_sandbox(SandboxConfig()) as sb:
        script = [
            {
                "method": "POST",
                "path": "/api/2.0/files/rooms",
                "fault": "ambiguous_502",
                "times": 5,
            },
            {"method": "POST", "path": "/api/2.0/people", "fault": "ambiguous_drop", "times": 5},
            {
                "method": "PUT",
                "path": "/api/2.0/files/rooms/",
                "fault": "ambiguous_502",
                "times": 5,
            },
            {
                "method": "POST",
                "path": "/api/2.0/people/invite",
                "fault": "ambiguous_drop",
                "times": 1,
            },
        ]
        await admin(sb, "POST", "/sandbox/faults", {"script": script})
        await _audited_run(sb, tmp_path)


async def test_429_storm_pauses_and_finishes(tmp_path: Path) -> None:
    config = SandboxConfig(
        rate_limit=True, window_limit=60, window_seconds=1.0, max_write_inflight=15
    )
    async with start_sandbox(config) as sb:
        policy = RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=1.0, max_total_seconds=60)
        summary = await _audited_run(sb, tmp_path, retry=policy, requests_per_second=200.0)
    client = summary["requests"]
    # the window's 429s name its limit and carry no Retry-After (docspace-api.md 7): the
    # pacer holds the retries, nobody pauses the run
    assert client["rate_limited"] > 0 and client["pauses"] == 0  # type: ignore[index]
