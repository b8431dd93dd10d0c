"""The report written while the run goes: each finished row is appended to report.csv and
dropped from memory; at the end report.csv is put in input order and report.xlsx is written
from it.

While the run goes, report.csv holds the rows in the order they finished (a run killed
midway leaves the rows it finished). All the stream keeps per row is where its line is in the
file and the row's place in the input (file, sheet, line), a few dozen bytes; the status counts
are kept as counts and the rows that did not succeed as they are, for the closing lines.
`close()` copies the lines in input order into the final report.csv (one pass, reading each
line back from the page cache) and writes report.xlsx from the same lines in xlsxwriter's
constant-memory mode.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Self

from bulk_onboard.model.cells import neutralise, restore
from bulk_onboard.model.records import Origin
from bulk_onboard.runs.report import (
    NUMBER_COLUMNS,
    OK_STATUSES,
    RowResult,
    Status,
    report_header,
    report_row,
    status_counts,
)
from bulk_onboard.runs.report_xlsx import write_report_xlsx

BOM = "\ufeff".encode()
FLUSH_EVERY = 500  # rows: how often the lines written so far are handed to the system


class _Line:
    """Where the CSV writer puts one row, taken away after each row."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def _sort_key(origin: Origin) -> tuple[str, str, int]:
    return (origin.file, origin.sheet or "", origin.line)


class ReportStream:
    """report.csv appended as rows finish; `close()` orders it and writes report.xlsx."""

    def __init__(self, folder: Path, input_columns: Sequence[str], *, keep: bool = False) -> None:
        self.csv_path = folder / "report.csv"
        self.xlsx_path = folder / "report.xlsx"
        self.columns = list(input_columns)
        self.header = report_header(self.columns)
        self._counts: Counter[str] = Counter()
        self.problems: list[RowResult] = []  # the rows that did not succeed, for the summary
        self.kept: list[RowResult] = []  # every row, when asked to keep them (the dry run)
        self._keep = keep
        # per row: (its place in the input, offset of its line, length of its line)
        self._spans: list[tuple[tuple[str, str, int], int, int]] = []
        self._keys: dict[str, str] = {}  # interned file and sheet names
        self._text = _Line()
        self._writer = csv.writer(self._text)
        self._fh: IO[bytes] = self.csv_path.open("wb")
        head = BOM + self._line([neutralise(name) for name in self.header])
        self._fh.write(head)
        self._header_len = self._offset = len(head)
        self._unflushed = 0
        self.closed = False

    def _line(self, cells: Iterable[str]) -> bytes:
        self._writer.writerow(cells)
        return self._text.take().encode("utf-8")

    def add(self, result: RowResult) -> None:
        """Append one finished row; nothing of it but its place stays in memory."""
        row = report_row(result, self.columns)
        line = self._line(row[name] for name in self.header)
        self._fh.write(line)
        origin = result.origin
        file = self._keys.setdefault(origin.file, origin.file)
        sheet = self._keys.setdefault(origin.sheet or "", origin.sheet or "")
        self._spans.append(((file, sheet, origin.line), self._offset, len(line)))
        self._offset += len(line)
        self._counts[result.status.value] += 1
        if result.status not in OK_STATUSES:
            self.problems.append(result)
        if self._keep:
            self.kept.append(result)
        self._unflushed += 1
        if self._unflushed >= FLUSH_EVERY:
            self._fh.flush()
            self._unflushed = 0

    def add_all(self, results: Iterable[RowResult]) -> None:
        for result in results:
            self.add(result)

    @property
    def rows(self) -> int:
        return len(self._spans)

    def counts(self) -> dict[str, int]:
        """Rows per status, every status named."""
        return {status.value: self._counts.get(status.value, 0) for status in Status}

    def has(self, status: Status) -> bool:
        return self._counts.get(status.value, 0) > 0

    def close(self) -> None:
        """Put report.csv in input order and write report.xlsx from it."""
        if self.closed:
            return
        self.closed = True
        self._fh.close()
        self._spans.sort(key=lambda span: span[0])
        ordered = self.csv_path.with_name("report.csv.tmp")
        with self.csv_path.open("rb") as source, ordered.open("wb") as target:
            target.write(source.read(self._header_len))
            for _, offset, length in self._spans:
                source.seek(offset)
                target.write(source.read(length))
        os.replace(ordered, self.csv_path)
        write_report_xlsx(self.xlsx_path, self.header, self._typed_rows())
        self.problems.sort(key=lambda r: _sort_key(r.origin))
        if self._keep:
            self.kept.sort(key=lambda r: _sort_key(r.origin))

    def _typed_rows(self) -> Iterator[list[Any]]:
        """report.csv's rows back as values: text as it was typed, numbers as numbers."""
        numbers = [name in NUMBER_COLUMNS for name in self.header]
        with self.csv_path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for cells in reader:
                yield [
                    _number(text) if is_number else restore(text)
                    for text, is_number in zip(cells, numbers, strict=False)
                ]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _number(text: str) -> int | float | str:
    if not text:
        return ""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return restore(text)


def write_reports(folder: Path, results: Sequence[RowResult], columns: Sequence[str]) -> None:
    """report.csv and report.xlsx of rows already in memory (tests, small tools)."""
    with ReportStream(folder, columns) as stream:
        stream.add_all(results)


__all__ = ["ReportStream", "status_counts", "write_reports"]
