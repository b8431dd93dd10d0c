"""An in-process sandbox portal, and `bulk-onboard` invoked as a user would, in a worker thread
(the command runs its own event loop) so the sandbox keeps answering meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

CASES = Path(__file__).resolve().parents[1] / "cases"

# The account managers the case files name, as the company's portal has them.
MANAGERS = [
    {"email": f"{name}@northwind.example", "type": kind}
    for name, kind in (("maria", 1), ("kenji", 1), ("amara", 3), ("lukas", 1))
]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with start_sandbox(SandboxConfig(db=":memory:")) as sb:
        await admin(sb, "POST", "/sandbox/people", MANAGERS)
        yield sb


async def admin(sb: Sandbox, method: str, path: str, body: Any = None) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{sb.url}{path}", json=body) as reply,
    ):
        assert reply.status == 200, await reply.text()
        return await reply.json()


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _invoke(args: list[str], env: dict[str, str]) -> Outcome:
    result = CliRunner().invoke(main, args, env=env)
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr, exception)


async def validate(*files: Path) -> Outcome:
    return await asyncio.to_thread(_invoke, ["validate", *map(str, files)], {})


async def run(sb: Sandbox, report_dir: Path, *files: Path) -> Outcome:
    args = [
        "run",
        *map(str, files),
        "--report-dir",
        str(report_dir),
        "--rate",
        "500",
        "--no-progress",
        "--log-format",
        "json",
    ]
    env = {"DOCSPACE_URL": sb.url, "DOCSPACE_TOKEN": sb.token}
    return await asyncio.to_thread(_invoke, args, env)
