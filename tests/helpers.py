"""What many test suites need: the sandbox seeded with the company's account managers, its
admin endpoints, settings pointing at it, the audit of "the sample was onboarded once", and a
sandbox or a run in its own process."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.demo import EXISTING_MANAGERS
from bulk_onboard.config import Settings, build_settings
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
CASES = ROOT / "tests" / "cases"

# The account managers the sample data and the case files name, as the company's portal has
# them: the sample's four (three room admins, one DocSpace admin) and the case files' short
# addresses.
MANAGERS: list[dict[str, Any]] = [
    *EXISTING_MANAGERS,
    *(
        {"email": f"{name}@northwind.example", "type": kind}
        for name, kind in (("maria", 1), ("kenji", 1), ("amara", 3), ("lukas", 1))
    ),
]

# What onboarding sample_data/onboarding.xlsx once leaves in the portal.
SAMPLE_COUNTS = {"rooms": 1 + 25, "folders": 25 * 3, "files": 2 + 25 * 2, "links": 25}
SAMPLE_INVITED = 85  # addresses mailed an activation or invitation, each once


@asynccontextmanager
async def seeded_sandbox(config: SandboxConfig | None = None) -> AsyncIterator[Sandbox]:
    """An in-process sandbox on 127.0.0.1 with the managers in place."""
    async with start_sandbox(config or SandboxConfig(db=":memory:")) as sb:
        await admin(sb, "POST", "/sandbox/people", MANAGERS)
        yield sb


async def admin(where: Sandbox | str, method: str, path: str, body: Any = None) -> Any:
    """Call a sandbox-only endpoint (of a Sandbox, or of a sandbox at a URL); its JSON."""
    url = where if isinstance(where, str) else where.url
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{url}{path}", json=body) as reply,
    ):
        assert reply.status == 200, await reply.text()
        return await reply.json()


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url) as reply:
        return await reply.json()


def settings_for(sb: Sandbox, report_dir: Path, rate: float = 2000.0, **options: Any) -> Settings:
    """Settings for the sandbox; its limiter is off unless a test turns it on, so the
    client's own throttle is raised too (a portal without a limiter allows that). A request
    may take 1 s, so a write without an answer is looked for over 1 s, not 60."""
    options.setdefault("request_timeout", 1.0)
    settings = build_settings(
        {"DOCSPACE_TOKEN": sb.token},
        portal=sb.url,
        report_dir=report_dir,
        retry=RetryPolicy.immediate(max_attempts=6),
        **options,
    )
    return replace(settings, requests_per_second=rate)


async def assert_clean(where: Sandbox | str) -> dict[str, Any]:
    """No room, folder, file, share, link or mail twice in the portal; the audit."""
    audit: dict[str, Any] = await admin(where, "GET", "/sandbox/audit")
    assert audit["clean"], audit["duplicates"]
    return audit


async def assert_sample_onboarded_once(where: Sandbox | str) -> None:
    """The sample workbook is in the portal exactly once: every room, folder, file and link
    once, and every new address mailed once."""
    audit = await assert_clean(where)
    for what, count in SAMPLE_COUNTS.items():
        assert audit["counts"][what] == count, (what, audit["counts"])
    outbox = await admin(where, "GET", "/sandbox/outbox")
    invited = [
        m["to"]
        for m in outbox["mails"]
        if m["kind"] in ("activation", "invitation", "room_invitation")
    ]
    assert len(invited) == len(set(invited)) == SAMPLE_INVITED, invited


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
