"""A fleet portal's run killed with its machine (kill -9 of `fleet run`) is resumed on another
machine (its own reports and state folders, the same Redis) from the journal the shared state
kept: the run folder made again there, the killed run's steps taken as done, nothing created
twice, nobody mailed twice, and no token in what Redis kept."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
import redis

from bulk_onboard import config
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.store import FleetStore
from bulk_onboard.runs.report_reader import read_results
from bulk_onboard.sandbox import SandboxConfig
from bulk_onboard.state.run_store import journal_key, run_key, stored_lines
from tests.fleet.conftest import write_fleet
from tests.fleet.test_fleet_run import in_thread
from tests.helpers import ROOT, admin, assert_sample_onboarded_once, seeded_sandbox
from tests.security.test_token_secrecy import fragments


async def _killed_mid_run(path: Path, sb_url: str) -> int:
    """`fleet run PATH` in a process of its own, killed (-9) after 60 requests; how many the
    portal had then."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bulk_onboard", "fleet", "run", str(path)),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(600):
            await asyncio.sleep(0.02)
            sent = (await admin(sb_url, "GET", "/sandbox/requests"))["total"]
            if sent > 60:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
                return int(sent)
        raise AssertionError("the run did not start")
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)


async def test_a_run_killed_on_one_machine_is_resumed_on_another_from_the_shared_journal(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = redis.Redis.from_url(redis_url)
    async with seeded_sandbox(SandboxConfig(db=":memory:", latency_ms=40)) as sb:
        state = f'state = "{redis_url}"'
        one = write_fleet(tmp_path / "one", {"acme": sb}, fleet=state)
        two = write_fleet(tmp_path / "two", {"acme": sb}, fleet=state)
        await _killed_mid_run(one, sb.url)
        (folder,) = [p for p in (tmp_path / "one/reports/acme").iterdir() if p.is_dir()]
        run_id = folder.name
        kept = stored_lines(shared, sb.url, run_id)
        local = [line for line in folder.joinpath("journal.jsonl").read_bytes().split(b"\n")]
        assert kept and kept == [line for line in local if line][: len(kept)]  # in order
        stored = [shared.get(run_key(sb.url, run_id)), *kept]
        for piece in fragments(sb.token):
            assert not any(piece.encode() in value for value in stored if value)
        # the dead runner's lease in Redis lapses (5 s): here at once
        shared.delete(FleetStore(read_fleet(one)).lease_key("acme"))
        monkeypatch.setenv(config.STATE_DIR_ENV, str(tmp_path / "two-state"))
        ran = await in_thread("run", str(two))
        assert ran.exit_code == 0, ran.output
        await assert_sample_onboarded_once(sb)  # nothing twice, nobody mailed twice
    assert ran.output.startswith(f"acme: done (ok); run {run_id} (resumed): 85 rows:"), ran.output
    made = tmp_path / "two/reports/acme" / run_id
    assert json.loads((made / "run.json").read_text())["restored"]["lines"] == len(kept)
    assert (made / "journal.jsonl").read_bytes().split(b"\n")[: len(kept)] == kept
    # each row the killed run journalled is reported as made by this run, not found
    done_there = {json.loads(line)["row"] for line in kept}
    statuses = {r.row_key: r.status.value for r in read_results(made / "report.csv")}
    assert {statuses[row] for row in done_there} == {"created"}, statuses
    print(f"{len(kept)} of {len(local) - 1} lines in Redis at the kill; {ran.output.strip()}")
    # a run done leaves nothing to resume in the shared state
    assert not shared.exists(journal_key(sb.url, run_id), run_key(sb.url, run_id))
