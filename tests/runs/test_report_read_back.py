"""A report read back as a person saves it again: Windows-1252 or UTF-8 (with or without BOM),
`;` or `,`, CRLF, decimals with a comma, cells with spaces around them; an XLSX as edited. What
cannot be read is one sentence, never a traceback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from bulk_onboard.errors import InputError
from bulk_onboard.runs.report_reader import read_report, read_results

HEADER = ["file", "sheet", "line", "kind", "status", "client_id", "client_name", "duration_s"]
ROW = ["clients.csv", "", "2", "client", "failed", " 00456 ", "Müller GmbH ", "1,5"]
REQUESTS = ["requests", "attempts"]


def _csv(path: Path, encoding: str, delimiter: str, ending: str) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=ending)
    writer.writerows([HEADER + REQUESTS, [*ROW, "1.234", "2"]])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "delimiter", "ending"),
    [
        ("cp1252", ";", "\r\n"),
        ("utf-8", ";", "\n"),
        ("utf-8-sig", ",", "\r\n"),
        ("utf-8-sig", ";", "\r\n"),
        ("cp1252", ",", "\n"),
    ],
)
def test_a_csv_report_in_every_encoding_and_delimiter_excel_saves(
    tmp_path: Path, encoding: str, delimiter: str, ending: str
) -> None:
    path = _csv(tmp_path / "report.csv", encoding, delimiter, ending)
    [row] = read_report(path)
    assert row.values == {"client_id": "00456", "client_name": "Müller GmbH"}  # trimmed
    [result] = read_results(path)
    assert (result.duration, result.requests, result.attempts) == (1.5, 1234, 2)
    assert result.row_key == "client:00456"


def test_an_xlsx_report_as_edited_is_trimmed(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "report"
    sheet.append(HEADER)
    sheet.append([*ROW[:2], 2, *ROW[3:7], 1.5])
    path = tmp_path / "report.xlsx"
    book.save(path)
    [row] = read_report(path)
    assert row.origin.line == 2
    assert row.values == {"client_id": "00456", "client_name": "Müller GmbH"}


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"\xff\xfe\x00\xd8garbage", "damaged further on"),
        (b"PK\x03\x04\x00\x00binary\x00\x01", "binary data"),
        (b"a,b,c\n1,2,3\n", "not a bulk-onboard report"),
    ],
)
def test_a_report_that_cannot_be_read_is_one_sentence(
    tmp_path: Path, data: bytes, said: str
) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=said):
        read_report(path)


def test_unreadable_numbers_count_as_none(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(
        ",".join(HEADER + REQUESTS) + "\n" + ",".join([*ROW[:7], "n/a", "", "?"]) + "\n",
        encoding="utf-8",
    )
    [result] = read_results(path)
    assert (result.duration, result.requests, result.attempts) == (0.0, 0, 0)
