"""CSV files: the encoding told by the bytes, the delimiter told by the header.

Encodings: UTF-8 (with or without BOM), UTF-16 and UTF-32 with BOM, and Windows-1252 for files
that are not valid UTF-8 (what Excel's plain "CSV" writes on Western European Windows). The
delimiter is whichever of , ; tab | splits the header into the most recognised columns; Excel's
"sep=;" first line is honoured. Line numbers are physical: a record starts on the line after
the previous record ended, so quoted values with line breaks do not shift later numbers.
"""

from __future__ import annotations

import _csv
import csv
import io
import itertools
import re
from collections.abc import Iterator

from bulk_onboard.errors import InputError
from bulk_onboard.model.columns import classify, known_header_count
from bulk_onboard.model.records import RowKind
from bulk_onboard.sources.table import (
    HEADER_KNOWN,
    HEADER_SEARCH,
    NO_COLUMNS,
    ColumnMap,
    InputWarning,
    RawRow,
    RowBuilder,
    Sheet,
    find_header,
    resolve_header,
    translated,
)

_DELIMITERS = (",", ";", "\t", "|")
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_SEP_LINE = re.compile(r'^"?sep=(.)"?[ \t]*(?:\r\n|\r|\n|$)', re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")


Record = tuple[int, list[str]]

# The csv module refuses fields over 128 KiB by default and calls that broken quoting; a cell
# pasted with a whole document in it is still a cell. 64 MiB bounds memory all the same.
csv.field_size_limit(64 * 1024 * 1024)


def decode(data: bytes, name: str) -> str:
    """The text of a CSV file. InputError when it is binary or in no encoding we know."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise InputError(
                    f"{name} starts like {encoding.upper().replace('-SIG', '')} text but is "
                    "damaged further on; export it again as CSV UTF-8 and try again."
                ) from None
    utf16 = _bomless_utf16(data)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:65536] or _CONTROL.search(data[:65536].decode("latin-1")):
        raise InputError(
            f"{name} is not a CSV or Excel file (it holds binary data); export the list as "
            ".xlsx or CSV and try again."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{name} is not readable text (line {line} has a byte that is neither UTF-8 nor "
            "Windows-1252); save it as CSV UTF-8 and try again."
        ) from None


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: every other byte of plain text is a zero."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    half = len(sample) // 2
    if sample[1::2].count(0) > 0.9 * half and sample[0::2].count(0) < 0.1 * half:
        return "utf-16-le"
    if sample[0::2].count(0) > 0.9 * half and sample[1::2].count(0) < 0.1 * half:
        return "utf-16-be"
    return None


def _first_lines(text: str, count: int) -> list[str]:
    """The first `count` non-blank physical lines."""
    lines = (line.rstrip("\r\n") for line in io.StringIO(text, newline="") if line.strip())
    return list(itertools.islice(lines, count))


def choose_delimiter(header_line: str, columns: ColumnMap = NO_COLUMNS) -> str:
    """The delimiter that splits the header into the most known columns (then most cells)."""

    def score(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error:  # e.g. an unbalanced quote under this delimiter: not this one
            return (0, 0)
        return known_header_count(translated(cells, columns)), len(cells)

    return max(_DELIMITERS, key=score)  # max keeps the first of equals: comma wins ties


def _delimiter(text: str, columns: ColumnMap) -> str:
    """The first line's delimiter; when that line names fewer than two known columns under
    any delimiter (a title above the header), the one of the first line that names most."""
    lines = _first_lines(text, HEADER_SEARCH) or [""]
    first = choose_delimiter(lines[0], columns)
    if _known(lines[0], first, columns) >= HEADER_KNOWN:
        return first
    best = max(lines, key=lambda line: _known(line, choose_delimiter(line, columns), columns))
    return choose_delimiter(best, columns)


def _known(line: str, delimiter: str, columns: ColumnMap) -> int:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return 0
    return known_header_count(translated(cells, columns))


def csv_records(data: bytes, name: str, columns: ColumnMap = NO_COLUMNS) -> Iterator[Record]:
    """(physical line, cells) of every record of a CSV file, in its encoding and delimiter
    (the "sep=" line left out); InputError when it cannot be read."""
    text = decode(data, name)
    sep = _SEP_LINE.match(text)
    delimiter = sep.group(1) if sep else _delimiter(text, columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = _numbered(reader, name, text)
    if sep:
        next(records, None)
    return records


def read_csv(
    data: bytes, name: str, kind: RowKind | None, columns: ColumnMap = NO_COLUMNS
) -> Sheet:
    """The one table of a CSV file; its kind from `kind` or else from the header."""
    found_header, records = find_header(csv_records(data, name, columns), columns)
    if found_header is None:
        raise InputError(f"{name} has no header line and no rows; export the list again.")
    header_line, cells = found_header
    found = classify(translated(cells, columns))
    if kind is None and found.ambiguous:
        raise InputError(
            f"{name} could be a clients or a users list: its header (line {header_line}) has "
            f"{found.deciding()}; pass --kind clients or --kind users to say which, or remove "
            "the columns of the other kind."
        )
    table_kind = kind or found.kind
    if table_kind is None:
        raise InputError(
            f"{name} has neither a client_id nor an email column in its header (line "
            f"{header_line}), so it is not a clients or users list; fix the header or pass "
            "--kind clients or --kind users."
        )
    header = resolve_header(cells, table_kind, name, header_line, columns.get(table_kind))
    warnings: list[InputWarning] = []
    rows = _rows(records, RowBuilder(name, None, header, warnings))
    first = next(rows, None)
    if first is None:
        raise InputError(
            f"{name} has a header but no rows below it; add the {table_kind.plural} and try again."
        )
    return Sheet(name, None, header, itertools.chain([first], rows), warnings)


def _rows(records: Iterator[tuple[int, list[str]]], builder: RowBuilder) -> Iterator[RawRow]:
    for line, cells in records:
        if cells:
            row = builder.build(cells, line)
            if row is not None:
                yield row


def _numbered(reader: _csv.Reader, name: str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(physical line where the record starts, cells). InputError on broken quoting."""
    previous_end = 0
    last: list[str] = []
    start = 1
    try:
        for cells in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            last = cells
            yield start, cells
    except csv.Error as exc:
        raise InputError(
            f"{name}, line {reader.line_num + 1}: the file's quoting is broken ({exc}); "
            'check the quotes (") on that line and try again.'
        ) from None
    if any("\n" in c or "\r" in c for c in last) and _unclosed_quote(text, start, reader):
        raise InputError(
            f'{name}, line {start}: a quote (") opened on this line is never closed, so the '
            "rest of the file would be read as one value; close the quote and try again."
        )


def _unclosed_quote(text: str, line: int, reader: _csv.Reader) -> bool:
    """Whether the record starting at `line` runs into the end of the file inside quotes."""
    tail = "".join(itertools.islice(io.StringIO(text, newline=""), line - 1, None))
    strict = csv.reader(io.StringIO(tail, newline=""), dialect=reader.dialect, strict=True)
    try:
        for _ in strict:
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False
