"""`plan --against-portal`: reads the portal, writes nothing, predicts the run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.helpers import SAMPLES, admin

pytestmark = pytest.mark.e2e  # a whole run against the sandbox


def _cli(sb: Sandbox, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        list(args),
        env={"DOCSPACE_TOKEN": sb.token, "DOCSPACE_URL": sb.url},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


async def cli(sb: Sandbox, *args: str) -> tuple[int, str]:
    return await asyncio.to_thread(_cli, sb, *args)


async def _writes(sb: Sandbox) -> dict[str, int]:
    routes = (await admin(sb, "GET", "/sandbox/requests"))["byRoute"]
    return {r: n for r, n in routes.items() if not r.startswith("GET") or r.endswith("/link")}


async def test_dry_run_predicts_the_writes_of_the_real_run_and_sends_none(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    workbook = str(SAMPLES / "onboarding.xlsx")
    code, output = await cli(sandbox, "plan", workbook, "--against-portal", "--rate", "500")
    assert code == 0, output
    assert "85 rows: 85 would be created" in output
    assert await _writes(sandbox) == {}  # not one POST or PUT, and no link-creating GET
    predicted = int(output.split("the run needs ")[1].split()[0])

    code, output = await cli(
        sandbox,
        "run",
        workbook,
        "--report-dir",
        str(tmp_path),
        "--rate",
        "500",
        "--no-progress",
        "--log-format",
        "json",
    )
    assert code == 0, output
    summary = json.loads(next(tmp_path.rglob("summary.json")).read_text())
    actual = sum(
        n for kind, n in summary["requests"]["by_call"].items() if kind.startswith(("POST", "PUT"))
    )
    assert predicted == actual

    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, output = await cli(sandbox, "plan", workbook, "--against-portal", "--rate", "500")
    assert code == 0 and "85 already onboarded" in output, output
    assert "the run needs 0 write requests" in output
    assert await _writes(sandbox) == {}


async def test_dry_run_names_the_problems_the_portal_would_raise(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await admin(
        sandbox,
        "POST",
        "/sandbox/people",
        [{"email": "plain.user@northwind.example", "firstName": "Plain", "type": 4}],
    )
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {sandbox.token}"}) as http:
        await http.post(
            f"{sandbox.url}/api/2.0/files/rooms", json={"title": "Client - Globex", "roomType": 2}
        )  # someone else's room
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,client_name,client_email,manager_email\n"
        "C-1,Acme,contact@acme.example.com,plain.user@northwind.example\n"
        "C-2,Globex,ops@globex.example.com,maria.garcia@northwind.example\n"
        "C-3,Initech,it@initech.example.com,maria.garcia@northwind.example\n"
    )
    code, output = await cli(sandbox, "plan", str(clients), "--against-portal")
    assert code == 1, output
    assert "client:C-1  (clients.csv, line 2)  problem at share: the account manager " in output
    assert "plain.user@northwind.example is not a room admin or DocSpace admin" in output
    assert 'problem at room: a room titled "Client - Globex" already exists but was not ' in output
    assert "client:C-3  (clients.csv, line 4)  would be created" in output

    playbook = tmp_path / "playbook.toml"
    playbook.write_text(
        '[[copies]]\nsource = "Templates/Missing.pdf"\nfolder = "Deliverables"\ntitle = "Hello.pdf"\n'
    )
    code, output = await cli(
        sandbox, "plan", str(clients), "--playbook", str(playbook), "--against-portal"
    )
    assert code == 1, output
    assert (
        'problem at copy:Hello.pdf: the template file "Missing.pdf" is not in the room ' in output
    )
    assert await _writes(sandbox) == {"POST /api/2.0/files/rooms": 1}  # only the test's own room


async def test_a_dry_run_announces_nothing_to_the_crm(sandbox: Sandbox, tmp_path: Path) -> None:
    """A playbook with CRM sinks: the dry run writes no CRM record, no ledger, and needs no
    webhook secret (it sends nothing)."""
    records = tmp_path / "crm.jsonl"
    playbook = tmp_path / "playbook.toml"
    playbook.write_text(
        "[crm]\n"
        f'webhook_url = "{sandbox.url}/sandbox/webhook"\n'
        'secret_env = "CRM_SECRET_NOT_SET"\n'
        f"jsonl_path = {json.dumps(str(records))}\n"
    )
    workbook = str(SAMPLES / "onboarding.xlsx")
    code, output = await cli(
        sandbox, "plan", workbook, "--playbook", str(playbook), "--against-portal", "--rate", "500"
    )
    assert code == 0, output
    assert "85 rows: 85 would be created" in output
    assert "announce" not in output
    assert not records.exists()
    assert (await admin(sandbox, "GET", "/sandbox/webhook"))["deliveries"] == []
