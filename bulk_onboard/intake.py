"""Files and a playbook in; records, invalid rows, warnings and plans out.

The one entry point for every command that reads spreadsheets (`validate`, `plan`, `run`):

    playbook = load_playbook(path_or_None)
    intake = load_intake([Path("clients.csv"), Path("users.csv")], playbook)
    intake.plans      # client plans first (people may join their rooms), then people
    intake.invalid    # rows that will not run, each with every problem

InputError (a file cannot be used) and ConfigError (the playbook does not fit) propagate.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bulk_onboard.model.records import ClientRecord, RowKind, UserRecord
from bulk_onboard.model.steps import Plan
from bulk_onboard.plan import build_plan
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.sources import InputWarning, display_names, open_sources
from bulk_onboard.sources.table import Sheet
from bulk_onboard.validate.files import Invalid, validate_sheets


@dataclass(frozen=True, slots=True)
class Intake:
    """Everything read from the input files, checked and planned."""

    files: tuple[str, ...]  # as messages name them
    playbook: Playbook
    clients: tuple[ClientRecord, ...]
    users: tuple[UserRecord, ...]
    invalid: tuple[Invalid, ...]
    warnings: tuple[InputWarning, ...]
    plans: tuple[Plan, ...]  # one per valid record: clients, then users

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
        return intake_from_sheets(open_sources(paths, kind), playbook, tuple(display_names(paths)))


def intake_from_sheets(
    sheets: Sequence[Sheet], playbook: Playbook, files: tuple[str, ...]
) -> Intake:
    """Validate and plan sheets however they were read (files, or a report read back)."""
    validated = validate_sheets(sheets, playbook)
    records: list[ClientRecord | UserRecord] = [*validated.clients, *validated.users]
    plans = tuple(build_plan(r, playbook) for r in records)
    return Intake(
        files=files,
        playbook=playbook,
        clients=validated.clients,
        users=validated.users,
        invalid=validated.invalid,
        warnings=validated.warnings,
        plans=plans,
    )
