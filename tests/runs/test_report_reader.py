"""Reading a report back for `retry`: hand edits that break it are named, never a traceback."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bulk_onboard.errors import InputError
from bulk_onboard.model.records import RowKind
from bulk_onboard.runs.report_reader import read_report

HEADER = ["file", "sheet", "line", "kind", "status", "error", "email"]


def _report(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "report.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(["users.csv", "", "2", kind, "failed", "x", "ana@example.com"])
    return path


def test_the_kind_column_reads_back_as_a_row_kind(tmp_path: Path) -> None:
    [row] = read_report(_report(tmp_path, "user"))
    assert row.kind is RowKind.USER and row.to_retry


@pytest.mark.parametrize("kind", ["", "person", "clients and users"])
def test_a_changed_kind_cell_is_named_in_one_sentence(tmp_path: Path, kind: str) -> None:
    with pytest.raises(InputError, match=r"report\.csv, line 2: the file, line, kind or status"):
        read_report(_report(tmp_path, kind))
