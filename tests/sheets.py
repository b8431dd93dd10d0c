"""Sheets as the readers would produce them, from rows in memory, and what validation makes of
them: for the tests of validation, of the playbook and of plans."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

from bulk_onboard.model.records import RowKind
from bulk_onboard.playbook.reader import Playbook, default_playbook
from bulk_onboard.sources.table import InputWarning, RowBuilder, Sheet, resolve_header
from bulk_onboard.validate.files import Validated, validate_sheets

CLIENT = {
    "client_id": "C-1",
    "client_name": "Acme",
    "client_email": "contact@acme.example.com",
    "manager_email": "maria@northwind.example",
}
USER = {"email": "wile@acme.example.com"}


def make_sheet(kind_name: str, rows: Sequence[dict[str, str]], file: str = "") -> Sheet:
    """A sheet as the readers would produce it from `rows` (header = union of their keys);
    `kind_name` is "clients" or "users"."""
    kind = RowKind.from_text(kind_name)
    file = file or f"{kind.plural}.csv"
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row if k not in header)
    resolved = resolve_header(header, kind, file, 1)
    warnings: list[InputWarning] = []
    builder = RowBuilder(file, None, resolved, warnings)
    built = [builder.build([row.get(h, "") for h in header], n) for n, row in enumerate(rows, 2)]
    return Sheet(file, None, resolved, iter([r for r in built if r is not None]), warnings)


def check(
    clients: Sequence[dict[str, str]] = (),
    users: Sequence[dict[str, str]] = (),
    playbook: Playbook | None = None,
) -> Validated:
    sheets = []
    if clients:
        sheets.append(make_sheet("clients", clients))
    if users:
        sheets.append(make_sheet("users", users))
    return validate_sheets(sheets, playbook or default_playbook())


def write_workbook(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """An .xlsx at `path` holding `sheets` (title: rows) in order, and no other sheet."""
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def nightly_sheet(folder: Path, failing: bool) -> Path:
    """A clients sheet of one client that onboards, and with `failing` one whose manager has
    no account (the row fails every night): the nights of [notify]'s tests."""
    lines = ["client_id,client_name,client_email,manager_email"]
    lines.append("C-1,Fine,ok@acme.example.com,maria@northwind.example")
    if failing:
        lines.append("C-2,Orphan,c2@acme.example.com,nobody@northwind.example")
    path = folder / ("failing.csv" if failing else "clean.csv")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
