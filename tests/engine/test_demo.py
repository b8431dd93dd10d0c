"""`bulk-onboard demo`, the README's main command, as a newcomer runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

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
