"""`plan --against-portal --json` prints JSON, and a dry run announces nothing to the CRM."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.helpers import CASES, SAMPLES

pytestmark = pytest.mark.e2e  # a dry run against the sandbox


def _plan(sb: Sandbox, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        ["plan", *args, "--against-portal", "--rate", "500"],
        env={"DOCSPACE_TOKEN": sb.token, "DOCSPACE_URL": sb.url},
    )


async def test_plan_against_the_portal_as_json(sandbox: Sandbox) -> None:
    result = await asyncio.to_thread(_plan, sandbox, str(SAMPLES / "onboarding.xlsx"), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["summary"] == {
        "rows": 85,
        "would_be_created": 85,
        "would_be_completed": 0,
        "already_onboarded": 0,
        "skipped": 0,
        "with_problems": 0,
    }
    assert document["writes"]["needed"] > 0 and document["writes"]["daily_budget"] == 10_000
    first = document["rows"][0]
    assert first["status"] == "created" and first["problem"] is None and first["steps"]


async def test_a_dry_run_announces_nothing_to_the_crm(sandbox: Sandbox, tmp_path: Path) -> None:
    playbook = tmp_path / "playbook.toml"
    playbook.write_text(f'[crm]\njsonl_path = "{tmp_path / "crm.jsonl"}"\n')
    result = await asyncio.to_thread(
        _plan, sandbox, str(CASES / "sample_clients.csv"), "--playbook", str(playbook)
    )
    assert result.exit_code == 0, result.output
    assert "3 rows: 3 would be created" in result.stdout
    assert not (tmp_path / "crm.jsonl").exists()
