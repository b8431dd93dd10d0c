"""Nothing skipped silently: a workbook sheet that is not read is named by `validate`, `plan` and
`run` (console, summary.json, report.html). One holding a table makes `validate` exit 1 unless
the playbook's [sheets] ignore lists it; a sheet of notes is a warning."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import MARIA, cli, last_run
from tests.helpers import run
from tests.sheets import write_workbook

CLIENTS = [
    ["client_id", "client_name", "client_email", "manager_email"],
    ["K-1", "Acme", "it@acme.example", MARIA],
]
SUMMARY = [["Region", "Clients", "Revenue"], ["North", "12", "1200"], ["South", "3", "300"]]
NOTES = [["Fill in one row per client."], ["Send it back to IT."]]


def test_a_sheet_holding_a_table_makes_validate_exit_1(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "export.xlsx", {"Clients": CLIENTS, "Summary": SUMMARY})
    result = run("validate", str(path))
    assert result.exit_code == 1, result.output
    assert "Summary" in result.stdout
    assert "Not read: this sheet holds a table (2 rows below its header) but it has none" in (
        result.stdout
    )
    assert "[sheets] ignore" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "export.xlsx: 1 row, all valid (1 client, 0 people), 1 sheet with a table not read."
    )
    planned = run("plan", str(path))
    assert planned.exit_code == 0, planned.output  # plan names it; validate is the gate
    assert "Not read: this sheet holds a table" in planned.stdout


def test_the_playbook_ignores_it_and_validate_says_so(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "export.xlsx", {"Clients": CLIENTS, "Summary": SUMMARY})
    playbook = tmp_path / "playbook.toml"
    playbook.write_text('[sheets]\nignore = ["summary"]\n', encoding="utf-8")
    result = run("validate", str(path), "--playbook", str(playbook))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "export.xlsx, sheet Summary: not read (the playbook's [sheets] ignore lists it).",
        "export.xlsx: 1 row, all valid (1 client, 0 people).",
    ]


def test_a_notes_sheet_is_a_warning(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "export.xlsx", {"Clients": CLIENTS, "Instructions": NOTES})
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "Warning: This sheet is not read: it has none of the columns" in result.stdout


@pytest.mark.e2e
async def test_a_run_names_the_sheet_it_skipped_in_console_summary_and_page(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_workbook(
        tmp_path / "export.xlsx", {"Clients": CLIENTS, "Summary": SUMMARY, "Notes": NOTES}
    )
    reports = tmp_path / "reports"
    code, output = await cli(sandbox, reports, "run", str(path))
    assert code == 0, output
    assert (
        "not read: export.xlsx, sheet Summary (a table of 2 rows): it has none of the columns"
        in output
    )
    assert "not read: export.xlsx, sheet Notes: it has none of the columns" in output
    folder = last_run(reports)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert [(u["sheet"], u["table"], u["rows"]) for u in summary["unread_sheets"]] == [
        ("Summary", True, 2),
        ("Notes", False, 0),
    ]
    assert summary["exit_code"] == 0 and list(summary)[-2:] == ["timeline", "exit_code"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert '<table id="unread">' in page and "<td>Summary</td>" in page


def test_plan_json_lists_the_sheets_not_read(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "export.xlsx", {"Clients": CLIENTS, "Summary": SUMMARY})
    planned = json.loads(run("plan", str(path), "--json").stdout)
    assert planned["unread_sheets"] == [
        {
            "file": "export.xlsx",
            "sheet": "Summary",
            "why": "it has none of the columns of a clients sheet (client_id, client_name, "
            "manager_email) or of a users sheet (email)",
            "table": True,
            "rows": 2,
            "ignored": False,
        }
    ]


@pytest.mark.e2e
async def test_plan_against_the_portal_names_the_sheet_it_skipped(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_workbook(tmp_path / "export.xlsx", {"Clients": CLIENTS, "Summary": SUMMARY})
    env = {"DOCSPACE_TOKEN": sandbox.token, "DOCSPACE_URL": sandbox.url}
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["plan", str(path), "--against-portal"], env=env
    )
    assert result.stdout.splitlines()[0].startswith(
        "not read: export.xlsx, sheet Summary (a table of 2 rows): it has none of the columns"
    ), result.output
