"""A value comes back from report.csv and report.xlsx exactly as it was typed, whatever it
starts with: an apostrophe a user typed before a formula character (`'=quoted`) is kept, not
taken for the apostrophe the report adds to make a cell inert."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from bulk_onboard.model.cells import neutralise, restore
from bulk_onboard.sandbox import Sandbox
from tests.helpers import admin, assert_clean, get_json, invoke

TYPED = ["'=quoted", "=SUM(A1)", "'plain", "''=twice", "+49 30 1234", "-", "'", "O'Brien"]


def test_restore_undoes_neutralise_for_every_text() -> None:
    for value in [*TYPED, "", "'@x", "'''", "@", "\t", "'\r"]:
        assert restore(neutralise(value)) == value, value
    assert neutralise("'=quoted") == "''=quoted"
    assert neutralise("'plain") == "'plain"  # nothing to take for a formula: as it is


def _cli(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = invoke(sb, tmp_path / "reports", *args, "--rate", "500")
    return result.exit_code, result.output


def _rows(report: Path) -> dict[str, dict[str, str]]:
    with report.open(encoding="utf-8-sig", newline="") as fh:
        return {r["client_id"]: r for r in csv.DictReader(fh)}


def _runs(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "reports").iterdir() if (p / "run.json").exists())


@pytest.mark.e2e
@pytest.mark.parametrize("report_name", ["report.csv", "report.xlsx"])
async def test_values_starting_with_an_apostrophe_survive_a_retry(
    sandbox: Sandbox, tmp_path: Path, report_name: str
) -> None:
    clients = tmp_path / "clients.csv"
    lines = ["client_id,client_name,client_email,manager_email,remark"]
    for n, value in enumerate(TYPED, start=1):
        # every other row fails at its share (a manager the portal does not have yet)
        manager = "nobody@northwind.example" if n % 2 else "maria.garcia@northwind.example"
        cell = '"' + value.replace('"', '""') + '"'
        lines.append(f"C-{n},{cell} Ltd,c{n}@client{n}.example.com,{manager},{cell}")
    clients.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = await asyncio.to_thread(_cli, sandbox, tmp_path, "run", str(clients))
    assert code == 1, output
    first = _runs(tmp_path)[0]
    assert {r["status"] for r in _rows(first / "report.csv").values()} == {"created", "failed"}

    await admin(
        sandbox,
        "POST",
        "/sandbox/people",
        [{"email": "nobody@northwind.example", "firstName": "Nobody", "type": 1}],
    )
    code, output = await asyncio.to_thread(
        _cli, sandbox, tmp_path, "retry", str(first / report_name)
    )
    assert code == 0, output
    second = _runs(tmp_path)[1]
    rows = _rows(second / "report.csv")
    assert {r["status"] for r in rows.values()} == {"created"}
    # both the carried rows and the retried ones: the value as typed, after a restore of the
    # report's own apostrophe
    for n, value in enumerate(TYPED, start=1):
        row = rows[f"C-{n}"]
        assert restore(row["remark"]) == value, (n, row["remark"])
        assert restore(row["client_name"]) == f"{value} Ltd"
    # the retried rows' rooms carry the name as typed on the portal (which replaces a + in
    # titles, docspace-api.md §10.1)
    state = await get_json(f"{sandbox.url}/sandbox/state")
    titles = {room["title"] for room in state["rooms"]}
    for n, value in enumerate(TYPED, start=1):
        assert restore(rows[f"C-{n}"]["room_name"]) in titles
        if n % 2 and "+" not in value:
            assert f"Client - {value} Ltd" in titles, value
    await assert_clean(sandbox)
