"""`fleet enqueue` and a real Celery worker (in this process, on the Redis broker) against
three sandbox portals: each portal queued once a night, onboarded exactly once; a task
delivered again after its night was done does nothing; a task message names the portal and
the night, never a token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.store import fleet_prefix
from bulk_onboard.fleet.worker import TASK, fleet_app, queue_of
from bulk_onboard.sandbox import Sandbox, SandboxConfig
from tests.fleet.conftest import write_fleet
from tests.fleet.test_fleet_run import in_thread, writes
from tests.helpers import ROOT, admin, assert_sample_onboarded_once, seeded_sandbox
from tests.security.test_token_secrecy import fragments

NIGHT = "2026-12-06"


async def _outcomes(reports: Path, names: list[str], seconds: float = 60) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        for name in names:
            path = reports / name / "fleet-outcome.json"
            if name not in found and path.is_file():
                found[name] = json.loads(path.read_text())
        if len(found) == len(names):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"the worker did not finish: {sorted(found)} of {names}")


async def test_a_worker_runs_each_queued_portal_once_and_a_second_delivery_does_nothing(
    tmp_path: Path, three_portals: dict[str, Sandbox], redis_url: str
) -> None:
    path = write_fleet(
        tmp_path, three_portals, fleet=f'state = "{redis_url}"\nbroker = "{redis_url}"'
    )
    fleet = read_fleet(path)
    queued = await in_thread("enqueue", str(path), "--night", NIGHT)
    assert queued.exit_code == 0, queued.output
    assert queued.output.splitlines() == [f"{n}: queued for {NIGHT}" for n in three_portals]
    again = await in_thread("enqueue", str(path), "--night", NIGHT)
    assert again.output.splitlines() == [f"{n}: already queued for {NIGHT}" for n in three_portals]

    client = redis.Redis.from_url(redis_url)
    messages = [m.decode() for m in client.lrange(queue_of(fleet), 0, -1)]
    assert len(messages) == 3  # queued once each, not twice
    for message in messages:
        assert json.loads(message)["headers"]["task"] == TASK
        for sb in three_portals.values():
            assert not any(piece in message for piece in fragments(sb.token))

    app = fleet_app(fleet)
    worker = start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30)
    await asyncio.to_thread(worker.__enter__)
    try:
        outcomes = await _outcomes(tmp_path / "reports", list(three_portals))
        for name, sb in three_portals.items():
            assert (outcomes[name]["state"], outcomes[name]["verdict"]) == ("done", "ok")
            await assert_sample_onboarded_once(sb)
            await admin(sb, "DELETE", "/sandbox/requests")
        # the same task delivered again (its worker lost before acknowledging it)
        ran: list[Any] = []
        done = threading.Event()

        def after(task_id: str, retval: Any, **_: Any) -> None:
            ran.append(retval)
            done.set()

        task_postrun.connect(after, weak=False)
        try:
            app.send_task(TASK, args=["acme", NIGHT])
            assert await asyncio.to_thread(done.wait, 30)
        finally:
            task_postrun.disconnect(after)
        assert ran[0]["state"] == "done" and ran[0]["run_id"] == outcomes["acme"]["run_id"]
        assert await writes(three_portals["acme"]) == {}
        assert (await admin(three_portals["acme"], "GET", "/sandbox/requests"))["total"] == 0
    finally:
        await asyncio.to_thread(worker.__exit__, None, None, None)
    assert client.llen(queue_of(fleet)) == 0
    # what the fleet keeps in the shared state: marks and each night's record, no token
    stored = {key: client.get(key) for key in client.keys(f"{fleet_prefix(fleet)}:*")}
    assert any(b":night:" in key for key in stored)
    for value in stored.values():
        for sb in three_portals.values():
            assert not any(piece.encode() in (value or b"") for piece in fragments(sb.token))
    client.delete(queue_of(fleet))


async def test_fleet_worker_command_runs_the_queue_and_stops_on_sigterm(
    tmp_path: Path, three_portals: dict[str, Sandbox], redis_url: str
) -> None:
    """`bulk-onboard fleet worker` in a process of its own (prefork: each portal's run in a
    worker process, in its own asyncio loop)."""
    portals = {name: three_portals[name] for name in ("acme", "globex")}
    path = write_fleet(tmp_path, portals, fleet=f'state = "{redis_url}"\nbroker = "{redis_url}"')
    worker = await _fleet_worker(path, 2, asyncio.subprocess.PIPE)
    try:
        queued = await in_thread("enqueue", str(path), "--night", NIGHT)
        assert queued.exit_code == 0, queued.output
        outcomes = await _outcomes(tmp_path / "reports", list(portals), seconds=90)
        for name, sb in portals.items():
            assert outcomes[name]["state"] == "done", outcomes[name]
            await assert_sample_onboarded_once(sb)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(worker.communicate(), 60)
    assert worker.returncode == 0, err.decode()[-2000:]
    for sb in portals.values():
        for piece in fragments(sb.token):
            assert piece not in out.decode() + err.decode()
    redis.Redis.from_url(redis_url).delete(queue_of(read_fleet(path)))


async def _worker_process(path: Path) -> asyncio.subprocess.Process:
    """A worker of one, output discarded, in its own process group: kill -9 takes its pool too."""
    return await _fleet_worker(path, 1, asyncio.subprocess.DEVNULL, start_new_session=True)


async def _fleet_worker(
    path: Path, concurrency: int, output: int, start_new_session: bool = False
) -> asyncio.subprocess.Process:
    """`bulk-onboard fleet worker PATH --concurrency N` in a process of its own."""
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bulk_onboard", "fleet", "worker", str(path)),
        *("--concurrency", str(concurrency)),
        cwd=ROOT,
        stdout=output,
        stderr=output,
        start_new_session=start_new_session,
    )


async def test_a_worker_killed_mid_night_the_portal_is_done_by_the_next_once(
    tmp_path: Path, redis_url: str
) -> None:
    config = SandboxConfig(db=":memory:", latency_ms=40)
    async with seeded_sandbox(config) as sb:
        path = write_fleet(
            tmp_path,
            {"acme": sb},
            fleet=f'state = "{redis_url}"\nbroker = "{redis_url}"\n'
            "visibility_timeout = 5\nlease_seconds = 5",
        )
        first = await _worker_process(path)
        killed_at = None
        try:
            queued = await in_thread("enqueue", str(path), "--night", NIGHT)
            assert queued.exit_code == 0, queued.output
            for _ in range(600):
                await asyncio.sleep(0.05)
                if (await admin(sb, "GET", "/sandbox/requests"))["total"] > 60:
                    os.killpg(first.pid, signal.SIGKILL)
                    killed_at = time.monotonic()
                    break
            assert killed_at is not None, "the worker did not start the portal's run"
            await first.wait()
            sent = (await admin(sb, "GET", "/sandbox/requests"))["total"]
            assert not (tmp_path / "reports" / "acme" / "fleet-outcome.json").exists()
            second = await _worker_process(path)
            try:
                outcomes = await _outcomes(tmp_path / "reports", ["acme"], seconds=90)
                back_after = time.monotonic() - killed_at
            finally:
                second.send_signal(signal.SIGTERM)
                await asyncio.wait_for(second.wait(), 60)
        finally:
            if first.returncode is None:
                os.killpg(first.pid, signal.SIGKILL)
        assert outcomes["acme"]["state"] == "done", outcomes
        assert sent < (await admin(sb, "GET", "/sandbox/requests"))["total"]
        await assert_sample_onboarded_once(sb)  # nothing twice, nobody mailed twice
        # the next worker resumed the killed run from its journal, in its own folder
        folders = [p for p in (tmp_path / "reports" / "acme").iterdir() if p.is_dir()]
        assert [p.name for p in folders] == [outcomes["acme"]["run_id"]]
        assert json.loads((folders[0] / "summary.json").read_text())["resumed"] is True
        print(f"done by the next worker {back_after:.1f} s after the kill")
        assert back_after < 5 + 5 + 30  # visibility timeout, lease, one wait for the lease
    fleet = read_fleet(path)
    redis.Redis.from_url(redis_url).delete(queue_of(fleet))
