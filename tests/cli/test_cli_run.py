"""`bulk-onboard run` as a user meets it: exit codes, the report, the token kept secret,
and a process killed mid-run then run again."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.helpers import SAMPLES, admin, get_json, invoke
from tests.processes import (
    finish_run,
    interrupt_run,
    portal_process,
    run_args,
    until_rooms,
)

pytestmark = pytest.mark.e2e  # a whole run against the sandbox


def _run(sb: Sandbox, tmp_path: Path, *args: str, token: str | None = None) -> tuple[int, str]:
    result = invoke(sb, tmp_path / "reports", "run", *args, "--log-format", "json", token=token)
    return result.exit_code, result.output


def _artefacts(tmp_path: Path) -> str:
    return "".join(
        p.read_text(errors="replace")
        for p in (tmp_path / "reports").rglob("*")
        if p.is_file() and p.suffix in (".csv", ".json", ".jsonl")
    )


async def test_exit_0_when_every_row_is_onboarded(sandbox: Sandbox, tmp_path: Path) -> None:
    code, output = await asyncio.to_thread(
        _run,
        sandbox,
        tmp_path,
        str(SAMPLES / "clients.csv"),
        str(SAMPLES / "users.csv"),
        "--rate",
        "500",
    )
    assert code == 0, output
    assert "85 created" in output
    assert sandbox.token not in output and sandbox.token not in _artefacts(tmp_path)


async def test_exit_1_when_some_rows_are_invalid(sandbox: Sandbox, tmp_path: Path) -> None:
    bad = tmp_path / "clients.csv"
    bad.write_text(
        "client_id,client_name,client_email,manager_email\n"
        "C-1,Acme,contact@acme.example.com,maria.garcia@northwind.example\n"
        "C-2,Globex,not-an-address,maria.garcia@northwind.example\n"
    )
    code, output = await asyncio.to_thread(_run, sandbox, tmp_path, str(bad))
    assert code == 1
    assert "1 created" in output and "1 invalid" in output
    report = next((tmp_path / "reports").rglob("report.csv")).read_text(encoding="utf-8-sig")
    invalid_line = next(line for line in report.splitlines() if ",invalid," in line)
    assert "client_email" in invalid_line


async def test_exit_2_for_an_unusable_file_and_nothing_is_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = await admin(sandbox, "GET", "/sandbox/requests")
    broken = tmp_path / "clients.xlsx"
    broken.write_bytes(b"%PDF-1.4 not a workbook")
    code, output = await asyncio.to_thread(_run, sandbox, tmp_path, str(broken))
    assert code == 2
    assert "clients.xlsx" in output and "Traceback" not in output
    assert (await admin(sandbox, "GET", "/sandbox/requests")) == before


async def test_exit_2_for_plain_http_to_a_remote_portal(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["run", str(SAMPLES / "clients.csv"), "--portal", "http://docspace.example.com"],
        env={"DOCSPACE_TOKEN": "sk-0123456789abcdef"},
    )
    assert result.exit_code == 2
    assert "http://" in result.output and "https://" in result.output
    assert "sk-0123456789abcdef" not in result.output


async def test_exit_8_when_the_token_is_refused_and_the_report_is_still_written(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    wrong = "sk-" + "ab" * 20
    code, output = await asyncio.to_thread(
        _run, sandbox, tmp_path, str(SAMPLES / "clients.csv"), token=wrong
    )
    assert code == 8, output  # not 3, which is a stop someone asked for
    assert "25 interrupted" in output
    assert "token" in output.lower()
    assert (
        "give a token the portal accepts, then continue with: bulk-onboard run --resume" in output
    )
    assert wrong not in output and wrong not in _artefacts(tmp_path)
    audit = await admin(sandbox, "GET", "/sandbox/audit")
    assert audit["counts"]["rooms"] == 1  # only the Templates room


async def test_killed_mid_run_then_rerun_onboards_everything_exactly_once(tmp_path: Path) -> None:
    """A real `bulk-onboard run` process is killed with SIGKILL mid-way; the rerun finishes
    the work and the portal holds every room, folder and file once, every mail once."""
    token = "sk-" + "1234abcd" * 4
    async with portal_process(tmp_path, token) as (url, env):
        with (tmp_path / "first.log").open("wb") as log:
            first = await asyncio.create_subprocess_exec(
                *run_args(tmp_path), env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log
            )
            await until_rooms(url, 4, first)  # well into the clients phase
            first.send_signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
        partial = await get_json(f"{url}/sandbox/audit")
        assert 1 < partial["counts"]["rooms"] < 26  # killed mid-way
        await finish_run(url, env, tmp_path)


async def test_ctrl_c_finishes_rows_in_flight_writes_the_report_and_exits_3(tmp_path: Path) -> None:
    token = "sk-" + "5678abcd" * 4
    async with portal_process(tmp_path, token) as (url, env):
        code, out, _ = await interrupt_run(url, env, tmp_path, timeout=30)
        assert code == 3, out
        assert "interrupted" in out
        report = next((tmp_path / "reports").rglob("report.csv")).read_text(encoding="utf-8-sig")
        statuses = [line.split(",") for line in report.splitlines()[1:]]
        assert any("interrupted" in row for row in statuses)
        assert any("created" in row for row in statuses)
        # Rows in flight were finished, not cut: every room that exists has its link.
        audit = await get_json(f"{url}/sandbox/audit")
        assert audit["counts"]["links"] == audit["counts"]["rooms"] - 1
        await finish_run(url, env, tmp_path)
