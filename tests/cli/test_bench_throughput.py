"""bench/throughput.py's per-phase figures come from the tool's JSON log: a run of the bench's
own row code on a tiny onboarding gives every phase a time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """bench/ importable as the bench runs it (its modules import each other by name)."""
    monkeypatch.syspath_prepend(str(BENCH))
    yield
    for name in ("harness", "throughput", "baseline"):
        sys.modules.pop(name, None)


@pytest.mark.e2e
@pytest.mark.usefixtures("bench_modules")
def test_a_bench_row_has_its_phase_breakdown(tmp_path: Path) -> None:
    import harness
    import throughput

    data = harness.make_onboarding(tmp_path / "input", 2, 6)
    row = throughput.one_run(data, tmp_path, "free", ["--rate-limit", "off"], None, [], latency=())
    assert row["failed_rows"] == 0, row["problems"]
    phases = row["phases"]
    assert set(phases) >= {"people_done_s", "clients_done_s", "after_rows_s"}, phases
    assert 0 < phases["people_done_s"] <= row["run_s"] + 1, phases
    assert 0 < phases["clients_done_s"] <= row["run_s"] + 1, phases
    assert throughput.phase_line(row).startswith("phases: people done ")
