"""`--log-format json`: stdout is JSON lines only, as a scheduler collects it (`>> run.jsonl`);
the summary, the warnings and the command to type next are on stderr."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e  # whole runs against the sandbox, in a child process


def _clients(tmp_path: Path) -> Path:
    lines = ["client_id,client_name,client_email,manager_email"]
    lines += ["C-1,Fine,ok@acme.example.com,maria@northwind.example"]
    lines += ["C-2,Orphan,c2@acme.example.com,nobody@northwind.example"]  # fails: no account
    lines += ["C-3,Broken,not-an-address,maria@northwind.example"]  # invalid
    path = tmp_path / "clients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _bulk_onboard(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    token = tmp_path / "token"
    token.write_text(sb.token, encoding="utf-8")
    token.chmod(0o644)  # readable by others: a warning, which must not reach stdout
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bulk_onboard",
        *args,
        "--token-file",
        str(token),
        "--report-dir",
        str(tmp_path / "reports"),
        "--log-format",
        "json",
        "--rate",
        "500",
        env={**os.environ, "DOCSPACE_URL": sb.url, "DOCSPACE_TOKEN": ""},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_every_stdout_line_of_a_json_logged_run_is_json(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    code, out, err = await _bulk_onboard(sandbox, tmp_path, "run", str(_clients(tmp_path)))
    assert code == 1, out + err
    events = [json.loads(line) for line in out.splitlines()]  # each line, or this fails
    finished = [e for e in events if e["event"] == "run_finished"]
    assert len(finished) == 1
    assert finished[0]["verdict"] == "rows_need_attention"
    assert (finished[0]["created"], finished[0]["failed"], finished[0]["invalid"]) == (1, 1, 1)
    # what people read is on stderr: the warning, the summary, the next command
    assert "warning: the token file" in err and "can be read by other users" in err
    assert "3 rows in" in err and "bulk-onboard retry " in err
    assert not any(line.startswith("{") for line in err.splitlines()), err

    # the retry a scheduler runs next is as clean
    report = next((tmp_path / "reports").glob("*/report.xlsx"))
    code, out, err = await _bulk_onboard(sandbox, tmp_path, "retry", str(report))
    assert code == 1, out + err
    names = [json.loads(line)["event"] for line in out.splitlines()]
    assert names.count("run_started") == names.count("run_finished") == 1, names
    assert "retried 2 rows of run" in err
