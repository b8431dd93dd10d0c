"""A sandbox and runs of `bulk-onboard` in their own processes, as a user starts them: killed,
interrupted and run again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from asyncio.subprocess import DEVNULL, PIPE, Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.helpers import MANAGERS, SAMPLES, assert_sample_onboarded_once, get_json


@asynccontextmanager
async def sandbox_process(db: Path, token: str, latency_ms: int = 20) -> AsyncIterator[str]:
    """A sandbox in its own process (as a user would start it); yields its URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bulk_onboard",
        "sandbox",
        "--db",
        str(db),
        "--token",
        token,
        "--latency-ms",
        str(latency_ms),
        "--rate-limit",
        "off",
        "--stop-after",
        "120",
        stdout=PIPE,
    )
    try:
        assert process.stdout is not None
        url = ""
        while not url:
            line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
            assert line, "the sandbox exited before printing its URL"
            if "http://127.0.0.1:" in line:
                url = line[line.index("http://") :].split()[0]
        async with aiohttp.ClientSession() as http:
            await http.post(f"{url}/sandbox/people", json=MANAGERS)
        yield url
    finally:
        process.terminate()
        await process.wait()


@asynccontextmanager
async def portal_process(tmp_path: Path, token: str) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """A sandbox in its own process on tmp_path/portal.db, accepting `token`: its URL, and the
    environment of a run against it."""
    async with sandbox_process(tmp_path / "portal.db", token) as url:
        yield url, {**os.environ, "DOCSPACE_TOKEN": token, "DOCSPACE_URL": url}


async def until_rooms(url: str, rooms: int, run: Process) -> None:
    """Wait until the run has created some rooms (the Templates room counts too)."""
    for _ in range(400):
        if (await get_json(f"{url}/sandbox/audit"))["counts"]["rooms"] >= rooms:
            return
        assert run.returncode is None, f"the run ended early with exit code {run.returncode}"
        await asyncio.sleep(0.05)
    raise AssertionError("the run created no rooms within 20 s")


def run_args(tmp_path: Path, *args: str, command: str = "run") -> list[str]:
    """`bulk-onboard run` (or another command) in its own process; by default on the sample
    workbook."""
    given = list(args) or [str(SAMPLES / "onboarding.xlsx")]
    reports = ["--report-dir", str(tmp_path / "reports"), "--no-progress", "--rate", "150"]
    return [sys.executable, "-m", "bulk_onboard", command, *given, *reports]


async def start_run(
    tmp_path: Path, env: dict[str, str], *args: str, stdout: int = PIPE, stderr: int = DEVNULL
) -> Process:
    """`bulk-onboard run` (see `run_args`) started in its own process."""
    return await asyncio.create_subprocess_exec(
        *run_args(tmp_path, *args), env=env, stdout=stdout, stderr=stderr
    )


async def interrupt_run(
    url: str, env: dict[str, str], tmp_path: Path, timeout: float
) -> tuple[int | None, str, str]:
    """A run on the sample, sent Ctrl-C (SIGINT) once it has made some rooms: its exit code,
    output and log once it has ended (within `timeout` seconds)."""
    run = await start_run(tmp_path, env, stderr=PIPE)
    await until_rooms(url, 4, run)
    run.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(run.communicate(), timeout)
    return run.returncode, out.decode(), err.decode()


async def finish_run(url: str, env: dict[str, str], tmp_path: Path, *args: str) -> None:
    """The sample run again (or resumed, with `--resume ID` as `args`) to its end: exit code
    0, and every room, folder, file, link and mail of the sample in the portal once."""
    run = await start_run(tmp_path, env, *args)
    out, _ = await asyncio.wait_for(run.communicate(), 120)
    assert run.returncode == 0, out.decode()
    await assert_sample_onboarded_once(url)
