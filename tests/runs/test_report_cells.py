"""report.xlsx opens like a spreadsheet: numbers are numbers, text is shown as typed (a phone
number like +49 30 1234 too, without an apostrophe), columns are sized, and person rows show
the room they joined."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox

pytestmark = pytest.mark.e2e  # a whole run against the sandbox


def _run(sb: Sandbox, tmp_path: Path, *files: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["run", *map(str, files), "--report-dir", str(tmp_path / "reports"), "--no-progress"],
        env={"DOCSPACE_TOKEN": sb.token, "DOCSPACE_URL": sb.url},
    )
    return result.exit_code, result.stdout


async def test_the_report_workbook_has_numbers_text_as_typed_and_joined_rooms(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,client_name,client_email,manager_email,phone\n"
        "C-1,Acme,contact@acme.example.com,maria@northwind.example,+49 30 1234\n"
    )
    users = tmp_path / "users.csv"
    users.write_text("email,first_name,last_name,room\nwile@acme.example.com,Wile,Coyote,C-1\n")
    code, out = await asyncio.to_thread(_run, sandbox, tmp_path, clients, users)
    assert code == 0, out
    (report,) = (tmp_path / "reports").glob("*/report.xlsx")
    sheet = load_workbook(report)["report"]
    header = [c.value for c in sheet[1]]
    rows = {r[header.index("kind")].value: r for r in sheet.iter_rows(min_row=2)}
    client, person = rows["client"], rows["user"]

    def cell(row: tuple[Any, ...], name: str) -> Any:
        return row[header.index(name)]

    for name in ("line", "room_id", "requests", "attempts"):
        assert isinstance(cell(client, name).value, int), name
    assert isinstance(cell(client, "duration_s").value, float)
    phone = cell(client, "phone")
    assert phone.value == "+49 30 1234" and phone.data_type == "s"
    assert phone.quotePrefix
    # the person row names the room it joined
    assert cell(person, "room_id").value == cell(client, "room_id").value
    assert cell(person, "room_name").value == "Client - Acme"
    # columns as wide as their content (within reason)
    widths = {
        name: sheet.column_dimensions[c.column_letter].width
        for name, c in zip(header, sheet[1], strict=True)
    }
    assert widths["room_link"] > widths["line"] >= len("line")
    assert max(widths.values()) <= 62


async def test_summary_json_names_its_request_figures_and_the_line_adds_up(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,client_name,client_email,manager_email\n"
        "C-1,Acme,contact@acme.example.com,maria@northwind.example\n"
    )
    code, out = await asyncio.to_thread(_run, sandbox, tmp_path, clients)
    assert code == 0, out
    (summary,) = (tmp_path / "reports").glob("*/summary.json")
    document = json.loads(summary.read_text())
    assert "client" not in document
    api = document["requests"]
    assert api["total"] == sum(api["by_call"].values())
    line = next(line for line in out.splitlines() if line.startswith("requests: "))
    assert line == (
        f"requests: {api['total']} API calls; {api['attempts']} sent ({api['retries']} of "
        f"them retries), {api['rate_limited']} answered 429"
    )
    assert api["total"] + api["retries"] == api["attempts"]
