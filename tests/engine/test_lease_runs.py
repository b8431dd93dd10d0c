"""Two machines, one portal: runs with state folders of their own (a cron server and a laptop)
started at once against one portal. The portal's lease lets one write; the other exits 4
naming it, and nothing is created or mailed twice. `undo --yes` waits for such a run too."""

from __future__ import annotations

import asyncio
import json
import os
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.cli.output import EXIT_LOCKED
from bulk_onboard.config import PORTAL_LEASE_ENV
from bulk_onboard.engine.lease import PortalLease
from bulk_onboard.sandbox import Sandbox, SandboxConfig
from tests.engine.conftest import write_population
from tests.engine.portal_checks import MARIA, cli, last_run, write_clients
from tests.helpers import admin, assert_clean, seeded_sandbox, settings_for
from tests.processes import run_args

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def portal_lease_on(portal_lease_off: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """These runs take the portal's lease, as runs do outside the tests."""
    monkeypatch.setenv(PORTAL_LEASE_ENV, "on")


async def test_two_machines_at_once_one_writes_the_other_exits_4(tmp_path: Path) -> None:
    files = write_population(tmp_path / "in", 6, 6)
    async with seeded_sandbox(SandboxConfig(db=":memory:", latency_ms=30)) as sb:
        runs = []
        for machine in ("cron", "laptop"):
            env = {
                **os.environ,
                "DOCSPACE_TOKEN": sb.token,
                "DOCSPACE_URL": sb.url,
                "BULK_ONBOARD_STATE_DIR": str(tmp_path / machine / "state"),
            }
            args = run_args(tmp_path / machine, *map(str, files))
            runs.append(await asyncio.create_subprocess_exec(*args, env=env, stderr=PIPE))
        ended = await asyncio.wait_for(asyncio.gather(*(r.communicate() for r in runs)), 60)
        codes = [run.returncode for run in runs]
        assert sorted(codes) == [0, EXIT_LOCKED], (codes, [e.decode() for _, e in ended])
        winner = codes.index(0)
        loser_said = ended[1 - winner][1].decode()
        machine = ("cron", "laptop")[winner]
        (run_id,) = [p.name for p in (tmp_path / machine / "reports").iterdir() if p.is_dir()]
        assert f"another bulk-onboard run (run {run_id}, pid {runs[winner].pid}" in loser_said
        assert "My documents" in loser_said
        loser_reports = tmp_path / ("cron", "laptop")[1 - winner] / "reports"
        assert not any(p.is_dir() for p in loser_reports.iterdir())  # no run folder made
        audit = await assert_clean(sb)  # no room, folder, person or mail twice
        assert audit["counts"]["rooms"] == 1 + 6
        outbox = await admin(sb, "GET", "/sandbox/outbox")
        mailed = [(m["to"], m["kind"], m.get("roomId")) for m in outbox["mails"]]
        assert mailed and len(mailed) == len(set(mailed))


async def test_undo_yes_waits_for_a_run_on_another_machine(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = write_clients(tmp_path / "clients.csv", [("L-1", "Leased", "it@leased.example", MARIA)])
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    run = last_run(reports)
    settings = settings_for(sandbox, tmp_path / "elsewhere")
    async with DocSpaceClient(settings) as client:  # the cron server's run holds the portal
        holder = PortalLease(client, sandbox.url, "20261201-020000-000aa", host="cron-server")
        await holder.take()
        preview, said = await cli(sandbox, reports, "undo", run.name)  # only reads
        code_yes, output = await cli(sandbox, reports, "undo", run.name, "--yes")
        unleased, ran = await cli(sandbox, reports, "run", str(sheet), "--no-portal-lease")
        await holder.release()
    assert preview == 0, said
    assert unleased == 0, ran  # the flag leaves the lease out: the run goes on
    assert code_yes == EXIT_LOCKED, output
    assert "another bulk-onboard run (run 20261201-020000-000aa, pid " in output
    assert "on cron-server, started " in output
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert [r["archived"] for r in state["rooms"] if "client:L-1" in r["tags"]] == [False]


async def test_the_lease_requests_are_counted_apart_and_its_limits_not_logged(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await admin(sandbox, "DELETE", "/sandbox/requests")
    reports = tmp_path / "reports"
    sheet = write_clients(tmp_path / "clients.csv", [("L-1", "Leased", "it@leased.example", MARIA)])
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events].count("limits_final") == 1, output
    requests = json.loads((last_run(reports) / "summary.json").read_text())["requests"]
    counted = await admin(sandbox, "GET", "/sandbox/requests")
    assert requests["retries"] == 0
    # the lease took the portal (its own marker, the listings); its release (end, delete) after
    assert requests["lease_requests"] >= 3
    assert counted["total"] == requests["total"] + requests["lease_requests"] + 2, counted
