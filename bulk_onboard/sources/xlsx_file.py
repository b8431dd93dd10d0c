"""XLSX workbooks through openpyxl in read-only mode, every cell as the text Excel shows.

Every sheet is classified by its columns (model.columns.classify), its name deciding only
when the columns could be either: a clients sheet may be called "Customers" or "Kunden". A
sheet with neither kind of column, an empty one or one of the kind --kind left out is not read,
with a warning naming it and why; one whose columns could be either (or contradict its name) is
an InputError that says which columns decided and how to rename. A workbook with a single sheet
is read like a CSV (its kind from the header or --kind). Formulas give
their saved result; a formula Excel never calculated reads as empty, with a warning. A
vertically merged cell gives its value to every row it spans. Read-only mode does not expose
merges or tell an uncalculated formula from an empty cell, so the sheet's XML is scanned for
both (a plain byte search, skipped when the sheet has neither).
"""

from __future__ import annotations

import io
import itertools
import posixpath
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from bulk_onboard.errors import InputError
from bulk_onboard.model.columns import CLIENT_MARKERS, Classified, classify, sheet_kind
from bulk_onboard.model.records import RowKind
from bulk_onboard.sources.cell_text import cell_text
from bulk_onboard.sources.table import InputWarning, RowBuilder, Sheet, resolve_header

_CHUNK = 1000
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_CACHED = re.compile(rb"<(?:\w+:)?v>[^<]")
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_STRING_RESULT = re.compile(rb'\bt="str"')
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


@dataclass(frozen=True, slots=True)
class _Extras:
    """What read-only mode hides, by row: merged ranges, formulas without a saved result."""

    fill: dict[int, list[tuple[int, tuple[int, int]]]]  # row → (col, merge anchor (row, col))
    anchors: dict[int, list[int]]  # row → columns holding a merge anchor
    uncalculated: dict[int, list[int]]  # row → columns


def _scan(xml: bytes) -> _Extras:
    fill: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    anchors: dict[int, list[int]] = {}
    if b"mergeCell" in xml:
        for c1, r1, _c2, r2 in _MERGE.findall(xml):
            top, first, bottom = int(r1), _column_number(c1), int(r2)
            if bottom > top:
                anchors.setdefault(top, []).append(first)
            for row in range(top + 1, bottom + 1):
                fill.setdefault(row, []).append((first, (top, first)))
    uncalculated: dict[int, list[int]] = {}
    if _FORMULA.search(xml):
        for attrs, body in _CELL.findall(xml):
            if body and _FORMULA.search(body) and not _CACHED.search(body):
                ref = _REF.search(attrs)
                if ref and not _STRING_RESULT.search(attrs):
                    row = int(ref.group(2))
                    uncalculated.setdefault(row, []).append(_column_number(ref.group(1)))
    return _Extras(fill, anchors, uncalculated)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → the XML part holding it."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)}
    parts: dict[str, str] = {}
    for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        parts[sheet.get("name", "")] = posixpath.normpath(path)
    return parts


