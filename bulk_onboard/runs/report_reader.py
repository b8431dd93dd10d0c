"""`bulk-onboard retry REPORT`: the rows of an earlier report that did not succeed, again.

The report (CSV or XLSX, possibly edited by hand) is read back into sheets exactly as the input
looked: same file, sheet and line numbers, every input column. All rows are validated again (so
a person's `room` still names the clients of the file), but only the rows whose status is
failed, interrupted, invalid or deferred are planned and run; the others are carried into the
new report as they were. The journal of the run that wrote the report tells which steps the
portal already confirmed, so each row continues from its failed step with the ids it got.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.errors import InputError
from bulk_onboard.intake import Intake, Plans, intake_from_sheets
from bulk_onboard.model.cells import restore
from bulk_onboard.model.columns import COLUMNS, canonical
from bulk_onboard.model.outputs import PersonOut
from bulk_onboard.model.records import Origin, RowKind
from bulk_onboard.model.steps import CopyFile, EnsureFolder, EnsureLink, EnsurePerson, EnsureRoom
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.runs.report import (
    LEAD_COLUMNS,
    RESULT_COLUMNS,
    RETRY_STATUSES,
    RowResult,
    Status,
    input_name,
)
from bulk_onboard.sources.cell_text import cell_text
from bulk_onboard.sources.csv_file import csv_records
from bulk_onboard.sources.table import Header, RawRow, Sheet


@dataclass(frozen=True, slots=True)
class ReportRow:
    origin: Origin
    kind: RowKind
    values: dict[str, str]  # input columns
    result: dict[str, str]  # status, ids, ... as the report says

    @property
    def status(self) -> Status:
        return Status(self.result["status"])

    @property
    def to_retry(self) -> bool:
        return self.status in RETRY_STATUSES


def read_report(path: Path) -> list[ReportRow]:
    """Rows of a report written by bulk-onboard (CSV or XLSX), as edited by the user."""
    table = _report_table(path)
    header = table[0][1]
    inputs = [c for c in header if c not in LEAD_COLUMNS and c not in RESULT_COLUMNS]
    rows: list[ReportRow] = []
    for number, cells in table[1:]:
        if not any(cells):
            continue
        record = dict(zip(header, cells, strict=False))
        rows.append(_report_row(record, inputs, f"{path.name}, line {number}"))
    return rows


def _report_table(path: Path) -> list[tuple[int, list[str]]]:
    """The report's lines (line number, cells as trimmed text), its header first, however it
    was saved again: a CSV in the encodings and delimiters the intake reads (an Excel of
    another language writes Windows-1252 and semicolons), an XLSX as edited. InputError when
    it is no report."""
    if not path.is_file():
        raise InputError(f"{path} does not exist; give the report.csv or report.xlsx of a run.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        # CSV cells were neutralised (a leading apostrophe before a formula character)
        records = csv_records(path.read_bytes(), path.name)
        table = [(n, [restore(c.strip()) for c in cells]) for n, cells in records if cells]
    elif suffix == ".xlsx":
        table = _xlsx_table(path)  # XLSX cells hold the text as typed
    else:
        raise InputError(
            f"{path.name} is not a report; give the report.csv or report.xlsx of a run."
        )
    if not table or not {"status", "kind", "line"} <= set(table[0][1]):
        raise InputError(
            f"{path.name} is not a bulk-onboard report (it has no status, kind and line columns); "
            "give the report.csv or report.xlsx of a run."
        )
    return table


def _report_row(record: dict[str, str], inputs: list[str], where: str) -> ReportRow:
    """One line of the report, by column; `where` names it in the error when the cells that
    say which row it was were changed."""
    try:
        origin = Origin(record["file"], record.get("sheet") or None, int(record["line"]))
        Status(record["status"])
        kind = RowKind.from_text(record["kind"])
    except (KeyError, ValueError):
        raise InputError(
            f"{where}: the file, line, kind or status cell was changed; put back "
            "what the report had there and try again."
        ) from None
    return ReportRow(
        origin=origin,
        kind=kind,
        values={input_name(c): record.get(c, "") for c in inputs},
        result={c: record.get(c, "") for c in RESULT_COLUMNS},
    )


def _xlsx_table(path: Path) -> list[tuple[int, list[str]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)  # openpyxl's optional numpy
        from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(
            f"{path.name} cannot be read as a workbook ({type(exc).__name__})."
        ) from None
    try:
        sheet = book["report"] if "report" in book.sheetnames else book.worksheets[0]
        return [
            (
                number,
                [
                    cell_text(c.value, getattr(c, "number_format", "General") or "General").strip()
                    for c in row
                ],
            )
            for number, row in enumerate(sheet.iter_rows(), start=1)
        ]
    finally:
        book.close()


def _sheets(rows: Sequence[ReportRow]) -> list[Sheet]:
    """The report's rows as the sheets they came from (same file, sheet and line)."""
    groups: dict[tuple[str, str | None, RowKind], list[ReportRow]] = {}
    for row in rows:
        kind = row.kind
        groups.setdefault((row.origin.file, row.origin.sheet, kind), []).append(row)
    sheets = []
    for (file, sheet_name, kind), members in groups.items():
        used = [
            c for c in members[0].values if c in COLUMNS[kind] or any(m.values[c] for m in members)
        ]
        header = Header(
            kind=kind,
            keys=tuple(used),
            labels={c: c for c in used},
            unknown=tuple(c for c in used if canonical(kind, c) is None and c not in COLUMNS[kind]),
            line=1,
        )
        raw = (
            RawRow(m.origin, {c: m.values[c] for c in used})
            for m in sorted(members, key=lambda m: m.origin.line)
        )
        sheets.append(Sheet(file, sheet_name, header, iter(list(raw))))
    sheets.sort(key=lambda s: (s.kind is not RowKind.CLIENT, s.file, s.sheet or ""))
    return sheets


