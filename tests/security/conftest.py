"""Helpers for the security checks: a sandbox portal in this process, `bulk-onboard run` in a
child process (its JSON log is its stdout), and everything a run leaves behind, as text."""

from __future__ import annotations

import asyncio
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT


@dataclass
class Ran:
    exit_code: int
    stdout: str  # the JSON log
    stderr: str  # what is said for people


async def run_tool(
    url: str, token: str, report_dir: Path, *files: Path, timeout: float = 90, command: str = "run"
) -> Ran:
    """`bulk-onboard run FILES --log-format json` in a child process, as a scheduler runs it
    (or another command: `command="undo"` with the run folder and --yes as the files)."""
    env = {**os.environ, "DOCSPACE_URL": url, "DOCSPACE_TOKEN": token}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bulk_onboard",
        command,
        *map(str, files),
        "--report-dir",
        str(report_dir),
        "--no-progress",
        "--log-format",
        "json",
        "--rate",
        "500",  # the sandbox's limiter is off: no need to wait for 24 a second
        "--request-timeout",
        "1",  # after a write without an answer, look for its effect for 1 s, not 60
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def artefacts(report_dir: Path) -> dict[str, str]:
    """Every file a run wrote, as text; a workbook as the text of every part inside it."""
    texts: dict[str, str] = {}
    for path in sorted(report_dir.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        # by file name; a second file of that name (undo's report.csv) by its path
        name = path.name if path.name not in texts else str(path.relative_to(report_dir))
        if data.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    texts[f"{name}:{member}"] = archive.read(member).decode(errors="replace")
        else:
            texts[name] = data.decode("utf-8", errors="replace")
    return texts


from tests.fleet.conftest import three_portals  # noqa: E402, F401  (fixture)
