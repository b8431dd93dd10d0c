"""Reliability under weather: fault mixes on a few hundred rows, random kills, then audits.

After each scenario the sandbox is audited: no room, folder, file, share, link or mail twice,
and every row of the input accounted for as onboarded.
"""

from __future__ import annotations

import asyncio
import csv
import random
import signal
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.demo import EXISTING_MANAGERS
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import SandboxConfig, start_sandbox
from tests.engine.conftest import write_population
from tests.helpers import admin, assert_clean, get_json, settings_for
from tests.processes import portal_process, run_args, until_rooms

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]

CLIENTS, PEOPLE = 80, 220  # 300 rows


async def _audit(url: str) -> None:
    audit = await assert_clean(url)
    counts = audit["counts"]
    assert (counts["rooms"], counts["folders"], counts["files"], counts["links"]) == (
        1 + CLIENTS,
        3 * CLIENTS,
        2 + 2 * CLIENTS,
        CLIENTS,
    )
    outbox = await get_json(f"{url}/sandbox/outbox")
    invited = [
        m["to"]
        for m in outbox["mails"]
        if m["kind"] in ("activation", "invitation", "room_invitation")
    ]
    assert len(invited) == len(set(invited)) == CLIENTS + PEOPLE


@pytest.mark.parametrize(
    "mix",
    [
        {"ambiguous": 0.06, "5xx": 0.04, "drop": 0.02},
        {"ambiguous": 0.10, "5xx": 0.0, "drop": 0.0},
    ],
    ids=["mixed", "ambiguous-only"],
)
async def test_fault_mix_with_429_storms_and_latency_spikes(
    tmp_path: Path, mix: dict[str, float]
) -> None:
    config = SandboxConfig(
        fault_ambiguous=mix["ambiguous"], fault_5xx=mix["5xx"], fault_drop=mix["drop"], seed=7
    )
    async with start_sandbox(config) as sb:
        await admin(sb, "POST", "/sandbox/people", EXISTING_MANAGERS)
        script = [
            {"fault": "429", "method": "POST", "times": 6, "retry_after": 1, "skip": 40},
            {"fault": "429", "method": "GET", "times": 4, "skip": 5},
            {"fault": "delay", "path": "/api/2.0/files/rooms", "times": 5, "ms": 400},
            {"fault": "delay", "path": "/api/2.0/people", "times": 5, "ms": 400},
        ]
        await admin(sb, "POST", "/sandbox/faults", {"script": script, "append": True})
        files = write_population(tmp_path / "in", CLIENTS, PEOPLE)
        intake = load_intake(list(files), load_playbook(None))
        policy = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.2, max_total_seconds=60)
        # The latency spikes are 0.4 s: a 0.7 s timeout still outlasts them, and a write
        # without an answer is looked for over 0.7 s instead of 1 s.
        reports = tmp_path / "reports"
        settings = replace(settings_for(sb, reports), retry=policy, request_timeout=0.7)
        outcome = await modes.start(settings, intake, progress=Progress(), stop=Stop())
        bad = [
            (r.row_key, r.failed_step, r.error)
            for r in outcome.results
            if r.status.value not in ("created", "updated")
        ]
        assert bad == []
        await _audit(sb.url)
        stats = outcome.document["requests"]
        assert stats["rate_limited"] >= 10 and stats["ambiguous_writes"] > 0
        requests = await admin(sb, "GET", "/sandbox/requests")
        assert sum(requests["faults"].values()) > 50


def _statuses(report: Path) -> list[str]:
    with report.open(encoding="utf-8-sig", newline="") as fh:
        return [row["status"] for row in csv.DictReader(fh)]


async def test_random_kills_then_resume_and_retry(tmp_path: Path) -> None:
    """Kill `run` at random points and resume it; kill a `retry` too and retry again."""
    rng = random.Random(20261122)
    token = "sk-" + "c0ffee12" * 4
    files = write_population(tmp_path / "in", CLIENTS, PEOPLE)
    async with portal_process(tmp_path, token) as (url, env):
        # A manager without an account makes some rows fail, to leave work for `retry`.
        clients = files[0].read_text().replace("lukas.novak@", "not.yet.there@", 3)
        files[0].write_text(clients)
        run_id = ""
        for _ in range(2):
            rooms = rng.randrange(4, CLIENTS - 10)
            args = (
                run_args(tmp_path, "--resume", run_id)
                if run_id
                else run_args(tmp_path, *map(str, files))
            )
            process = await asyncio.create_subprocess_exec(
                *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            await until_rooms(url, rooms, process)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            run_id = run_id or next(p.name for p in (tmp_path / "reports").iterdir() if p.is_dir())
        final = await asyncio.create_subprocess_exec(
            *run_args(tmp_path, "--resume", run_id),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert await final.wait() == 1  # the rows of the manager without an account failed
        report = tmp_path / "reports" / run_id / "report.csv"
        assert _statuses(report).count("failed") > 0

        async with aiohttp.ClientSession() as http:
            await http.post(
                f"{url}/sandbox/people",
                json=[{"email": "not.yet.there@northwind.example", "type": 1}],
            )
        retry_args = run_args(tmp_path, str(report), command="retry")
        first_retry = await asyncio.create_subprocess_exec(
            *retry_args,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.3 + rng.random())  # somewhere in the retry
        first_retry.send_signal(signal.SIGKILL)
        await first_retry.wait()
        second_retry = await asyncio.create_subprocess_exec(
            *retry_args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await asyncio.wait_for(second_retry.communicate(), 120)
        assert second_retry.returncode == 0, out.decode()
        await _audit(url)
