"""A row's steps side by side, over real HTTP against a sandbox taking 60 ms a request: the
folders of one client row are created at once, once its room exists, and the run leaves what
a run of the same row one step at a time leaves (portal, report, journal); a rerun writes
nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.engine import step_runner
from bulk_onboard.engine.step_order import ready
from bulk_onboard.sandbox import SandboxConfig
from tests.engine.portal_checks import acme, cli, last_run, report_rows, writes
from tests.helpers import admin, assert_clean, seeded_sandbox

pytestmark = pytest.mark.e2e


def _one_at_a_time(*args: Any) -> tuple[Any, ...]:
    """`ready` as a run one step at a time sees it: the first ready step once none runs."""
    _steps, _needs, done, started = args
    return ready(*args)[:1] if started <= done else ()


async def _onboard(tmp_path: Path) -> dict[str, Any]:
    """Acme onboarded on a fresh sandbox taking 60 ms a request, then run again."""
    async with seeded_sandbox(SandboxConfig(latency_ms=60.0)) as sb:
        await admin(sb, "DELETE", "/sandbox/requests")
        reports = tmp_path / "reports"
        code, output = await cli(sb, reports, "run", str(acme(tmp_path)))
        assert code == 0, output
        peak = (await admin(sb, "GET", "/sandbox/requests"))["peakInflight"]["write"]
        audit = await assert_clean(sb)
        run = last_run(reports)
        journal = [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines()]
        await admin(sb, "DELETE", "/sandbox/requests")
        code, output = await cli(sb, reports, "run", str(acme(tmp_path)))
        assert code == 0, output
        return {
            "peak": peak,
            "counts": audit["counts"],
            "row": {k: _no_ids(v) for k, v in report_rows(run)["K-1"].items() if k != "duration_s"},
            "journal": sorted(_no_ids(f"{j.get('step')} {j.get('outcome')}") for j in journal),
            "rerun_writes": sum((await writes(sb)).values()),
        }


def _no_ids(text: str) -> str:
    """Ids and link keys differ from portal to portal."""
    return re.sub(r"\d+", "N", re.sub(r"/s/[\w-]+", "/s/KEY", text))


async def test_a_rows_folders_are_made_at_once_and_the_run_leaves_what_one_at_a_time_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    side_by_side = await _onboard(tmp_path / "side-by-side")
    monkeypatch.setattr(step_runner, "ready", _one_at_a_time)
    one_at_a_time = await _onboard(tmp_path / "one-at-a-time")
    assert side_by_side["peak"] > 1  # one row, several of its writes in flight
    assert one_at_a_time["peak"] == 1
    assert side_by_side["counts"]["folders"] == 3
    for what in ("counts", "row", "journal"):
        assert side_by_side[what] == one_at_a_time[what], what
    assert side_by_side["rerun_writes"] == one_at_a_time["rerun_writes"] == 0
