"""A run stopped during the up-front invitations: each invitation is journalled before it is
sent and after it is answered, so the stopped run's rows are interrupted (not unchanged), its
resume counts those people as created, and undo takes every one of them back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import cli, invitations, last_run, portal_state, report_rows
from tests.helpers import admin, assert_clean, settings_for

pytestmark = pytest.mark.e2e

INVITE = "POST /api/2.0/people/invite"
NAMELESS = [f"p{n}@stopped.example" for n in range(60)]
NAMED = [f"named{n}@stopped.example" for n in range(3)]


def _users(path: Path) -> Path:
    lines = ["email,first_name,last_name", *(f"{e},," for e in NAMELESS)]
    lines += [f"{e},Na,Med" for e in NAMED]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _stop_once_inviting(sandbox: Sandbox, stop: Stop) -> None:
    """Ask the run to stop as soon as the portal has an invitation request."""
    for _ in range(400):
        requests = await admin(sandbox, "GET", "/sandbox/requests")
        if requests["byRoute"].get(INVITE):
            stop.request("stopped during the invitations")
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no invitation was sent within 4 s")


async def test_a_run_stopped_during_invitations_resumed_then_undone_leaves_the_portal_as_before(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = {p["email"] for p in (await portal_state(sandbox))["people"]}
    reports, sheet = tmp_path / "reports", _users(tmp_path / "users.csv")
    # each invitation request takes 0.5 s, so the stop arrives while they are in flight
    delay = {"fault": "delay", "method": "POST", "path": "/api/2.0/people/invite", "ms": 500}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [{**delay, "times": 5}]})
    stop = Stop()
    intake = load_intake([sheet], load_playbook(None))
    watcher = asyncio.create_task(_stop_once_inviting(sandbox, stop))
    stopped = await modes.start(
        settings_for(sandbox, reports), intake, sources=[sheet], progress=Progress(), stop=stop
    )
    await watcher
    assert stopped.stopped is not None
    # every row the run never reached is interrupted, none is reported unchanged
    first = report_rows(last_run(reports))
    assert {row["status"] for row in first.values()} == {"interrupted"}, first
    invited = {p["email"] for p in (await portal_state(sandbox))["people"]} - before
    assert invited == set(NAMELESS)  # the invitations went out before the stop took effect

    run = last_run(reports)
    code, output = await cli(sandbox, reports, "run", "--resume", run.name)
    assert code == 0, output
    resumed = report_rows(last_run(reports))
    assert {resumed[e]["status"] for e in NAMELESS + NAMED} == {"created"}, resumed
    assert await invitations(sandbox) == sorted(NAMELESS + NAMED)  # each mailed once
    await assert_clean(sandbox)

    code, output = await cli(sandbox, reports, "undo", run.name, "--yes")
    assert code == 0, output
    after = {p["email"] for p in (await portal_state(sandbox))["people"]}
    assert after == before, sorted(after - before)
