"""The report: every input column and line, what happened, nothing Excel would execute."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl

from bulk_onboard.model.cells import neutralise
from bulk_onboard.model.records import Origin
from bulk_onboard.runs.report import RowResult, Status, input_columns_of
from bulk_onboard.runs.report_stream import write_reports


def _results() -> list[RowResult]:
    return [
        RowResult(
            row_key="client:C-1",
            kind="client",
            origin=Origin("clients.csv", None, 2),
            values=(("client_id", "C-1"), ("client_name", '=HYPERLINK("http://x")')),
            status=Status.CREATED,
            outputs={
                "room": {"id": 42, "title": "Client - Acme"},
                "folder:Invoices": {"id": 43},
                "copy:Welcome.pdf": {"id": 50},
                "link": {"id": "l-1", "url": "http://127.0.0.1/s/abc"},
            },
            requests=8,
            attempts=8,
            duration=0.5,
        ),
        RowResult(
            row_key="user:b@example.com",
            kind="user",
            origin=Origin("book.xlsx", "users", 7),
            values=(("email", "b@example.com"), ("first_name", "+Bob")),
            status=Status.FAILED,
            failed_step="person",
            error="POST /api/2.0/people (HTTP 400): Incorrect firstname or lastname",
        ),
    ]


def test_neutralise_each_dangerous_start() -> None:
    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(lead + "1+1") == "'" + lead + "1+1"
    assert neutralise("Acme") == "Acme"


def test_csv_report_has_inputs_outcome_and_no_formulas(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    write_reports(tmp_path, _results(), input_columns_of(_results()))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # in input order: file, sheet, line
    assert [(r["file"], r["line"]) for r in rows] == [("book.xlsx", "7"), ("clients.csv", "2")]
    second, first = rows
    assert first["line"] == "2" and first["kind"] == "client" and first["client_id"] == "C-1"
    assert first["client_name"].startswith("'=")
    assert first["status"] == "created" and first["room_id"] == "42"
    assert first["room_link"] == "http://127.0.0.1/s/abc"
    assert first["folder_ids"] == "Invoices=43" and first["file_ids"] == "Welcome.pdf=50"
    assert first["email"] == ""  # union of columns: a client row has no e-mail column value
    assert second["sheet"] == "users" and second["first_name"] == "'+Bob"
    assert second["failed_step"] == "person" and "Incorrect firstname" in second["error"]


def test_xlsx_report_is_frozen_filtered_and_coloured(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_reports(tmp_path, _results(), input_columns_of(_results()))
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in sheet[1]]
    status_col = header.index("status") + 1
    assert sheet.cell(3, status_col).value == "created"
    assert sheet.cell(3, status_col).fill.start_color.rgb.endswith("C6EFCE")
    assert sheet.cell(2, status_col).fill.start_color.rgb.endswith("FFC7CE")
    assert sheet.cell(3, header.index("client_name") + 1).data_type == "s"


def test_input_columns_named_like_report_columns_are_kept_apart(tmp_path: Path) -> None:
    from bulk_onboard.runs.report_reader import read_report

    result = RowResult(
        row_key="client:C-1",
        kind="client",
        origin=Origin("clients.csv", None, 2),
        values=(("client_id", "C-1"), ("room_title", "Acme room"), ("status", "vip")),
        status=Status.CREATED,
        outputs={"room": {"id": 7, "title": "Acme room"}},
    )
    path = tmp_path / "report.csv"
    write_reports(tmp_path, [result], input_columns_of([result]))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["status (input)"] == "vip" and row["status"] == "created"
    assert row["room_title"] == "Acme room" and row["room_name"] == "Acme room"
    (back,) = read_report(path)
    assert back.values == {"client_id": "C-1", "room_title": "Acme room", "status": "vip"}
