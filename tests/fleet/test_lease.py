"""The portal lease in a real Redis: one holder; renewed off the run's loop while the run
lives; lost (taken over or expired) it stops the run; a portal whose lease another runner
holds is skipped by `fleet run`, which says so."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from bulk_onboard.cli.progress import LogProgress
from bulk_onboard.errors import RunLocked
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.lease import Lease
from bulk_onboard.fleet.prepare import prepare
from bulk_onboard.fleet.runner import run_portal
from bulk_onboard.fleet.store import FleetStore
from bulk_onboard.sandbox import Sandbox, SandboxConfig
from tests.fleet.conftest import write_fleet
from tests.fleet.test_fleet_run import in_thread
from tests.helpers import ROOT, admin, assert_clean, assert_sample_onboarded_once, seeded_sandbox


def _key() -> str:
    return f"bulk-onboard:test-{secrets.token_hex(6)}:lease:acme"


def test_one_holder_renewed_past_its_time_and_released(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    key = _key()
    lost: list[str] = []
    # a second of lease, renewed ten times a second: a busy machine may hold the renewing
    # thread back for a few tenths, never for the whole second
    with Lease(client, key, 1.0, lost.append, renew_every=0.1) as lease:
        with pytest.raises(RunLocked, match=f"held by {lease.holder}"):
            Lease(client, key, 1.0, lost.append).__enter__()
        time.sleep(2.2)  # more than twice its time: renewed meanwhile
        assert client.get(key) == lease.holder.encode()
    assert client.get(key) is None and lost == []


def test_a_lease_taken_over_is_told_lost_at_the_next_renewal(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    key = _key()
    told = threading.Event()
    reasons: list[str] = []

    def lost(reason: str) -> None:
        reasons.append(reason)
        told.set()

    with Lease(client, key, 5, lost, renew_every=0.1):
        client.set(key, "another-runner")
        assert told.wait(2)
        assert reasons == ["the lease was taken over or expired"]
    assert client.get(key) == b"another-runner"  # not released: it is not ours
    client.delete(key)


async def test_a_run_that_loses_its_lease_stops_and_writes_no_more(
    tmp_path: Path, redis_url: str
) -> None:
    async with seeded_sandbox(SandboxConfig(db=":memory:", latency_ms=30)) as sb:
        await _lose_the_lease(tmp_path, sb, redis_url)


async def _lose_the_lease(tmp_path: Path, sb: Sandbox, redis_url: str) -> None:
    path = write_fleet(tmp_path, {"acme": sb}, fleet=f'state = "{redis_url}"\nlease_seconds = 5')
    fleet = read_fleet(path)
    store = FleetStore(fleet)
    prepared = prepare(fleet, fleet.portals[0], {})

    async def take_over() -> None:
        key = store.lease_key("acme")
        for _ in range(200):
            await asyncio.sleep(0.02)
            received = await admin(sb, "GET", "/sandbox/requests")
            if received["total"] > 40 and store.client.get(key):
                store.client.set(key, "another-runner")
                return

    outcome, _ = await asyncio.gather(
        run_portal(fleet, prepared, env={}, progress=LogProgress(), store=store, renew_every=0.05),
        take_over(),
    )
    assert (outcome.state, outcome.verdict) == ("stopped", "stopped"), outcome
    assert outcome.reason == "lease lost: the lease was taken over or expired"
    assert outcome.statuses.get("interrupted", 0) > 0
    settled = (await admin(sb, "GET", "/sandbox/requests"))["total"]
    await asyncio.sleep(0.3)
    assert (await admin(sb, "GET", "/sandbox/requests"))["total"] == settled
    await assert_clean(sb)


async def test_fleet_run_skips_a_portal_another_runner_holds(
    tmp_path: Path, three_portals: dict[str, Sandbox], redis_url: str
) -> None:
    path = write_fleet(tmp_path, three_portals, fleet=f'state = "{redis_url}"')
    store = FleetStore(read_fleet(path))
    store.client.set(store.lease_key("globex"), "worker-2:4242:abcd", ex=60)
    result = await in_thread("run", str(path))
    assert result.exit_code == 0, result.output
    assert "globex: skipped; another run holds the portal: the portal's lease" in result.output
    assert "held by worker-2:4242:abcd" in result.output
    assert (await admin(three_portals["globex"], "GET", "/sandbox/requests"))["total"] == 0
    for name in ("acme", "initech"):
        outcome = json.loads((tmp_path / "reports" / name / "fleet-outcome.json").read_text())
        assert outcome["state"] == "done"
        assert store.client.get(store.lease_key(name)) is None  # released


async def test_two_fleet_runs_of_one_file_at_once_run_each_portal_once(
    tmp_path: Path, three_portals: dict[str, Sandbox], redis_url: str
) -> None:
    path = write_fleet(tmp_path, three_portals, fleet=f'state = "{redis_url}"')
    command = (sys.executable, "-m", "bulk_onboard", "fleet", "run", str(path))
    runs = [
        await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
        for _ in range(2)
    ]
    said = "".join([(await run.communicate())[0].decode() for run in runs])
    for name, sb in three_portals.items():
        assert said.count(f"{name}: done (ok)") == 1, said
        assert said.count(f"{name}: skipped; another run holds the portal") <= 1, said
        await assert_sample_onboarded_once(sb)
        outcome = json.loads((tmp_path / "reports" / name / "fleet-outcome.json").read_text())
        assert outcome["state"] == "done"  # the run that skipped it did not write over it
    assert "skipped; another run holds the portal" in said  # they did meet
