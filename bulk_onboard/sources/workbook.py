"""Workbooks (.xlsx, .xls, .ods) through python-calamine, every cell as the spreadsheet shows it.

Every sheet is classified by its columns (model.columns.classify), its name deciding only
when the columns could be either: a clients sheet may be called "Customers" or "Kunden". A
sheet with neither kind of column, an empty one or one of the kind --kind left out is not read,
with a warning naming it and why; one whose columns could be either (or contradict its name) is
an InputError that says which columns decided and how to rename. A workbook with a single sheet
is read like a CSV (its kind from the header or --kind). Formulas give their saved result. A
vertically merged cell (.xlsx, .xls) gives its value to every row it spans.

calamine gives values; for .xlsx the sheet's XML adds what it does not (xlsx_parts): each
number's format, so 10045 stays 10045 and a date reads as its format writes it, a formula
never calculated (read as empty, with a warning) and the error a cell shows (#N/A, read as
empty, with a warning). An .xls or .ods file is read without its number formats: numbers as
Excel's General format writes them (10045, 0.256), dates as ISO 2024-03-05 (with the time
when there is one).
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from bulk_onboard.errors import InputError
from bulk_onboard.model.columns import CLIENT_MARKERS, Classified, classify, sheet_kind
from bulk_onboard.model.records import RowKind
from bulk_onboard.sources.cell_text import cell_text
from bulk_onboard.sources.table import (
    NO_COLUMNS,
    ColumnMap,
    Header,
    InputWarning,
    RowBuilder,
    Sheet,
    UnreadSheet,
    find_header,
    resolve_header,
    translated,
)
from bulk_onboard.sources.xlsx_parts import (
    COLUMN_BITS,
    SheetMarks,
    cell_formats,
    scan_sheet,
    workbook_parts,
)

# What each format is called in messages, and what to save a damaged file as again.
_FORMATS = {
    "xlsx": ("Excel workbook", "Excel", ".xlsx"),
    "xls": ("Excel 97-2003 workbook", "Excel", ".xlsx"),
    "ods": ("OpenDocument spreadsheet", "LibreOffice Calc", ".ods"),
}


# The custom property `bulk-onboard template` writes (runs/template.py TEMPLATE_PROPERTY).
TEMPLATE_MARK = b'name="bulk-onboard template"'


@dataclass(frozen=True, slots=True)
class _HeaderOnly:
    """A table with its header and no rows yet."""

    sheet: Sheet


class _NoSheet(Exception):
    """A workbook without a single worksheet."""


def _damaged(name: str, fmt: str, exc: BaseException, sheet: str | None = None) -> InputError:
    what, program, suffix = _FORMATS[fmt]
    why = "it has no sheet" if isinstance(exc, _NoSheet) else type(exc).__name__
    where = f"{name}, sheet {sheet} is damaged" if sheet else f"{name} is damaged or not a real"
    return InputError(
        f"{where}{'' if sheet else ' ' + what} ({why}); open it in {program}, save it again "
        f"as {suffix} and try again."
    )


def read_workbook(
    data: bytes,
    name: str,
    kind: RowKind | None,
    fmt: str = "xlsx",
    columns: ColumnMap = NO_COLUMNS,
) -> list[Sheet]:
    """The clients and/or users tables of a workbook (only `kind`'s when given). `fmt` is
    what the bytes are: "xlsx", "xls" or "ods"; `columns` the playbook's header mapping."""
    book = _open_book(data, name, fmt)
    single = len(book.titles) == 1
    sheets: list[Sheet] = []
    empty: list[str] = []
    skipped: list[UnreadSheet] = []
    header_only: list[Sheet] = []
    for title in book.titles:
        try:
            worksheet = book.calamine.get_sheet_by_name(title)
            marks = book.marks(title)
        except Exception as exc:
            raise _damaged(name, fmt, exc, title) from None
        opened = _open_sheet(
            worksheet, title, name, kind, marks, single=single, fmt=fmt, columns=columns
        )
        if opened is None:
            empty.append(title)
        elif isinstance(opened, _HeaderOnly):
            empty.append(title)
            header_only.append(opened.sheet)
        elif isinstance(opened, UnreadSheet):
            skipped.append(opened)
        else:
            sheets.append(opened)
    if not sheets and header_only and book.is_template():
        return header_only  # the empty template: no rows yet, every header read
    if not sheets:
        raise _nothing_to_read(name, empty, skipped)
    _warn_unread(sheets[0], name, empty)
    sheets[0].unread.extend(skipped)
    return sheets


@dataclass
class _Book:
    """An opened workbook: its worksheets' titles and, for .xlsx, the parts its XML is read
    from."""

    calamine: Any
    titles: list[str]
    archive: zipfile.ZipFile | None = None
    parts: dict[str, str] = field(default_factory=dict)  # sheet title → its XML part
    styles: list[str] = field(default_factory=lambda: ["General"])

    def is_template(self) -> bool:
        """Whether `bulk-onboard template` wrote the workbook (its custom property)."""
        if self.archive is None or "docProps/custom.xml" not in self.archive.namelist():
            return False
        return TEMPLATE_MARK in self.archive.read("docProps/custom.xml")

    def marks(self, title: str) -> SheetMarks:
        """What the sheet's XML says about its cells (nothing for .xls and .ods)."""
        if self.archive is None:
            return SheetMarks()
        part = self.parts.get(title, "")
        xml = self.archive.read(part) if part in self.archive.namelist() else b""
        return scan_sheet(xml, self.styles)


def _open_book(data: bytes, name: str, fmt: str) -> _Book:
    """The workbook, or an InputError: protected with a password, damaged, without a sheet."""
    from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum

    try:
        calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
        titles = [m.name for m in calamine.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        book = _Book(calamine, titles)
        if fmt == "xlsx":
            book.archive = zipfile.ZipFile(io.BytesIO(data))
            book.parts, styles_part = workbook_parts(book.archive)
            book.styles = cell_formats(book.archive, styles_part)
        if not titles:
            raise _NoSheet
    except PasswordError:
        raise InputError(
            f"{name} is protected with a password; open it, remove the password, save it and "
            "try again."
        ) from None
    except Exception as exc:
        raise _damaged(name, fmt, exc) from None
    return book


def _nothing_to_read(name: str, empty: list[str], skipped: list[UnreadSheet]) -> InputError:
    """Why a workbook gave no table: its sheets were not read, or had no rows."""
    if skipped:
        why = "; ".join(f"sheet {u.sheet} is not read: {u.reason}" for u in skipped)
        return InputError(
            f"{name} has no clients or users sheet ({why}); if a sheet holds them under headers "
            "of your own, map those in the playbook's [columns.clients] or [columns.users]."
        )
    which = ", ".join(empty)
    return InputError(
        f"{name} has no rows in sheet {which}; fill in the rows below the header and try again."
    )


def _warn_unread(first: Sheet, name: str, empty: list[str]) -> None:
    """A warning, with the first table, for each sheet that has no rows. The sheets not read
    go with it as UnreadSheets: the intake judges them (a table may be data left behind)."""
    for title in empty:
        first.warnings.append(
            InputWarning(
                name,
                title,
                None,
                "",
                "This sheet has no rows, so nothing is read from it.",
            )
        )


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


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Texts:
    """Cells → text for one sheet: formats, errors, uncalculated formulas, merges."""

    def __init__(self, file: str, title: str, marks: SheetMarks, worksheet: Any):
        self.file, self.title, self.marks = file, title, marks
        self.warnings: list[InputWarning] = []
        self.anchor_text: dict[tuple[int, int], str] = {}
        self.fill: dict[int, list[tuple[int, tuple[int, int]]]] = {}  # row → (col, anchor)
        self.anchors: dict[int, list[int]] = {}  # row → columns holding a merge anchor
        for (top, first), (bottom, _last) in worksheet.merged_cell_ranges or ():
            top, first, bottom = top + 1, first + 1, bottom + 1
            if bottom > top:
                self.anchors.setdefault(top, []).append(first)
            for row in range(top + 1, bottom + 1):
                self.fill.setdefault(row, []).append((first, (top, first)))
        start = worksheet.start
        self.pad = [""] * start[1] if start else []  # calamine's rows begin at the first column
        self.marked = {*marks.errors, *marks.uncalculated, *self.anchors, *self.fill}

    def row(self, line: int, values: list[Any]) -> list[str]:
        try:
            "".join(values)  # every cell a text (the common case), told at C speed
            texts: list[str] = values
        except TypeError:
            formats, default = self.marks.formats, self.marks.default_format
            base = line << COLUMN_BITS
            texts = [
                value if type(value) is str else cell_text(value, formats.get(base | col, default))
                for col, value in enumerate(values, len(self.pad) + 1)
            ]
        if self.pad:
            texts = self.pad + texts
        if line in self.marked:
            self._mark(line, texts)
        return texts

    def _mark(self, line: int, texts: list[str]) -> None:
        """Errors, uncalculated formulas and merged cells of the row."""
        marks = self.marks
        for col, error in marks.errors.get(line, ()):
            if col <= len(texts):
                texts[col - 1] = ""
            self._note(
                line,
                col,
                f"This cell shows the error {error}, so it is read as empty; fix the formula.",
            )
        for col in marks.uncalculated.get(line, ()):
            self._note(
                line,
                col,
                "This cell has a formula with no saved result (the file was never "
                "opened in Excel), so it is read as empty; open and save the file in Excel.",
            )
        for col in self.anchors.get(line, ()):
            self.anchor_text[(line, col)] = texts[col - 1] if col <= len(texts) else ""
        for col, anchor in self.fill.get(line, ()):
            while len(texts) < col:
                texts.append("")
            if not texts[col - 1].strip():
                texts[col - 1] = self.anchor_text.get(anchor, "")

    def _note(self, line: int, col: int, message: str) -> None:
        cell = f"cell {_column_letter(col)}{line}"
        self.warnings.append(InputWarning(self.file, self.title, line, cell, message))


def _lines(worksheet: Any, texts: _Texts, fmt: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells as text) of every row; calamine's rows begin at line 1."""
    rows = worksheet.iter_rows()
    line = 0
    while True:
        try:
            values = next(rows, None)
        except Exception as exc:
            raise _damaged(texts.file, fmt, exc, texts.title) from None
        if values is None:
            return
        line += 1
        yield line, texts.row(line, values)


def _without_hidden(
    header: Header, hidden: frozenset[int], where: tuple[str, str, list[InputWarning]]
) -> Header:
    """The header without the hidden columns that are no known column (an "Internal notes"
    column): they are not read, so not copied into the reports; said once. A hidden column
    bulk-onboard uses is read."""
    name, title, warnings = where
    left_out = [
        position
        for position, key in enumerate(header.keys)
        if key is not None and key in header.unknown and position + 1 in hidden
    ]
    if not left_out:
        return header
    dropped = {header.keys[position] for position in left_out}
    labels = ", ".join(header.labels[str(key)] for key in header.keys if key in dropped)
    warnings.append(
        InputWarning(
            name,
            title,
            header.line,
            labels,
            "Hidden in the workbook, so not read and left out of the reports; show the "
            "column (Unhide) to have it in them.",
        )
    )
    return replace(
        header,
        keys=tuple(None if key in dropped else key for key in header.keys),
        labels={k: v for k, v in header.labels.items() if k not in dropped},
        unknown=tuple(k for k in header.unknown if k not in dropped),
        hidden=frozenset(left_out),
    )


def _unread(
    name: str, title: str, reason: str, line: int, header: list[str], lines: Iterator[Any]
) -> UnreadSheet:
    """A sheet not read: a table when it is of neither kind, its first row has two or more
    cells and rows below it do too (counted); else notes, or a sheet --kind leaves out."""
    if reason != _NEITHER or sum(1 for cell in header if cell.strip()) < 2:
        return UnreadSheet(name, title, reason)  # left out by --kind, or notes
    rows = sum(1 for _, cells in lines if sum(1 for c in cells if c.strip()) >= 2)
    return UnreadSheet(name, title, reason, table=rows > 0, header_line=line, rows=rows)


def _open_sheet(
    worksheet: Any,
    title: str,
    name: str,
    forced: RowKind | None,
    marks: SheetMarks,
    *,
    single: bool,
    fmt: str,
    columns: ColumnMap = NO_COLUMNS,
) -> Sheet | UnreadSheet | _HeaderOnly | None:
    """The sheet's table; None when it has no data rows; an UnreadSheet saying why it is not
    read (a sheet of neither kind, or of the kind --kind leaves out)."""
    texts = _Texts(name, title, marks, worksheet)
    seen = texts.warnings
    found, lines = find_header(_lines(worksheet, texts, fmt), columns)
    if found is None:
        return None
    header_line, header_cells = found
    where = f"{name}, sheet {title}"
    classified = classify(translated(header_cells, columns))
    table_kind = sheet_kind_of(title, classified, where, forced, single)
    if not isinstance(table_kind, RowKind):  # (a RowKind is a str too)
        return _unread(name, title, table_kind, header_line, header_cells, lines)
    header = resolve_header(header_cells, table_kind, where, header_line, columns.get(table_kind))
    if marks.hidden:
        header = _without_hidden(header, marks.hidden, (name, title, seen))
    builder = RowBuilder(name, title, header, seen)
    rows = (r for n, t in lines if (r := builder.build(t, n)) is not None)
    first = next(rows, None)
    if first is None:
        return _HeaderOnly(Sheet(name, title, header, iter(()), seen))
    return Sheet(name, title, header, itertools.chain([first], rows), seen)
