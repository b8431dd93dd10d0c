"""An in-process sandbox portal, and `bulk-onboard` invoked as a user would, in a worker thread
(the command runs its own event loop) so the sandbox keeps answering meanwhile."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox


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
