"""`bulk-onboard demo`, the README's main command, as a newcomer runs it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli import onboard
from bulk_onboard.cli.commands import main
from tests.helpers import SAMPLES

pytestmark = pytest.mark.e2e  # a whole run against the sandbox


def _demo(tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--input",
            str(SAMPLES / "onboarding.xlsx"),
            "--report-dir",
            str(tmp_path),
            "--latency-ms",
            "5",
            "--no-progress",
        ],
        env={"DOCSPACE_TOKEN": None, "DOCSPACE_URL": None},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


async def test_demo_onboards_the_sample_then_reruns_it_without_writing(tmp_path: Path) -> None:
    code, output = await asyncio.to_thread(_demo, tmp_path)
    assert code == 0, output
    assert "85 rows in" in output and ": 85 created" in output
    assert ": 85 unchanged" in output
    assert output.count("25 accepted for 25 clients (0 repeats), 0 refused or failed") == 2
    assert "duplicates in the portal: 0" in output
    assert len((tmp_path / "crm-records.jsonl").read_text().splitlines()) == 25
    runs = [p for p in tmp_path.iterdir() if (p / "report.xlsx").exists()]
    assert len(runs) == 2


def _demo_elsewhere(folder: Path) -> tuple[int, str]:
    """The demo as someone who installed bulk-onboard runs it: in their own folder, no --input."""
    here = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(
            main,
            ["demo", "--latency-ms", "5", "--no-progress"],
            env={"DOCSPACE_TOKEN": None, "DOCSPACE_URL": None},
            catch_exceptions=False,
        )
    finally:
        os.chdir(here)
    return result.exit_code, result.output


async def test_demo_outside_the_clone_finds_its_sample_workbook(tmp_path: Path) -> None:
    code, output = await asyncio.to_thread(_demo_elsewhere, tmp_path)
    assert code == 0, output
    assert ": 85 created" in output and ": 85 unchanged" in output
    assert (tmp_path / "reports").is_dir()


def test_the_packaged_sample_workbook_is_the_clone_s() -> None:
    packaged = Path(onboard.__file__).parent / "samples" / "onboarding.xlsx"
    assert packaged.read_bytes() == (SAMPLES / "onboarding.xlsx").read_bytes()
