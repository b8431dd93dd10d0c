"""A row's identity cannot change by accident in a retry.

The report that `retry` reads was often opened and saved again in Excel, which drops a client
id's leading zeros (00456 → 456) and writes a long number in scientific notation
(1234567890123456 → 1.23457E+15). Run with such an id, the row would make a room for another
client. So each row's key (its client id, or a person's e-mail) is compared with the run's own
copy of its input (the run folder's inputs/) at that file, sheet and line; a key that differs
makes the row invalid with one sentence naming both values, and nothing is created for it.

`changed_inputs` tells when the files the run was given have changed since: a retry runs the
report's rows as the report has them, not what the file now says.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from bulk_onboard.errors import ConfigError, InputError
from bulk_onboard.intake import Intake, Plans
from bulk_onboard.model.records import ClientRecord, Origin, RowKind, UserRecord
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.runs.folder import RunFolder, open_run_folder
from bulk_onboard.sources import open_sources
from bulk_onboard.validate.files import Invalid, Problem

KEY_COLUMN = {RowKind.CLIENT: "client_id", RowKind.USER: "email"}
Keys = Mapping[Origin, str]


def run_keys(run_dir: Path, playbook: Playbook) -> Keys | None:
    """Each input row's key as the run read it, by origin; None when the report is not in a
    run folder or its inputs cannot be read (nothing to compare with)."""
    try:
        folder = _first_run(run_dir)
        if folder.retry_of is not None:  # a retry of a report outside a run folder
            from bulk_onboard.runs.report_reader import read_report

            return {
                row.origin: row.values.get(KEY_COLUMN[row.kind], "")
                for row in read_report(folder.inputs[0])
            }
        kind = RowKind.from_text(folder.kind) if folder.kind else None
        sheets = open_sources(list(folder.inputs), kind, playbook.columns)
    except (ConfigError, InputError, OSError, KeyError, ValueError):
        return None
    keys: dict[Origin, str] = {}
    for sheet in sheets:
        column = KEY_COLUMN[sheet.kind]
        for row in sheet.rows:
            keys[row.origin] = row.values.get(column, "")
    return keys


MAX_RETRIES_BACK = 100


def _first_run(run_dir: Path) -> RunFolder:
    """The run a chain of retries began with (a retry's input is the report it retried)."""
    folder = open_run_folder(str(run_dir), run_dir.parent)
    for _ in range(MAX_RETRIES_BACK):
        if folder.retry_of is None or not (run_dir.parent / folder.retry_of / "run.json").is_file():
            break
        folder = open_run_folder(str(run_dir.parent / folder.retry_of), run_dir.parent)
    return folder


def refuse_changed_keys(intake: Intake, keys: Keys) -> Intake:
    """The intake with every row whose key differs from the run's input made invalid; an
    invalid row's problems start with that one (two ids Excel made one are "also the
    client_id" of each other, but the cause is Excel's)."""
    clients: list[ClientRecord] = []
    users: list[UserRecord] = []
    refused = [_first_problem(row, keys) for row in intake.invalid]
    records: tuple[ClientRecord | UserRecord, ...] = (*intake.clients, *intake.users)
    for record in records:
        problem = _changed(record.origin, record.values, _kind(record), keys)
        if problem is not None:
            refused.append(
                Invalid(record.origin, _kind(record), problem[0], (problem[1],), record.values)
            )
        elif isinstance(record, ClientRecord):
            clients.append(record)
        else:
            users.append(record)
    if refused == list(intake.invalid):
        return intake
    refused.sort(key=lambda row: (row.origin.file, row.origin.sheet or "", row.origin.line))
    return replace(
        intake,
        clients=tuple(clients),
        users=tuple(users),
        invalid=tuple(refused),
        plans=Plans(clients, users, intake.playbook),
    )


def _first_problem(row: Invalid, keys: Keys) -> Invalid:
    problem = _changed(row.origin, row.values, row.kind, keys)
    return row if problem is None else replace(row, problems=(problem[1], *row.problems))


def _kind(record: ClientRecord | UserRecord) -> RowKind:
    return RowKind.CLIENT if isinstance(record, ClientRecord) else RowKind.USER


def _changed(
    origin: Origin, values: tuple[tuple[str, str], ...], kind: RowKind, keys: Keys
) -> tuple[str, Problem] | None:
    """(the key now, the problem) when the row's key is not the one its input line had."""
    column = KEY_COLUMN[kind]
    now = dict(values).get(column, "").strip()
    was = keys.get(origin, "").strip()
    if not was or now.casefold() == was.casefold():
        return None
    where = origin.describe()
    text = (
        f'"{now}" is not the {column} "{was}" that {where} had when the run read it '
        "(Excel drops leading zeros and writes long numbers as 1.23457E+15 when it saves), so "
        f'nothing is done for this row: put "{was}" back in the report (format the column as '
        f"Text first) and retry again, or change {column} in the input file and run that file."
    )
    return now, Problem(column, column, text)


def rerun_command(run_dir: Path) -> str:
    """The command that runs the files the run was given again, as they are now."""
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    words = ["bulk-onboard", "run", *(item["given"] for item in meta["inputs"])]
    if meta.get("playbook"):
        words += ["--playbook", meta["playbook"]["given"]]
    if meta.get("kind"):
        words += ["--kind", meta["kind"]]
    return shlex.join(words)


def changed_inputs(run_dir: Path) -> list[str]:
    """The files the run was given (as given) that now differ from the run's copies."""
    try:
        meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        if meta.get("retry_of"):
            return []
        pairs = [(Path(item["given"]), run_dir / item["copy"]) for item in meta["inputs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    changed = []
    for given, copy in pairs:
        try:
            if given.is_file() and given.read_bytes() != copy.read_bytes():
                changed.append(str(given))
        except OSError:
            continue
    return changed


def keep_identities(intake: Intake, run_dir: Path) -> Intake:
    """The retry's intake with the rows whose key changed since the run refused (nothing to
    compare with when the report is not in a run folder)."""
    if not (run_dir / "run.json").is_file():
        return intake
    keys = run_keys(run_dir, intake.playbook)
    return intake if keys is None else refuse_changed_keys(intake, keys)
