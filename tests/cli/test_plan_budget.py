"""`plan --against-portal` never promises the daily write budget: it says what the run needs,
and that the portal refused writes for the day when the last run against it was refused."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner, Result

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox, SandboxConfig
from tests.helpers import CASES, seeded_sandbox

pytestmark = pytest.mark.e2e  # runs against the sandbox


def _cli(sb: Sandbox, *args: str) -> Result:
    return CliRunner().invoke(
        main, list(args), env={"DOCSPACE_TOKEN": sb.token, "DOCSPACE_URL": sb.url}
    )


async def test_plan_says_the_portal_refused_writes_today(tmp_path: object) -> None:
    clients = str(CASES / "sample_clients.csv")
    config = SandboxConfig(db=":memory:", rate_limit=True, daily_write_limit=8)
    async with seeded_sandbox(config) as sb:
        before = await asyncio.to_thread(_cli, sb, "plan", clients, "--against-portal")
        assert "how many are spent today only the portal knows" in before.stdout
        assert "refused writes for the day" not in before.stdout
        ran = await asyncio.to_thread(
            _cli, sb, "run", clients, "--report-dir", f"{tmp_path}/reports", "--no-progress"
        )
        assert ran.exit_code == 5, ran.output
        after = await asyncio.to_thread(_cli, sb, "plan", clients, "--against-portal")
    assert "the last run against this portal was refused writes for the day at " in after.stdout
