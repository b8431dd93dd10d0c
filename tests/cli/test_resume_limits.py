"""`run --resume` keeps the run's own --rate and --concurrency unless new ones are given."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bulk_onboard.cli.resume_limits import run_limits
from bulk_onboard.runs.history import past_runs
from bulk_onboard.sandbox import SandboxConfig
from tests.helpers import SAMPLES, invoke, seeded_sandbox

pytestmark = pytest.mark.e2e  # whole runs against the sandbox


def _limits(run_dir: Path) -> tuple[object, object]:
    limits = json.loads((run_dir / "summary.json").read_text())["limits"]
    return limits["requests_per_second"], limits["concurrency"]


async def test_a_resumed_run_keeps_its_rate_and_concurrency(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    config = SandboxConfig(db=":memory:", rate_limit=True, daily_write_limit=20)
    async with seeded_sandbox(config) as sb:
        sheet = str(SAMPLES / "clients.csv")
        first = await asyncio.to_thread(
            invoke, sb, reports, "run", sheet, "--rate", "40", "--concurrency", "3"
        )
        assert first.exit_code == 5, first.output  # deferred: the day's writes are spent
        (run,) = past_runs(reports)
        assert _limits(run.path) == (40, 3)

        again = await asyncio.to_thread(invoke, sb, reports, "run", "--resume", run.run_id)
        assert "resuming with the run's own --rate 40, --concurrency 3" in again.stderr
        assert _limits(run.path) == (40, 3)

        # a limit given on the command line wins; the other is kept
        again = await asyncio.to_thread(
            invoke, sb, reports, "run", "--resume", run.run_id, "--concurrency", "5"
        )
        assert "resuming with the run's own --rate 40\n" in again.stderr
        assert _limits(run.path) == (40, 5)


def test_a_run_without_summary_resumes_with_the_defaults(tmp_path: Path) -> None:
    assert run_limits(tmp_path) == {}
    (tmp_path / "summary.json").write_text('{"limits": {"requests_per_second": null}}')
    assert run_limits(tmp_path) == {}
