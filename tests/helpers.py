"""What many test suites need: the sandbox seeded with the company's account managers, its
admin endpoints, settings pointing at it, a command run against it, and the audit of "the
sample was onboarded once". A sandbox or a run in its own process: tests/processes.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from click.testing import CliRunner, Result

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.commands import main
from bulk_onboard.cli.demo import EXISTING_MANAGERS
from bulk_onboard.config import Settings, build_settings
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
CASES = ROOT / "tests" / "cases"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

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


class FakeClock:
    """Wall-clock seconds that move only when told to."""

    def __init__(self, start: float = 1_700_000_000.25) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def seeded_sandbox(config: SandboxConfig | None = None) -> AsyncIterator[Sandbox]:
    """An in-process sandbox on 127.0.0.1 with the managers in place."""
    async with start_sandbox(config or SandboxConfig(db=":memory:")) as sb:
        await admin(sb, "POST", "/sandbox/people", MANAGERS)
        yield sb


@asynccontextmanager
async def serving(
    handler: Handler, path: str = "/{tail:.*}", method: str = "*"
) -> AsyncIterator[str]:
    """A web server of its own on 127.0.0.1 answering `method` requests to `path` (by default
    every request) with `handler`; its URL."""
    app = web.Application()
    app.router.add_route(method, path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


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


def run(*args: str) -> Result:
    """`bulk-onboard ARGS` in this process, with no portal: for the commands that read files."""
    return CliRunner().invoke(main, list(args))


def invoke(sb: Sandbox, reports: Path, *args: str, token: str | None = None) -> Result:
    """`bulk-onboard ARGS` in this process against the sandbox (its URL and token, or `token`,
    in the environment), writing to `reports`, with no progress line; an exception raised by
    the command is raised, not turned into an exit code."""
    return CliRunner().invoke(
        main,
        [*args, "--report-dir", str(reports), "--no-progress"],
        env={"DOCSPACE_TOKEN": token or sb.token, "DOCSPACE_URL": sb.url},
        catch_exceptions=False,
    )


async def command(sb: Sandbox, reports: Path, *args: str) -> tuple[int, str]:
    """`invoke` in a thread, so that the sandbox keeps serving: the exit code and the output."""
    result = await asyncio.to_thread(invoke, sb, reports, *args)
    return result.exit_code, result.output


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
