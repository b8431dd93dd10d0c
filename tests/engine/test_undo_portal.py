"""Undo acts on the run's portal only, and never while a run writes to it.

run.json records the portal a run writes to; undo with another portal in use (here the same
sandbox under another name, so an undo that did not check would act on it) is refused before
any request, and so is a folder that does not record its portal, unless --assume-portal says
the portal in use is the run's. With --yes, undo holds the portal's run lock as a run does.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.config import portal_state_dir
from bulk_onboard.runs.folder import portal_lock
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import MARIA, clear_counters, cli, last_run, write_clients
from tests.helpers import admin

pytestmark = pytest.mark.e2e


async def undo_at(sb: Sandbox, url: str, reports: Path, *args: str) -> tuple[int, str]:
    """`bulk-onboard undo ARGS` with DOCSPACE_URL=url, in a thread (the sandbox keeps serving)."""
    return await asyncio.to_thread(_undo_at, sb, url, reports, args)


def _undo_at(sb: Sandbox, url: str, reports: Path, args: tuple[str, ...]) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["undo", *args, "--report-dir", str(reports), "--no-progress", "--rate", "500"],
        env={"DOCSPACE_TOKEN": sb.token, "DOCSPACE_URL": url},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


async def run_one(
    sb: Sandbox, tmp_path: Path, client: tuple[str, str, str, str]
) -> tuple[Path, Path]:
    """A run of one client into tmp_path/reports, exit code 0: the reports and run folders."""
    reports = tmp_path / "reports"
    sheet = write_clients(tmp_path / "clients.csv", [client])
    code, output = await cli(sb, reports, "run", str(sheet))
    assert code == 0, output
    return reports, last_run(reports)


async def requests_made(sb: Sandbox) -> int:
    return sum((await admin(sb, "GET", "/sandbox/requests"))["byRoute"].values())


async def test_undo_refuses_another_portal_and_a_folder_that_does_not_say(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports, run = await run_one(sandbox, tmp_path, ("P-1", "Portal", "it@portal.example", MARIA))
    assert json.loads((run / "run.json").read_text())["portal"] == sandbox.url
    elsewhere = sandbox.url.replace("127.0.0.1", "localhost")  # another name, same server
    await clear_counters(sandbox)

    code, output = await undo_at(sandbox, elsewhere, reports, run.name, "--yes")
    assert code == 2, output
    assert (
        f"run {run.name} wrote to {sandbox.url}, not to {elsewhere}, so undo will not act "
        f"here; give --portal {sandbox.url}"
    ) in output
    # the run's address, written another way, is the same portal (as the state folder key)
    code, output = await undo_at(sandbox, sandbox.url.upper() + "/", reports, run.name)
    assert code == 0, output
    assert "1 room created" in output

    meta = json.loads((run / "run.json").read_text())
    del meta["portal"]  # a folder written before run.json recorded the portal
    (run / "run.json").write_text(json.dumps(meta))
    await clear_counters(sandbox)
    code, output = await undo_at(sandbox, sandbox.url, reports, run.name, "--yes")
    assert code == 2, output
    assert "does not say which portal it wrote to" in output
    assert "run undo again with --assume-portal" in output
    assert await requests_made(sandbox) == 0  # refused before any request
    code, output = await undo_at(
        sandbox, sandbox.url, reports, run.name, "--yes", "--assume-portal"
    )
    assert code == 0, output
    assert "undone: 1 room archived" in output
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert [r["archived"] for r in state["rooms"] if "client:P-1" in r["tags"]] == [True]


async def test_undo_waits_for_no_run_and_no_run_overlaps_it(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    reports, run = await run_one(sandbox, tmp_path, ("L-1", "Locked", "it@locked.example", MARIA))
    where = portal_state_dir(state_dir, sandbox.url)
    nightly = tmp_path / "nightly" / "20261201-020000-000aa"  # a run from another folder
    with portal_lock(where, sandbox.url, "20261201-020000-000aa", nightly):
        code, preview = await undo_at(sandbox, sandbox.url, reports, run.name)  # only reads
        await clear_counters(sandbox)
        code_yes, output = await undo_at(sandbox, sandbox.url, reports, run.name, "--yes")
    assert code == 0, preview
    assert code_yes == 4, output
    assert (
        f"another bulk-onboard run (run 20261201-020000-000aa, pid {os.getpid()} on "
        f"{socket.gethostname()}, started "
    ) in output
    assert f"report folder {nightly}) is writing to {sandbox.url}; wait for it to finish" in output
    assert await requests_made(sandbox) == 0
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert [r["archived"] for r in state["rooms"] if "client:L-1" in r["tags"]] == [False]
