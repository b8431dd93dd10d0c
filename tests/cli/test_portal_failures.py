"""A portal that cannot be reached, or keeps failing, is the run's failure (exit 6, rows
interrupted), and a report folder that cannot be used is exit 2 with one sentence.

The command runs in a thread: its asyncio.run must not replace the test's event loop."""

from __future__ import annotations

import asyncio
import csv
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard import config
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import SandboxConfig
from tests.helpers import SAMPLES, seeded_sandbox


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry bounds, without the real waits."""
    monkeypatch.setattr(config, "RetryPolicy", lambda: RetryPolicy.immediate(max_attempts=3))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(
    portal: str, tmp_path: Path, *files: str, report_dir: Path | None = None
) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "run",
            *(files or (str(SAMPLES / "clients.csv"),)),
            "--portal",
            portal,
            "--report-dir",
            str(report_dir or tmp_path / "reports"),
            "--no-progress",
            "--log-format",
            "json",
        ],
        env={"DOCSPACE_TOKEN": "sk-" + "ab" * 20},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def _statuses(tmp_path: Path) -> set[str]:
    (report,) = (tmp_path / "reports").glob("*/report.csv")
    with report.open(encoding="utf-8-sig") as f:
        return {row["status"] for row in csv.DictReader(f)}


async def test_a_refused_connection_is_exit_6_with_every_row_interrupted(tmp_path: Path) -> None:
    code, output = await asyncio.to_thread(_run, f"http://127.0.0.1:{_free_port()}", tmp_path)
    assert code == 6, output
    assert "25 interrupted" in output
    assert "failed" not in output.split("rows in")[1].split("\n")[0]  # no row counted failed
    assert "run failed: the portal cannot be reached" in output
    assert "could not connect to the portal" in output
    assert "bulk-onboard run --resume " in output
    assert _statuses(tmp_path) == {"interrupted"}


async def test_an_unknown_host_is_exit_6(tmp_path: Path) -> None:
    code, output = await asyncio.to_thread(_run, "https://no-such-portal.invalid", tmp_path)
    assert code == 6, output
    assert "25 interrupted" in output
    assert _statuses(tmp_path) == {"interrupted"}


async def test_a_portal_that_only_fails_is_exit_6_not_rows_failed(tmp_path: Path) -> None:
    def _run_sandbox(url: str, token: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            main,
            [
                "run",
                str(SAMPLES / "clients.csv"),
                "--report-dir",
                str(tmp_path / "reports"),
                "--no-progress",
                "--log-format",
                "json",
                "--concurrency",
                "2",
            ],
            env={"DOCSPACE_TOKEN": token, "DOCSPACE_URL": url},
        )
        return result.exit_code, result.output

    async with seeded_sandbox(SandboxConfig(db=":memory:", fault_5xx=1.0)) as sb:
        code, output = await asyncio.to_thread(_run_sandbox, sb.url, sb.token)
    assert code == 6, output
    assert "25 interrupted" in output
    assert "rows in a row failed on it" in output
    assert _statuses(tmp_path) == {"interrupted"}


async def test_a_report_dir_that_is_a_file_is_exit_2_in_one_sentence(tmp_path: Path) -> None:
    taken = tmp_path / "reports.txt"
    taken.write_text("not a folder\n")
    code, output = await asyncio.to_thread(_run, "http://127.0.0.1:9", tmp_path, report_dir=taken)
    assert code == 2, output
    assert output.strip().count("\n") == 0, output
    assert "Traceback" not in output
    assert str(taken) in output and "not a folder" in output


async def test_a_report_dir_that_cannot_be_created_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x\n")
    wanted = tmp_path / "a-file" / "reports"  # under a file: no folder can be made there
    code, output = await asyncio.to_thread(_run, "http://127.0.0.1:9", tmp_path, report_dir=wanted)
    assert code == 2, output
    assert output.strip().count("\n") == 0, output
    assert "Traceback" not in output
    assert "cannot create the report folder" in output and str(wanted) in output
