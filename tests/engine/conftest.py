"""Helpers for engine tests: a sandbox in its own process, and inputs of any size. The
sandbox fixture and the shared helpers are in tests/conftest.py and tests/helpers.py."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from bulk_onboard.cli.demo import EXISTING_MANAGERS
from tests.helpers import MANAGERS, SAMPLES, get_json


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
        stdout=asyncio.subprocess.PIPE,
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


async def until_rooms(url: str, rooms: int, run: asyncio.subprocess.Process) -> None:
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


def write_population(folder: Path, clients: int, people: int) -> tuple[Path, Path]:
    """A clients.csv and users.csv of the given sizes, shaped like the sample data: people
    with and without names, most of them joining a client's room."""
    managers = [m["email"] for m in EXISTING_MANAGERS]
    folder.mkdir(parents=True, exist_ok=True)
    clients_csv, users_csv = folder / "clients.csv", folder / "users.csv"
    lines = ["client_id,client_name,client_email,manager_email"]
    for n in range(clients):
        lines.append(
            f"K-{n:05d},Company {n:05d},contact{n}@company{n}.example.com,{managers[n % 4]}"
        )
    clients_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["email,first_name,last_name,room,access"]
    for n in range(people):
        named = n % 5 != 0
        first, last = ("Ana", f"Person-{chr(65 + n % 26)}") if named else ("", "")
        room = f"K-{n % clients:05d}" if n % 7 else ""
        access = "editing" if room else ""
        lines.append(f"person{n}@people.example.org,{first},{last},{room},{access}")
    users_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return clients_csv, users_csv
