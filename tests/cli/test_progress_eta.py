"""The progress line's ETA is sensible from the start: user rows finish only after the
memberships, late in a run, so the people phase counts as work done."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from bulk_onboard.cli.progress import LogProgress, eta_text
from bulk_onboard.runs.report import Status
from tests.helpers import FakeClock


def test_the_eta_counts_the_people_phase_before_any_row_is_finished() -> None:
    clock = FakeClock(0.0)
    progress = LogProgress(every=5.0, clock=clock)
    progress.start(10, extra_work=6)  # 10 rows, 6 of them users
    with capture_logs() as logs:
        for _ in range(6):  # the people phase: one person a second, no row finished yet
            clock.now += 1.0
            progress.work_done()
        clock.now += 4.0
        progress.row_done(Status.CREATED)  # 7 of 16 units in 10 s
    (line,) = [e for e in logs if e["event"] == "progress"]
    assert line["done"] == 1 and line["total"] == 10
    assert line["eta_seconds"] == pytest.approx(9 / 0.7, rel=0.01)
    assert (line["failed"], line["invalid"], line["interrupted"], line["deferred"]) == (0, 0, 0, 0)


def test_eta_text() -> None:
    assert eta_text(None) == "-:--:--"
    assert eta_text(3725.4) == "1:02:05"
