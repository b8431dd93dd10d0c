"""The problems and warnings of an intake as a table (file, sheet, line, column, problem).

On a terminal the table is drawn with rich; piped or redirected it is plain text with aligned
columns and no wrapping, so grep and a pager read it as well as a person does.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bulk_onboard.intake import Intake
from bulk_onboard.sources.table import UnreadSheet

HEADINGS = ("file", "sheet", "line", "column", "problem")


def problem_rows(intake: Intake) -> list[tuple[str, str, str, str, str]]:
    """One row per problem and per warning, in file order, warnings marked as such."""
    order = {name: n for n, name in enumerate(intake.files)}
    keyed: list[tuple[tuple[int, str, int, int], tuple[str, str, str, str, str]]] = []
    for row in intake.invalid:
        origin = row.origin
        for found in row.problems:
            keyed.append(
                (
                    (order.get(origin.file, 0), origin.sheet or "", origin.line, 0),
                    (origin.file, origin.sheet or "", str(origin.line), found.label, found.text),
                )
            )
    for warning in intake.warnings:
        keyed.append(
            (
                (order.get(warning.file, 0), warning.sheet or "", warning.line or 0, 1),
                (
                    warning.file,
                    warning.sheet or "",
                    str(warning.line or ""),
                    warning.column,
                    f"Warning: {warning.message}",
                ),
            )
        )
    for sheet in intake.unread_tables:
        keyed.append(
            (
                (order.get(sheet.file, 0), sheet.sheet, sheet.header_line or 0, 0),
                (sheet.file, sheet.sheet, str(sheet.header_line or ""), "", unread_text(sheet)),
            )
        )
    keyed.sort(key=lambda pair: pair[0])
    return [_one_line(row) for _, row in keyed]


NOT_READ = "Not read: "


def unread_text(sheet: UnreadSheet) -> str:
    """What a sheet holding a table that is not read means, and what to do."""
    rows = f"{sheet.rows:,} row{'s' if sheet.rows != 1 else ''}"
    return (
        f"{NOT_READ}this sheet holds a table ({rows} below its header) but {sheet.reason}; if "
        "it holds clients or people, fix its header or name the sheet clients or users, else "
        "list it in the playbook's [sheets] ignore."
    )


def _one_line(row: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
    """Line breaks quoted from cells would tear a table row apart: show them as \\n."""
    a, b, c, d, e = (
        cell.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") for cell in row
    )
    return a, b, c, d, e


def _count(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"


def intake_summary(intake: Intake) -> str:
    """One line: what was read and how much of it is usable."""
    files = ", ".join(intake.files)
    kinds = (
        f"{_count(len(intake.clients), 'client', 'clients')}, "
        f"{_count(len(intake.users), 'person', 'people')}"
    )
    if not intake.rows:
        known = "" if intake.warnings else "; every header is known"
        state = f"no rows yet{known}"
    elif not intake.invalid:
        state = f"all valid ({kinds})"
    else:
        state = (
            f"{len(intake.plans):,} valid ({kinds}), {len(intake.invalid):,} invalid with "
            f"{_count(intake.problems, 'problem', 'problems')}"
        )
    warnings = len(intake.warnings)
    tail = f", {_count(warnings, 'warning', 'warnings')}" if warnings else ""
    tables = len(intake.unread_tables)
    if tables:
        tail += f", {_count(tables, 'sheet', 'sheets')} with a table not read"
    count = f"{_count(intake.rows, 'row', 'rows')}, " if intake.rows else ""
    return f"{files}: {count}{state}{tail}."


def table_lines(intake: Intake) -> list[str]:
    """A line per table whose header was not on line 1 or whose headers the playbook mapped."""
    lines = [line for table in intake.tables if (line := table.describe())]
    lines += [
        f"{sheet.file}, sheet {sheet.sheet}: not read (the playbook's [sheets] ignore lists it)."
        for sheet in intake.ignored
    ]
    return lines


def write_table(rows: list[tuple[str, str, str, str, str]], out: TextIO, fancy: bool) -> None:
    """Print the rows under HEADINGS; nothing at all when there are none."""
    if not rows:
        return
    show_sheet = any(r[1] for r in rows)
    if fancy:
        _write_rich(rows, out, show_sheet)
        return
    columns = [c for c in range(5) if c != 1 or show_sheet]
    widths = {c: max(len(HEADINGS[c]), *(len(r[c]) for r in rows)) for c in columns[:-1]}

    def line(cells: tuple[str, ...]) -> str:
        parts = [cells[c].ljust(widths[c]) if c in widths else cells[c] for c in columns]
        return "  ".join(parts).rstrip()

    out.write(line(HEADINGS) + "\n")
    out.writelines(line(row) + "\n" for row in rows)


def _write_rich(rows: list[tuple[str, str, str, str, str]], out: TextIO, show_sheet: bool) -> None:
    """A terminal table; the file column gives way to a title when there is one file."""
    files = {r[0] for r in rows}
    columns = [c for c in range(5) if (c != 0 or len(files) > 1) and (c != 1 or show_sheet)]
    title = next(iter(files)) if len(files) == 1 else None
    table = Table(title=title, header_style="bold", expand=True)
    for c in columns:
        table.add_column(HEADINGS[c], overflow="fold", ratio=1 if c == 4 else None)
    for row in rows:
        style = "yellow" if row[4].startswith("Warning: ") else None
        table.add_row(*(Text(row[c]) for c in columns), style=style)
    Console(file=out).print(table)
