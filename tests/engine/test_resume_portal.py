"""A run is resumed on the portal it wrote to, and on no other: its journal's ids (rooms,
folders, links) are numbered by that portal."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.cli.output import EXIT_INPUT
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import MARIA, cli, last_run, write_clients
from tests.helpers import admin

pytestmark = pytest.mark.e2e


async def test_a_run_is_not_resumed_on_another_portal(sandbox: Sandbox, tmp_path: Path) -> None:
    clients = write_clients(tmp_path / "clients.csv", [("R-1", "Resumed", "c@r1.example", MARIA)])
    code, output = await cli(sandbox, tmp_path / "reports", "run", str(clients))
    assert code == 0, output
    run = last_run(tmp_path / "reports")
    await admin(sandbox, "DELETE", "/sandbox/requests")

    other = "http://127.0.0.2:9"  # another portal's address; nothing is sent to either
    code, output = await cli(
        sandbox, tmp_path / "reports", "run", "--resume", run.name, "--portal", other
    )
    assert code == EXIT_INPUT == 2, output
    assert f"run {run.name} wrote to {sandbox.url}" in output
    assert "resume it on its own portal" in output
    assert (await admin(sandbox, "GET", "/sandbox/requests"))["byRoute"] == {}

    # on its own portal the same resume goes on (nothing left to do, nothing written)
    code, output = await cli(sandbox, tmp_path / "reports", "run", "--resume", run.name)
    assert code == 0, output
