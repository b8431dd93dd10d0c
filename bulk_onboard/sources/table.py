"""Tables as read from a file: the header resolved to columns, rows as trimmed text.

Shared by the CSV and XLSX readers; `sources` is the entry point.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bulk_onboard.errors import InputError
from bulk_onboard.model.columns import (
    NO_COLUMNS,
    REQUIRED,
    ColumnMap,
    canonical,
    fold_header,
    known_header_count,
)
from bulk_onboard.model.records import Origin, RowKind

__all__ = ["NO_COLUMNS", "ColumnMap"]


@dataclass(frozen=True, slots=True)
class RawRow:
    """One non-blank row: canonical column (or unknown header as written) → text, trimmed."""

    origin: Origin
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class InputWarning:
    """A warning about the input that does not make a row invalid."""

    file: str
    sheet: str | None
    line: int | None
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class Header:
    """The header row of a table, resolved."""

    kind: RowKind
    keys: tuple[str | None, ...]  # per position: column, unknown header, or None (blank)
    labels: dict[str, str]  # key → the header as written in the file
    unknown: tuple[str, ...]  # keys of headers that are no known column
    line: int
    mapped: tuple[tuple[str, str], ...] = ()  # (header as written, column) the playbook mapped
    hidden: frozenset[int] = frozenset()  # positions (0-based) of hidden columns not read


@dataclass(frozen=True, slots=True)
class UnreadSheet:
    """A workbook sheet that is not read, and why. One that holds a table (a header row of two
    or more cells and rows below it) may be data left behind; one that does not is notes."""

    file: str
    sheet: str
    reason: str
    table: bool = False
    header_line: int | None = None
    rows: int = 0  # rows of the table below its header


@dataclass(frozen=True, slots=True)
class Sheet:
    """One clients or users table of one file. `rows` can be iterated once."""

    file: str
    sheet: str | None
    header: Header
    rows: Iterator[RawRow]
    warnings: list[InputWarning] = field(default_factory=list)  # grows while rows are read
    unread: list[UnreadSheet] = field(default_factory=list)  # the file's sheets not read

    @property
    def kind(self) -> RowKind:
        return self.header.kind

    def label(self, column: str) -> str:
        """The column's header as the file writes it (the canonical name if it has none)."""
        return self.header.labels.get(column, column)


# Every input column goes into the report, and an XLSX sheet holds at most 16,384 columns; a
# list with hundreds of columns is an export of something else.
MAX_COLUMNS = 1000


def translated(cells: Sequence[str], columns: ColumnMap) -> list[str]:
    """The header cells with the playbook's mapped headers replaced by their columns, to tell
    a table's kind and delimiter by (a mapping of the clients sheet wins over the users')."""
    if not columns:
        return list(cells)
    merged = {**columns.get(RowKind.USER, {}), **columns.get(RowKind.CLIENT, {})}
    return [merged.get(fold_header(cell), cell) for cell in cells]


# The header is the first row, among the first few that hold anything, that names at least
# two known columns: a title row (often merged across the table), a date or a note above the
# header is passed over. When none of them does, the first row is the header, as it always was.
HEADER_SEARCH = 10
HEADER_KNOWN = 2

Numbered = Iterator[tuple[int, list[str]]]


def find_header(
    lines: Numbered, columns: ColumnMap
) -> tuple[tuple[int, list[str]] | None, Numbered]:
    """(the header's line and cells, or None when every row is blank; the rows after it)."""
    window: list[tuple[int, list[str]]] = []
    for number, cells in lines:
        if any(cell.strip() for cell in cells):
            window.append((number, cells))
            if len(window) >= HEADER_SEARCH:
                break
    if not window:
        return None, iter(())
    chosen = next(
        (
            index
            for index, (_, cells) in enumerate(window)
            if known_header_count(translated(cells, columns)) >= HEADER_KNOWN
        ),
        0,
    )
    return window[chosen], itertools.chain(window[chosen + 1 :], lines)


