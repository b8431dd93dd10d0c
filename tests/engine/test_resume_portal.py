"""A run is resumed on the portal it wrote to, and on no other: its journal's ids (rooms,
folders, links) are numbered by that portal."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from bulk_onboard.cli.output import EXIT_INPUT
from bulk_onboard.runs.folder import never_reached, open_run_folder
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


@pytest.mark.usefixtures("short_backoff")
async def test_a_run_that_never_reached_its_portal_resumes_on_the_right_address(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = write_clients(tmp_path / "clients.csv", [("R-2", "Wrong", "c@r2.example", MARIA)])
    with socket.socket() as probe:  # an address nothing listens on: the run reaches nothing
        probe.bind(("127.0.0.1", 0))
        wrong = f"http://127.0.0.1:{probe.getsockname()[1]}"
    code, output = await cli(
        sandbox, tmp_path / "reports", "run", str(clients), "--portal", wrong, "--outage-wait", "0"
    )
    assert code == 6, output
    run = last_run(tmp_path / "reports")
    assert never_reached(open_run_folder(str(run), tmp_path))

    code, output = await cli(sandbox, tmp_path / "reports", "run", "--resume", run.name)
    assert code == 0, output
    assert f"run {run.name} never reached {wrong} (nothing was written there): resuming it on" in (
        output
    )
    assert json.loads((run / "run.json").read_text())["portal"] == sandbox.url
    rooms = (await admin(sandbox, "GET", "/sandbox/audit"))["counts"]["rooms"]
    assert rooms == 2  # the Templates room and the client's, made on the right portal

    # having written there, it stays there
    code, output = await cli(
        sandbox, tmp_path / "reports", "run", "--resume", run.name, "--portal", wrong
    )
    assert code == EXIT_INPUT, output
    assert "resume it on its own portal" in output
