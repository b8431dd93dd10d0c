"""After a run the console says which rows need attention, why, and what to type next; Ctrl-C
says at once what it does; the progress line counts each status apart."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.processes import interrupt_run, portal_process

pytestmark = pytest.mark.e2e  # whole runs against the sandbox


def _clients(tmp_path: Path, count: int) -> Path:
    """`count` clients whose manager has no account (they fail at share), one invalid row."""
    lines = ["client_id,client_name,client_email,manager_email"]
    lines += [
        f"C-{n},Client {n},c{n}@acme.example.com,nobody{n}@northwind.example"
        for n in range(1, count + 1)
    ]
    lines.append("C-999,Broken,not-an-address,maria@northwind.example")
    path = tmp_path / "clients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(sb: Sandbox, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        list(args),
        env={"DOCSPACE_TOKEN": sb.token, "DOCSPACE_URL": sb.url},
    )
    return result.exit_code, result.stdout, result.stderr


async def test_a_run_with_failures_lists_them_counts_causes_and_names_the_retry(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = _clients(tmp_path, 12)
    reports = tmp_path / "reports"
    code, out, err = await asyncio.to_thread(
        _run,
        sandbox,
        "run",
        str(clients),
        "--report-dir",
        str(reports),
        "--no-progress",
        "--log-format",
        "json",
    )
    assert code == 1, out + err
    # under --log-format json stdout is the log; what is said for people is on stderr
    assert all(line.startswith("{") for line in out.splitlines()), out
    lines = err.splitlines()
    assert "13 rows" in lines[0] and "12 failed, 1 invalid" in lines[0]
    start = lines.index("rows that need attention (13):")
    shown = lines[start + 1 : start + 11]
    assert all(line.startswith("  clients.csv, line ") for line in shown), shown
    assert "client:C-1 " in shown[0] and "failed at " in shown[0]
    assert lines[start + 11] == "  and 3 more (all of them are in the report)"
    causes = lines[lines.index("by cause:") + 1 :]
    assert causes[0].split()[0] == "12"  # the twelve rows failed alike: one cause
    assert causes[1].split()[0] == "1" and "invalid at validate" in causes[1]
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    expected = f"next: fix what the report says, then: bulk-onboard retry {run_dir}/report.xlsx"
    assert lines[-1] == expected

    # the printed command works as printed
    command = lines[-1].split("then: ")[1].split()
    assert command[:2] == ["bulk-onboard", "retry"]
    code, out, err = await asyncio.to_thread(
        _run, sandbox, *command[1:], "--report-dir", str(reports), "--no-progress"
    )
    assert code == 1, out + err
    assert "retried 13 rows of run" in out

    # the last progress line agrees with the summary
    progress = [json.loads(line) for line in err.splitlines() if '"progress"' in line]
    assert progress, err
    last = progress[-1]
    assert (last["failed"], last["invalid"], last["interrupted"], last["deferred"]) == (
        12,
        1,
        0,
        0,
    )


async def test_ctrl_c_says_what_it_does_and_ends_with_the_resume_command(tmp_path: Path) -> None:
    token = "sk-" + "9abcdef0" * 4
    async with portal_process(tmp_path, token) as (url, env):
        code, out, err = await interrupt_run(url, env, tmp_path, timeout=60)
    assert code == 3, out
    said = [line for line in err.splitlines() if line.startswith("stopping: ")]
    assert len(said) == 1, err
    assert said[0].startswith("stopping: finishing ")
    assert said[0].endswith(" in flight; Ctrl-C again to cancel them")
    last = out.strip().splitlines()[-1]
    assert last.startswith("continue with: bulk-onboard run --resume ")
    folder = Path(last.rsplit(" ", 1)[1])  # the run folder: right whatever --report-dir was
    assert folder.parent == tmp_path / "reports" and (folder / "run.json").is_file()


def test_the_progress_bar_counts_statuses_apart() -> None:
    code = (
        "from rich.console import Console\n"
        "from bulk_onboard.cli.progress import BarProgress\n"
        "from bulk_onboard.runs.report import Status\n"
        "bar = BarProgress(Console(force_terminal=True, width=200))\n"
        "bar.start(4)\n"
        "for s in (Status.CREATED, Status.FAILED, Status.INVALID, Status.DEFERRED):\n"
        "    bar.row_done(s)\n"
        "bar.close()\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "1 failed, 1 invalid, 1 deferred" in shown


async def test_retry_takes_a_run_folder_or_a_run_id(sandbox: Sandbox, tmp_path: Path) -> None:
    clients = _clients(tmp_path, 2)
    reports = tmp_path / "reports"
    common = ("--report-dir", str(reports), "--no-progress")
    code, out, err = await asyncio.to_thread(_run, sandbox, "run", str(clients), *common)
    assert code == 1, out + err
    (folder,) = [p for p in reports.iterdir() if p.is_dir()]
    for given in (folder.name, str(folder)):
        code, out, err = await asyncio.to_thread(_run, sandbox, "retry", given, *common)
        assert code == 1, out + err
        assert f"retried 3 rows of run {folder.name}" in out
    code, out, err = await asyncio.to_thread(_run, sandbox, "retry", "no-such-run", *common)
    assert code == 2
    assert err.strip() == (
        f"no-such-run is not a report file, a run folder or a run id in {reports}/; give the "
        "report.xlsx (or report.csv) of a run, its folder or its id"
    )