def resolve_header(
    cells: Sequence[str],
    kind: RowKind,
    where: str,
    line: int,
    mapping: Mapping[str, str] | None = None,
) -> Header:
    """Map header cells to columns (the playbook's `mapping` first, folded header → column);
    InputError when a column is doubled or a required one missing."""
    _check_width(cells, where, line)
    keys: list[str | None] = []
    labels: dict[str, str] = {}
    unknown: list[str] = []
    mapped: list[tuple[str, str]] = []
    for position, raw in enumerate(cells):
        text = " ".join(raw.split())
        if not text:
            keys.append(None)
            continue
        key = mapping.get(fold_header(text)) if mapping else None
        if key is not None:
            mapped.append((text, key))
        else:
            key = canonical(kind, text)
        if key is None:
            key = text
            while key in labels:
                key = f"{key} ({position + 1})"
            unknown.append(key)
        elif key in labels:
            raise InputError(
                f'{where} has two columns for {key} ("{labels[key]}" and "{text}" on line '
                f"{line}); delete or rename one of them and try again."
            )
        keys.append(key)
        labels[key] = text
    _check_required(kind, labels, where, line)
    return Header(kind, tuple(keys), labels, tuple(unknown), line, tuple(mapped))


def _check_width(cells: Sequence[str], where: str, line: int) -> None:
    """InputError when the header has more columns than a clients or users list can."""
    used = sum(1 for cell in cells if cell.strip())
    if used > MAX_COLUMNS:
        raise InputError(
            f"{where} has {used:,} columns in its header (line {line}); a clients or users list "
            f"has at most {MAX_COLUMNS:,}: export only the columns bulk-onboard uses and try again."
        )


def _check_required(kind: RowKind, labels: Mapping[str, str], where: str, line: int) -> None:
    """InputError naming the required columns the header lacks."""
    missing = [c for c in REQUIRED[kind] if c not in labels]
    if missing:
        names = " and ".join(", ".join(missing).rsplit(", ", 1))
        plural = "columns" if len(missing) > 1 else "column"
        raise InputError(
            f"{where} is a {kind.plural} list but has no {names} {plural} (header on line {line}); "
            f"add the {plural}, or map your own headers to them in the playbook's "
            f"[columns.{kind.plural}], and try again."
        )


class RowBuilder:
    """Turns the cells of one table's rows into RawRows, noting values under blank headers."""

    __slots__ = (
        "_file",
        "_hidden",
        "_keys",
        "_named",
        "_notices",
        "_plain",
        "_sheet",
        "_stray_noted",
        "_width",
    )

    def __init__(self, file: str, sheet: str | None, header: Header, warnings: list[InputWarning]):
        self._file = file
        self._sheet = sheet
        self._keys = header.keys
        self._hidden = header.hidden
        self._width = len(header.keys)
        self._notices = warnings
        self._stray_noted = False
        self._named = tuple(key for key in header.keys if key is not None)
        self._plain = len(self._named) == self._width  # every column has a header

    def build(self, cells: Sequence[str], line: int) -> RawRow | None:
        """A RawRow, or None for a blank row. Cells must already be text."""
        if self._plain and len(cells) == self._width:  # the common case, kept fast
            texts = [c.strip() for c in cells]
            if not any(texts):
                return None
            named = dict(zip(self._named, texts, strict=True))
            return RawRow(Origin(self._file, self._sheet, line), named)
        values, blank = self._values(cells, line)
        if len(cells) > self._width and any(c.strip() for c in cells[self._width :]):
            blank = False
            if not self._stray_noted:
                self._note_stray(line)
        if blank:
            return None
        for key in self._keys[len(cells) :]:
            if key is not None:
                values[key] = ""
        return RawRow(Origin(self._file, self._sheet, line), values)

    def _values(self, cells: Sequence[str], line: int) -> tuple[dict[str, str], bool]:
        """The named cells of a row that is not plain, and whether it is blank."""
        values: dict[str, str] = {}
        blank = True
        for position, (key, cell) in enumerate(zip(self._keys, cells, strict=False)):
            text = cell.strip()  # (zip: a short row's missing cells are empty)
            if key is not None:
                values[key] = text
            elif position in self._hidden:
                continue  # a hidden column: not read, not a row of its own
            elif text and not self._stray_noted:
                self._note_stray(line)
            if text:
                blank = False
        return values, blank

    def _note_stray(self, line: int) -> None:
        self._stray_noted = True
        self._notices.append(
            InputWarning(
                self._file,
                self._sheet,
                line,
                "(no header)",
                "A value stands in a column without a header and is ignored; give the "
                "column a header or delete the value.",
            )
        )
