"""`retry` reads a report as a person saves it again, and a row's identity cannot change by
accident: over real HTTP against the sandbox.

A German Excel saves the report as Windows-1252 with semicolons and CRLF, writes decimals with a
comma, and drops a client id's leading zeros (00456 → 456). The corrected row runs; the row whose
id changed is refused with one sentence naming both ids, and nothing is created for it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    MARIA,
    cli,
    last_run,
    portal_state,
    report_rows,
    rooms_of,
    write_clients,
)

pytestmark = pytest.mark.e2e


def save_as_german_excel(report: Path, edits: dict[str, dict[str, str]]) -> None:
    """The report.csv with cells changed per client id, saved as Excel does in Germany."""
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        row[header.index("duration_s")] = record["duration_s"].replace(".", ",")
        for column, value in edits.get(record["client_id"], {}).items():
            row[header.index(column)] = value
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    report.write_bytes(out.getvalue().encode("cp1252"))


async def test_an_excel_saved_report_retries_and_a_changed_id_is_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = write_clients(
        tmp_path / "clients.csv",
        [
            ("00456", "Hill Ltd", "ops@hill.example", "nobody@northwind.example"),
            ("C-2", "Müller GmbH", "it@mueller.example", "nobody2@northwind.example"),
        ],
    )
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code != 0, output  # both managers have no account: both rows fail at their share
    first = last_run(reports)
    assert {r["status"] for r in report_rows(first).values()} == {"failed"}
    rooms_before = {r["id"] for r in (await portal_state(sandbox))["rooms"]}

    report = first / "report.csv"
    save_as_german_excel(
        report,
        {
            "00456": {"client_id": "456", "manager_email": MARIA},
            "C-2": {"manager_email": f"{MARIA} "},  # a trailing space, as typed
        },
    )
    saved = report.read_bytes()
    assert b";" in saved.splitlines()[0] and "ü".encode("cp1252") in saved
    code, output = await cli(sandbox, reports, "retry", str(report))
    assert "Traceback" not in output
    assert code == 1, output  # one row refused
    assert '"456" is not the client_id "00456"' in output, output
    rows = report_rows(last_run(reports))
    assert rows["C-2"]["status"] == "created", rows["C-2"]
    assert rows["456"]["status"] == "invalid"
    assert 'put "00456" back in the report' in rows["456"]["error"]
    state = await portal_state(sandbox)
    assert rooms_of(state, "456") == []  # nothing created for the changed id
    [room] = rooms_of(state, "C-2")
    assert {r["id"] for r in state["rooms"]} - rooms_before == {room["id"]}  # C-2's room only
    members = {s["email"] for s in state["shares"] if s["roomId"] == room["id"]}
    assert MARIA in members

    # what the sentence says to do works: the id put back, the row runs
    again = last_run(reports) / "report.csv"
    save_as_german_excel(again, {"456": {"client_id": "00456"}})
    sheet.write_text(sheet.read_text(encoding="utf-8") + "C-3,Dale,it@dale.example,x@y.example\n")
    code, output = await cli(sandbox, reports, "retry", str(again))
    assert code == 0, output
    assert "clients.csv has changed since run" not in output  # a retry of a retry: the report
    [hill] = rooms_of(await portal_state(sandbox), "00456")
    assert rooms_of(await portal_state(sandbox), "456") == []
    assert hill["title"] == "Client - Hill Ltd"


async def test_a_retry_says_when_the_input_file_changed_since_the_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = write_clients(
        tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", "nobody@northwind.example")]
    )
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code != 0, output
    write_clients(sheet, [("K-1", "Acme", "it@acme.example", MARIA)])  # fixed in the file
    code, output = await cli(sandbox, reports, "retry", str(last_run(reports) / "report.csv"))
    assert f"warning: {sheet} has changed since run" in output.replace("\n", " ")
    assert f"run: bulk-onboard run {sheet}" in output.replace("\n", " ")