def read_xlsx(data: bytes, name: str, kind: RowKind | None) -> list[Sheet]:
    """The clients and/or users tables of a workbook (only `kind`'s when given)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from openpyxl import load_workbook  # imported when a workbook is read (0.15 s)

            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            archive = zipfile.ZipFile(io.BytesIO(data))
            parts = _sheet_parts(archive)
    except Exception as exc:
        raise InputError(
            f"{name} is damaged or not a real Excel workbook ({type(exc).__name__}); open it "
            "in Excel, save it again as .xlsx and try again."
        ) from None
    single = len(book.worksheets) == 1
    sheets: list[Sheet] = []
    empty: list[str] = []
    skipped: list[tuple[str, str]] = []  # (sheet, why it is not read)
    for worksheet in book.worksheets:
        part = parts.get(worksheet.title)
        extras = _scan(archive.read(part) if part in archive.namelist() else b"")
        opened = _open_sheet(worksheet, name, kind, extras, single=single)
        if opened is None:
            empty.append(worksheet.title)
        elif isinstance(opened, str):
            skipped.append((worksheet.title, opened))
        else:
            sheets.append(opened)
    if not sheets:
        if skipped:
            why = "; ".join(f"sheet {title} is not read: {reason}" for title, reason in skipped)
            raise InputError(f"{name} has no clients or users sheet ({why}).")
        which = ", ".join(empty)
        raise InputError(
            f"{name} has no rows in sheet {which}; fill in the rows below the header and try again."
        )
    for title in empty:
        sheets[0].warnings.append(
            InputWarning(
                name,
                title,
                None,
                "",
                "This sheet has no rows, so nothing is read from it.",
            )
        )
    for title, reason in skipped:
        sheets[0].warnings.append(
            InputWarning(name, title, None, "", f"This sheet is not read: {reason}.")
        )
    return sheets


_NEITHER = (
    f"it has none of the columns of a clients sheet ({', '.join(CLIENT_MARKERS)}) or of a "
    "users sheet (email)"
)


def sheet_kind_of(
    title: str, found: Classified, where: str, forced: RowKind | None, single: bool
) -> RowKind | str:
    """The kind of a workbook sheet, or why it is not read. InputError when it could be
    either."""
    if single and forced is not None:
        return forced
    named = sheet_kind(title)
    decided = found.kind
    if decided is not None and named is not None and decided != named:
        raise InputError(
            f"{where} is named {title} but its columns ({found.deciding()}) are those of a "
            f"{decided.plural} sheet; rename the sheet to {decided.plural}, or fix its header."
        )
    if decided is None and found.ambiguous and named is None:
        raise InputError(
            f"{where} could be a clients or a users sheet: it has {found.deciding()}; rename "
            'the sheet to "clients" or "users" to say which, or remove the columns of the '
            "other kind."
        )
    kind = decided or named
    if kind is None:
        if single:
            raise InputError(
                f"{where} has neither a client_id nor an email column in its header; fix "
                "the header, name the sheet clients or users, or pass --kind."
            )
        return _NEITHER
    if forced is not None and kind != forced:
        return f"it is a {kind.plural} sheet and --kind {forced.plural} was given"
    return kind


def _cells(worksheet: Any, name: str) -> Iterator[tuple[Any, ...]]:
    """Rows of cells, read in chunks with openpyxl's warnings silenced."""
    worksheet.reset_dimensions()
    rows = worksheet.iter_rows(min_row=1, min_col=1)
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                chunk = list(itertools.islice(rows, _CHUNK))
        except Exception as exc:
            raise InputError(
                f"{name}, sheet {worksheet.title} is damaged ({type(exc).__name__}); open it in "
                "Excel, save it again as .xlsx and try again."
            ) from None
        if not chunk:
            return
        yield from chunk


class _Texts:
    """Cells → text for one sheet: formats, errors, uncalculated formulas, merges."""

    def __init__(self, file: str, title: str, extras: _Extras, seen: list[InputWarning]):
        self.file, self.title, self.extras, self.warnings = file, title, extras, seen
        self.anchor_text: dict[tuple[int, int], str] = {}

    def row(self, line: int, cells: tuple[Any, ...]) -> list[str]:
        texts: list[str] = []
        for cell in cells:
            value = cell.value
            if value is None or (isinstance(value, str) and cell.data_type != "e"):
                texts.append(value or "")
            elif cell.data_type == "e":
                texts.append("")
                self._note(
                    line,
                    len(texts),
                    f"This cell shows the error {value}, so it is read as empty; fix the formula.",
                )
            else:
                texts.append(cell_text(value, cell.number_format))
        extras = self.extras
        for col in extras.uncalculated.get(line, ()):
            self._note(
                line,
                col,
                "This cell has a formula with no saved result (the file was never "
                "opened in Excel), so it is read as empty; open and save the file in Excel.",
            )
        for col in extras.anchors.get(line, ()):
            self.anchor_text[(line, col)] = texts[col - 1] if col <= len(texts) else ""
        for col, anchor in extras.fill.get(line, ()):
            while len(texts) < col:
                texts.append("")
            if not texts[col - 1].strip():
                texts[col - 1] = self.anchor_text.get(anchor, "")
        return texts

    def _note(self, line: int, col: int, message: str) -> None:
        from openpyxl.utils import get_column_letter

        cell = f"cell {get_column_letter(col)}{line}"
        self.warnings.append(InputWarning(self.file, self.title, line, cell, message))


def _open_sheet(
    worksheet: Any, name: str, forced: RowKind | None, extras: _Extras, *, single: bool
) -> Sheet | str | None:
    """The sheet's table; None when it has no data rows; why it is not read (a sheet of
    neither kind, or of the kind --kind leaves out)."""
    seen: list[InputWarning] = []
    texts = _Texts(name, worksheet.title, extras, seen)
    lines = ((n, texts.row(n, cells)) for n, cells in enumerate(_cells(worksheet, name), 1))
    found = next(((n, t) for n, t in lines if any(x.strip() for x in t)), None)
    if found is None:
        return None
    header_line, header_cells = found
    where = f"{name}, sheet {worksheet.title}"
    table_kind = sheet_kind_of(worksheet.title, classify(header_cells), where, forced, single)
    if not isinstance(table_kind, RowKind):  # (a RowKind is a str too)
        return table_kind
    header = resolve_header(header_cells, table_kind, where, header_line)
    builder = RowBuilder(name, worksheet.title, header, seen)
    rows = (r for n, t in lines if (r := builder.build(t, n)) is not None)
    first = next(rows, None)
    if first is None:
        return None
    return Sheet(name, worksheet.title, header, itertools.chain([first], rows), seen)
