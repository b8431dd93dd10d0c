"""The locked-job helper every run mode shares: the job is made only once the report
folder's lock and the portal's are both held; a run holding either refuses the second."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.config import Settings, build_settings
from bulk_onboard.engine.modes import locked_run, portal_locked
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import Job
from bulk_onboard.errors import RunLocked
from bulk_onboard.runs.folder import report_dir_lock
from bulk_onboard.runs.progress import NoProgress


def _settings(tmp_path: Path) -> Settings:
    return build_settings(
        {"DOCSPACE_TOKEN": "sk-modes"},
        portal="https://portal.example.com",
        report_dir=tmp_path / "reports",
        state_dir=tmp_path / "state",
    )


def _never() -> Job:
    raise AssertionError("the job was made without both locks")


async def _second_run(settings: Settings, reports: Path) -> None:
    """A job named "second" under `reports` that would do nothing once begun."""
    await locked_run(
        settings, reports / "second", "second", _never, {"progress": NoProgress(), "stop": Stop()}
    )


async def test_a_run_holding_the_portal_keeps_the_job_from_being_made(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    reports = Path(settings.report_dir)
    holder = portal_locked(settings, "20261201-070000-000ab", tmp_path / "elsewhere" / "run")
    with holder, pytest.raises(RunLocked, match="20261201-070000-000ab"):
        await _second_run(settings, reports)
    assert not (reports / "second").exists()


async def test_a_run_holding_the_report_folder_keeps_the_job_from_being_made(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    reports = Path(settings.report_dir)
    with report_dir_lock(reports), pytest.raises(RunLocked):
        await _second_run(settings, reports)
    assert not (reports / "second").exists()
