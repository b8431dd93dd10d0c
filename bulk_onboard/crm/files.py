"""The file sinks: a JSON Lines file and a CSV file that records are appended to.

Each record is written once per file: the idempotency keys already in the file are read when
it is opened, and caught up on (under an exclusive lock on POSIX) before every append, so a
rerun, a retry or a second process writing the same file adds no duplicate. Every append is
flushed and fsynced before it counts as written. A line left half-written by a crash is closed
with a newline before the next record, and is otherwise ignored.

JSONL: one record per line, UTF-8, exactly the webhook's JSON. CSV: UTF-8, the header
records.CSV_COLUMNS when the file is new, lists joined by spaces, and cells that a spreadsheet
would run as a formula made inert (as in the report).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, ClassVar

from bulk_onboard.crm.payload import CSV_COLUMNS, csv_row
from bulk_onboard.errors import CrmError

if sys.platform != "win32":
    import fcntl

KEY = "idempotency_key"


class FileSink:
    """Appends records to one file, at most once per idempotency key."""

    kind: ClassVar[str] = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._keys: set[str] = set()
        self._offset = 0  # bytes of the file already scanned for keys
        self._thread_lock = threading.Lock()

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a+b")  # noqa: SIM115  # held for the run
            with self._locked():
                self._prepare()
                self._catch_up()
        except OSError as exc:
            self.close()
            raise self._error("cannot be opened", exc) from None
        except CrmError:
            self.close()
            raise

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, record: Mapping[str, Any]) -> bool:
        """Append `record`; False when its key is in the file already."""
        key = str(record[KEY])
        with self._thread_lock:
            try:
                with self._locked():
                    self._catch_up()
                    if key in self._keys:
                        return False
                    self._append(self._encode(record))
            except OSError as exc:
                raise self._error("cannot be written", exc) from None
            self._keys.add(key)
            return True

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    # --------------------------------------------------------------------- per format

    def _prepare(self) -> None:
        """Check or start a file just opened (the CSV header)."""

    def _encode(self, record: Mapping[str, Any]) -> bytes:
        raise NotImplementedError

    def _keys_in(self, text: str) -> Iterator[str]:
        raise NotImplementedError

    # --------------------------------------------------------------------- plumbing

    def _handle(self) -> IO[bytes]:
        if self._file is None:
            raise RuntimeError(f"the {self.kind} sink {self.path} is not open")
        return self._file

    @contextmanager
    def _locked(self) -> Iterator[None]:
        handle = self._handle()
        if sys.platform != "win32":
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if sys.platform != "win32":
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        """Read the keys of every complete line appended since the last look."""
        handle = self._handle()
        handle.seek(self._offset)
        data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        if complete:
            text = complete.decode("utf-8", "replace")
            if self._offset == 0:
                text = text.removeprefix("\ufeff")
            self._keys.update(self._keys_in(text))
        self._offset += len(complete)

    def _append(self, payload: bytes) -> None:
        handle = self._handle()
        handle.seek(0, os.SEEK_END)
        torn = handle.tell() > self._offset  # a line a crash left without its newline
        handle.write((b"\n" if torn else b"") + payload)
        handle.flush()
        os.fsync(handle.fileno())
        self._offset = handle.tell()

    def _error(self, what: str, exc: OSError) -> CrmError:
        reason = exc.strerror or type(exc).__name__
        return CrmError(f"the CRM {self.kind} file {self.path} {what}: {reason}", transient=False)


class JsonlSink(FileSink):
    kind = "JSONL"

    def _encode(self, record: Mapping[str, Any]) -> bytes:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    def _keys_in(self, text: str) -> Iterator[str]:
        for line in text.splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue  # a torn or foreign line
            if isinstance(value, dict) and isinstance(value.get(KEY), str):
                yield value[KEY]


class CsvSink(FileSink):
    kind = "CSV"

    def _prepare(self) -> None:
        handle = self._handle()
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            self._append(self._line(CSV_COLUMNS))
            self._offset = 0  # the header is scanned like any line (it holds no key)
            return
        handle.seek(0)
        first = handle.readline().decode("utf-8", "replace").removeprefix("\ufeff")
        header = next(csv.reader([first]), [])
        if tuple(header) != CSV_COLUMNS:
            raise CrmError(
                f"the CRM CSV file {self.path} has other columns than bulk-onboard writes "
                f"({', '.join(header[:4]) or 'none'}...); choose another crm.csv_path or move "
                "the file away",
                transient=False,
            )

    def _encode(self, record: Mapping[str, Any]) -> bytes:
        row = csv_row(record)
        return self._line([row[column] for column in CSV_COLUMNS])

    def _keys_in(self, text: str) -> Iterator[str]:
        at = CSV_COLUMNS.index(KEY)
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) == len(CSV_COLUMNS) and row[at] != KEY:
                yield row[at]

    @staticmethod
    def _line(values: Any) -> bytes:
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerow(values)
        return buffer.getvalue().encode("utf-8")
