"""The fleet's edges: SIGTERM stops every portal's run and starts no other; a token refused
on --check-tokens; enqueue and worker refusing a fleet without a broker; how a worker decides
to try a portal again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from bulk_onboard.cli.progress import LogProgress
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.outcome import EXIT_STOPPED, Outcome, fleet_exit_code
from bulk_onboard.fleet.prepare import prepare
from bulk_onboard.fleet.runner import run_fleet
from bulk_onboard.fleet.store import FleetStore
from bulk_onboard.fleet.worker import retry_in
from bulk_onboard.sandbox import Sandbox, SandboxConfig
from tests.fleet.conftest import write_fleet
from tests.fleet.test_fleet_run import in_thread
from tests.helpers import assert_clean, assert_sample_onboarded_once, seeded_sandbox


async def test_sigterm_stops_the_runs_in_flight_and_the_next_run_resumes_them(
    tmp_path: Path,
) -> None:
    config = SandboxConfig(db=":memory:", latency_ms=30)
    async with seeded_sandbox(config) as one, seeded_sandbox(config) as two:
        path = write_fleet(tmp_path, {"acme": one, "globex": two}, fleet="concurrency = 1")
        path.write_text(path.read_text().replace("concurrency = 3\n", ""))
        fleet = read_fleet(path)
        assert fleet.concurrency == 1
        prepared = [prepare(fleet, p, {}) for p in fleet.portals]

        async def terminate() -> None:
            await asyncio.sleep(0.5)
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(0.05)
            os.kill(os.getpid(), signal.SIGTERM)  # a second one cancels the rows in flight

        outcomes, _ = await asyncio.gather(
            run_fleet(fleet, prepared, env={}, progress=LogProgress), terminate()
        )
        first, second = outcomes
        assert (first.state, first.reason) == ("stopped", "signal SIGTERM")
        assert first.statuses.get("interrupted", 0) > 0
        assert (second.state, second.run_id) == ("stopped", None)
        assert second.reason == "not started: the fleet was stopped"
        assert fleet_exit_code(outcomes) == EXIT_STOPPED
        await assert_clean(one)
        # the portal's next run goes on from the stopped run's journal
        (resumed,) = await run_fleet(fleet, prepared[:1], env={}, progress=LogProgress)
        await assert_sample_onboarded_once(one)
    assert (resumed.state, resumed.run_id, resumed.resumed) == ("done", first.run_id, True)
    summary = json.loads((tmp_path / "reports/acme" / first.run_id / "summary.json").read_text())
    assert summary["resumed"] is True
    assert sorted(p.name for p in (tmp_path / "reports/acme").iterdir() if p.is_dir()) == [
        first.run_id
    ]


async def test_a_refused_token_on_check_tokens(
    tmp_path: Path, three_portals: dict[str, Sandbox]
) -> None:
    path = write_fleet(tmp_path, three_portals)
    (tmp_path / "tokens" / "globex.token").write_text("sk-" + "0" * 48)
    result = await in_thread("validate", str(path), "--check-tokens")
    assert result.exit_code == 2, result.output
    assert "globex: token refused or portal unusable: " in result.output
    assert "acme: token accepted" in result.output
    assert result.output.endswith("3 portals, 1 with problems\n")


async def test_enqueue_and_worker_need_a_broker_and_a_date(
    tmp_path: Path, three_portals: dict[str, Sandbox], redis_url: str
) -> None:
    path = write_fleet(tmp_path, three_portals)
    for command in ("enqueue", "worker"):
        result = await in_thread(command, str(path))
        assert result.exit_code == 2
        assert "[fleet] broker must be a redis://… address" in result.output
    path = write_fleet(
        tmp_path, three_portals, fleet=f'state = "{redis_url}"\nbroker = "{redis_url}"'
    )
    result = await in_thread("enqueue", str(path), "--night", "tonight")
    assert result.exit_code == 2
    assert "--night 'tonight' is not a date; give it as YYYY-MM-DD" in result.output


def test_a_worker_waits_for_a_held_lease_and_tries_a_failure_max_attempts_times(
    tmp_path: Path, redis_url: str
) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(
        f'[fleet]\nstate = "{redis_url}"\nbroker = "{redis_url}"\nmax_attempts = 3\n'
        f'lease_seconds = 20\n[defaults]\ntoken = "env:T"\ninput = "x.csv"\n'
        f'[[portal]]\nid = "acme"\nurl = "https://acme.example.com"\n'
    )
    fleet = read_fleet(path)
    night = "2026-12-06"
    held = Outcome("acme", "https://acme.example.com", "skipped", reason="held")
    assert [retry_in(fleet, held, night) for _ in range(4)] == [20, 20, 20, 20]
    failed = Outcome("acme", "https://acme.example.com", "failed", verdict="portal_unreachable")
    assert [retry_in(fleet, failed, night) for _ in range(3)] == [60.0, 120.0, None]
    assert FleetStore(fleet).night_of(night, "acme") == failed.as_dict()
    done = Outcome("acme", "https://acme.example.com", "done", verdict="ok")
    assert retry_in(fleet, done, night) is None
