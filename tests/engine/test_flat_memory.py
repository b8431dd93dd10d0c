"""A run holds no finished row: what it keeps per row, once every row is done and just
before the report is put in order, is a few hundred bytes (the row's place in report.csv,
its key, a client's room id), not its result.

Measured with tracemalloc over the blocks that the run's own bookkeeping allocated (the
phases, the rows, the composition root, the step runner, the report and journal writers) and
still holds. The input (read, checked and planned before the run), the portal's indexes and
the actions' caches (sized by the portal, not the rows) are not counted. At 525 rows the
stream holds 654 bytes a row (about 330 a row and 170 KB of buffers), holding every result
1,290 (measured by keeping them): the ceiling lies between.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from bulk_onboard.config import build_settings
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.rows import Phase, Rows
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress
from bulk_onboard.runs.report_stream import ReportStream
from tests.engine.conftest import write_population
from tests.helpers import get_json
from tests.processes import sandbox_process

pytestmark = pytest.mark.e2e  # a whole run against the sandbox

CLIENTS, PEOPLE = 25, 500
CEILING_PER_ROW = 1000  # bytes
JOINERS = sum(1 for n in range(PEOPLE) if n % 7)  # write_population: who joins a room
# in flight at once: 16 rows, or 16 membership groups (one per room here, 18 joiners at most)
MOST_STATES_ALIVE = 16 * -(-JOINERS // CLIENTS) + 16  # 304; holding every joiner: 428+
BOOKKEEPING = (
    "/bulk_onboard/engine/phases.py",
    "/bulk_onboard/engine/rows.py",
    "/bulk_onboard/engine/memberships.py",
    "/bulk_onboard/engine/outage.py",
    "/bulk_onboard/engine/root.py",
    "/bulk_onboard/engine/row.py",
    "/bulk_onboard/engine/step_runner.py",
    "/bulk_onboard/engine/exactly_once.py",
    "/bulk_onboard/runs/",
)


def _bookkeeping(trace: tracemalloc.Traceback) -> bool:
    name = trace[0].filename.replace("\\", "/")
    return any(part in name for part in BOOKKEEPING)


async def test_a_run_keeps_no_result_of_a_finished_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_population(tmp_path / "in", CLIENTS, PEOPLE)
    intake = load_intake(list(files), load_playbook(None))
    assert not intake.invalid
    held: list[int] = []
    close = ReportStream.close

    def measured_close(stream: ReportStream) -> None:
        if not stream.closed:
            snapshot = tracemalloc.take_snapshot()
            stats = snapshot.statistics("filename")
            held.append(sum(s.size for s in stats if _bookkeeping(s.traceback)))
        close(stream)

    monkeypatch.setattr(ReportStream, "close", measured_close)
    alive: list[int] = []  # the rows with a state, each time a phase takes one up
    take = Rows.state

    def counted_state(rows: Rows, plan: object) -> object:
        state = take(rows, plan)  # type: ignore[arg-type]
        alive.append(rows.count(Phase.ACTIVE))
        return state

    monkeypatch.setattr(Rows, "state", counted_state)
    token = "sk-" + "7f3e5d1c" * 4
    async with sandbox_process(tmp_path / "portal.db", token, latency_ms=0) as url:
        settings = build_settings(
            {"DOCSPACE_TOKEN": token}, portal=url, report_dir=tmp_path / "reports"
        )
        settings = replace(
            settings, requests_per_second=2000.0, concurrency=16
        )  # its limiter is off
        tracemalloc.start()
        try:
            outcome = await modes.start(settings, intake, progress=NoProgress(), stop=Stop())
        finally:
            tracemalloc.stop()
        audit = await get_json(f"{url}/sandbox/audit")
    assert outcome.statuses["created"] == CLIENTS + PEOPLE, outcome.statuses
    assert audit["counts"]["rooms"] == 1 + CLIENTS
    (at_the_end,) = held
    per_row = at_the_end / (CLIENTS + PEOPLE)
    assert per_row < CEILING_PER_ROW, f"{per_row:.0f} bytes a row held at the end of the run"
    # The people who join rooms wait for the memberships phase parked, not as states: the
    # states alive at once are those in flight, not every joiner of the file.
    assert max(alive) <= MOST_STATES_ALIVE, f"{max(alive)} row states alive at once"
