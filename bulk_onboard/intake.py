"""Files and a playbook in; records, invalid rows, warnings and plans out.

The one entry point for every command that reads spreadsheets (`validate`, `plan`, `run`):

    playbook = load_playbook(path_or_None)
    intake = load_intake([Path("clients.csv"), Path("users.csv")], playbook)
    intake.plans      # client plans first (people may join their rooms), then people;
                      # built when iterated, not held (Plans)
    intake.invalid    # rows that will not run, each with every problem

InputError (a file cannot be used) and ConfigError (the playbook does not fit) propagate.
"""

from __future__ import annotations

import gc
from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from bulk_onboard.model.records import ClientRecord, RowKind, UserRecord
from bulk_onboard.model.steps import Plan
from bulk_onboard.plan import build_plan
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.sources import InputWarning, display_names, open_sources
from bulk_onboard.sources.table import Sheet, UnreadSheet
from bulk_onboard.validate.files import Invalid, validate_sheets


class Plans(Sequence[Plan]):
    """The plans of the valid records, clients first, built each time they are asked for.

    A plan is a few hundred bytes of objects (its steps and their references); a run goes
    through its rows a few times but works on a few dozen of them at once, so holding every
    row's plan from start to end would cost about 400 bytes a row for nothing. Planning is
    pure and quick (a few microseconds a row), so a plan is made again on each pass.
    """

    __slots__ = ("_clients", "_playbook", "_users")

    def __init__(
        self,
        clients: Sequence[ClientRecord],
        users: Sequence[UserRecord],
        playbook: Playbook,
    ) -> None:
        self._clients = clients
        self._users = users
        self._playbook = playbook

    def __len__(self) -> int:
        return len(self._clients) + len(self._users)

    @overload
    def __getitem__(self, index: int) -> Plan: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Plan, ...]: ...

    def __getitem__(self, index: int | slice) -> Plan | tuple[Plan, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("plan index out of range")
        first = len(self._clients)
        record = self._clients[position] if position < first else self._users[position - first]
        return build_plan(record, self._playbook)

    def __iter__(self) -> Iterator[Plan]:
        yield from self.of(RowKind.CLIENT)
        yield from self.of(RowKind.USER)

    def of(self, kind: RowKind) -> Iterator[Plan]:
        """The plans of one kind of row, in input order."""
        records: Sequence[ClientRecord | UserRecord]
        records = self._clients if kind is RowKind.CLIENT else self._users
        playbook = self._playbook
        return (build_plan(record, playbook) for record in records)

    def unfinished(self, finished: Container[str]) -> Iterator[Plan]:
        """The plans of the rows whose key is not in `finished` (only those are built)."""
        playbook = self._playbook
        for records in (self._clients, self._users):
            for record in records:
                if record.row_key not in finished:
                    yield build_plan(record, playbook)

    def find_rooms(self) -> bool:
        """Whether a row looks for a room on the portal: a client's, or one a person joins."""
        return bool(self._clients) or any(user.room for user in self._users)

    def rows_of(self, kind: RowKind) -> int:
        return len(self._clients) if kind is RowKind.CLIENT else len(self._users)

    def __repr__(self) -> str:
        return f"Plans({len(self._clients)} clients, {len(self._users)} users)"


@dataclass(frozen=True, slots=True)
class Table:
    """Where a table's header was found and which of its headers the playbook mapped."""

    file: str
    sheet: str | None
    kind: RowKind
    header_line: int
    mapped: tuple[tuple[str, str], ...]  # (header as written, column)

    def describe(self) -> str | None:
        """One line for `validate` and `plan` when there is something to say: a header below
        line 1 (a title or notes above it) or headers mapped by the playbook."""
        said = []
        if self.header_line > 1:
            said.append(f"header on line {self.header_line}")
        if self.mapped:
            pairs = ", ".join(f'"{header}" = {column}' for header, column in self.mapped)
            said.append(f"columns from the playbook: {pairs}")
        if not said:
            return None
        where = f"{self.file}, sheet {self.sheet}" if self.sheet else self.file
        return f"{where} ({self.kind.plural}): {'; '.join(said)}."


@dataclass(frozen=True, slots=True)
class Intake:
    """Everything read from the input files, checked and planned."""

    files: tuple[str, ...]  # as messages name them
    playbook: Playbook
    clients: tuple[ClientRecord, ...]
    users: tuple[UserRecord, ...]
    invalid: tuple[Invalid, ...]
    warnings: tuple[InputWarning, ...]
    plans: Plans  # one per valid record: clients, then users, each built when asked for
    tables: tuple[Table, ...] = ()  # the tables read, in file order
    unread: tuple[UnreadSheet, ...] = ()  # workbook sheets not read
    ignored: tuple[UnreadSheet, ...] = ()  # of those, the ones the playbook's [sheets] lists

    @property
    def unread_tables(self) -> tuple[UnreadSheet, ...]:
        """Sheets holding a table that is not read and that the playbook does not ignore: data
        left behind, perhaps (`validate` exits 1)."""
        return tuple(u for u in self.unread if u.table and u not in self.ignored)

    @property
    def rows(self) -> int:
        return len(self.clients) + len(self.users) + len(self.invalid)

    @property
    def problems(self) -> int:
        return sum(len(row.problems) for row in self.invalid)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a large input is read.

    Reading builds about ten small objects per row, none of them in a reference cycle, and
    keeps them all; every few hundred allocations the collector would walk everything built so
    far, which doubles the time of a 100,000-row file. Reference counting still frees whatever
    is dropped, and the collector runs again as before once the intake is built.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_intake(paths: Sequence[Path], playbook: Playbook, kind: RowKind | None = None) -> Intake:
    """Read, validate and plan every row of the files."""
    with _without_cycle_collection():
        sheets = open_sources(paths, kind, playbook.columns)
        return intake_from_sheets(sheets, playbook, tuple(display_names(paths)))


def intake_from_sheets(
    sheets: Sequence[Sheet], playbook: Playbook, files: tuple[str, ...]
) -> Intake:
    """Validate and plan sheets however they were read (files, or a report read back)."""
    tables = tuple(Table(s.file, s.sheet, s.kind, s.header.line, s.header.mapped) for s in sheets)
    unread = tuple(u for s in sheets for u in s.unread)
    listed = {title.casefold() for title in playbook.ignored_sheets}
    ignored = tuple(u for u in unread if u.sheet.casefold() in listed)
    validated = validate_sheets(sheets, playbook)
    notes = tuple(
        InputWarning(u.file, u.sheet, None, "", f"This sheet is not read: {u.reason}.")
        for u in unread
        if not u.table and u not in ignored
    )
    plans = Plans(validated.clients, validated.users, playbook)
    return Intake(
        files=files,
        playbook=playbook,
        clients=validated.clients,
        users=validated.users,
        invalid=validated.invalid,
        warnings=validated.warnings + notes,
        plans=plans,
        tables=tables,
        unread=unread,
        ignored=ignored,
    )