@dataclass(frozen=True, slots=True)
class Retry:
    intake: Intake  # plans and invalid rows of the rows to run again
    carried: tuple[RowResult, ...]  # rows left alone, as the report had them


def plan_retry(report: Path, rows: Sequence[ReportRow], playbook: Playbook) -> Retry:
    """Validate every row again; keep plans and problems only for the rows to retry."""
    wanted = {r.origin for r in rows if r.to_retry}
    full = intake_from_sheets(_sheets(rows), playbook, files=(report.name,))
    clients = tuple(c for c in full.clients if c.origin in wanted)
    users = tuple(u for u in full.users if u.origin in wanted)
    intake = Intake(
        files=full.files,
        playbook=full.playbook,
        clients=clients,
        users=users,
        invalid=tuple(i for i in full.invalid if i.origin in wanted),
        warnings=full.warnings,
        plans=Plans(clients, users, full.playbook),
    )
    carried = tuple(carried_result(r) for r in rows if not r.to_retry)
    return Retry(intake, carried)


def carried_result(row: ReportRow) -> RowResult:
    """A row the retry leaves alone, rebuilt from its report line."""
    r = row.result
    outputs: dict[str, dict[str, Any]] = {}
    if r.get("room_id"):
        outputs[EnsureRoom.KEY] = {"id": _number(r["room_id"]), "title": r.get("room_name", "")}
    if r.get("room_link"):
        outputs[EnsureLink.KEY] = {"url": r["room_link"]}
    if r.get("person_id"):
        outputs[EnsurePerson.KEY] = PersonOut(r["person_id"]).to_json()
    for kind, column in ((EnsureFolder, "folder_ids"), (CopyFile, "file_ids")):
        for name, value in _pairs(r.get(column, "")):
            outputs[kind.key_for(name)] = {"id": _number(value)}
    key = f"{row.kind}:{row.values.get('client_id') or row.values.get('email', '').lower()}"
    return RowResult(
        row_key=key,
        kind=row.kind,
        origin=row.origin,
        values=tuple(row.values.items()),
        status=row.status,
        failed_step=r.get("failed_step") or None,
        error=r.get("error") or None,
        note=r.get("note") or None,
        outputs=outputs,
        requests=_count(r.get("requests", "")),
        attempts=_count(r.get("attempts", "")),
        duration=_decimal(r.get("duration_s", "")),
        carried_changes=r.get("changes") or None,
    )


def read_results(path: Path) -> list[RowResult]:
    """The rows of a report as results (what the report says of each)."""
    return [carried_result(row) for row in read_report(path)]


def _pairs(text: str) -> Iterable[tuple[str, str]]:
    for part in text.split("; "):
        if "=" in part:
            name, _, value = part.rpartition("=")
            yield name, value


def _count(text: str) -> int:
    """A whole number as any locale writes it ("1,234", "1.234", "1 234"); 0 when unreadable."""
    digits = "".join(c for c in text if c.isdigit())
    return int(digits) if digits else 0


def _decimal(text: str) -> float:
    """A decimal as any locale writes it ("0.242" or "0,242"); 0 when unreadable."""
    try:
        return float(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        return 0.0


def _number(text: str) -> int | str:
    return int(text) if text.strip().lstrip("-").isdigit() else text
