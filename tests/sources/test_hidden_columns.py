"""A hidden column that bulk-onboard does not use ("Internal notes: pays late") is not read, so
it is left out of the reports, and said once; a hidden column it uses is read."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import Workbook

from bulk_onboard.cli.commands import main
from bulk_onboard.sources import open_sources
from bulk_onboard.sources.xlsx_parts import hidden_columns

HEADER = ["client_id", "Internal notes", "client_name", "client_email", "manager_email", "tags"]
ROWS = [
    ["K-1", "pays late", "Acme", "it@acme.example", "maria@northwind.example", "vip"],
    ["K-2", "", "Dale", "it@dale.example", "maria@northwind.example", ""],
    ["", "only a note here", "", "", "", ""],
]


def test_a_hidden_unknown_column_is_left_out_and_said_once(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "clients"
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    sheet.column_dimensions["B"].hidden = True
    sheet.column_dimensions["F"].hidden = True  # tags: a column bulk-onboard uses, still read
    path = tmp_path / "export.xlsx"
    book.save(path)
    [table] = open_sources([path])
    rows = list(table.rows)
    assert [row.values for row in rows] == [
        {
            "client_id": "K-1",
            "client_name": "Acme",
            "client_email": "it@acme.example",
            "manager_email": "maria@northwind.example",
            "tags": "vip",
        },
        {
            "client_id": "K-2",
            "client_name": "Dale",
            "client_email": "it@dale.example",
            "manager_email": "maria@northwind.example",
            "tags": "",
        },
    ]  # the row with only a hidden note is no row
    [warning] = table.warnings
    assert (warning.column, warning.line) == ("Internal notes", 1)
    assert "left out of the reports" in warning.message
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Internal notes") == 1
    assert "pays late" not in result.stdout


def test_hidden_columns_are_read_from_the_cols_of_the_sheet_xml() -> None:
    xml = (
        b'<worksheet><cols><col min="2" max="3" hidden="1" width="0"/>'
        b'<col max="5" min="5" hidden="true"/><col min="6" max="6" width="9"/></cols>'
        b'<sheetData><row r="1"><c r="A1" hidden="1"/></row></sheetData></worksheet>'
    )
    assert hidden_columns(xml) == frozenset({2, 3, 5})
    assert hidden_columns(b'<worksheet><cols><col hidden="1"/></cols></worksheet>') == set()
