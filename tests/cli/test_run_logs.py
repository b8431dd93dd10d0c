"""Logs a scheduler can read: the default level has the run, its progress and the rows that did
not succeed, not every step; a burst of one warning is one line and a count."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.sandbox import Sandbox, SandboxConfig
from tests.helpers import SAMPLES, invoke, seeded_sandbox

pytestmark = pytest.mark.e2e  # whole runs against the sandbox


def _clients(tmp_path: Path) -> Path:
    lines = ["client_id,client_name,client_email,manager_email"]
    lines += [f"C-{n},Client {n},c{n}@acme.example.com,nobody@northwind.example" for n in range(5)]
    lines += ["C-ok,Fine,ok@acme.example.com,maria@northwind.example"]
    path = tmp_path / "clients.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    result = invoke(sb, tmp_path / "reports", "run", *args, "--log-format", "json")
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, events


async def test_the_default_level_has_the_rows_that_need_attention_not_every_step(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = str(_clients(tmp_path))
    code, events = await asyncio.to_thread(
        _run, sandbox, tmp_path / "debug", clients, "--log-level", "debug"
    )
    assert code == 1
    names = Counter(e["event"] for e in events)
    assert names["step_finished"] > 0
    assert names["row_finished"] == 6

    code, events = await asyncio.to_thread(_run, sandbox, tmp_path, clients)  # the nightly rerun
    assert code == 1
    names = Counter(e["event"] for e in events)
    assert names["run_started"] == names["run_finished"] == 1
    assert names["progress"] >= 1
    assert names["step_finished"] == names["request_retrying"] == 0
    rows = [e for e in events if e["event"] == "row_finished"]
    assert len(rows) == 5 and {e["status"] for e in rows} == {"failed"}


async def test_a_burst_of_one_warning_is_one_line_and_a_count(tmp_path: Path) -> None:
    config = SandboxConfig(db=":memory:", rate_limit=True, daily_write_limit=20)
    async with seeded_sandbox(config) as sb:
        code, events = await asyncio.to_thread(
            _run, sb, tmp_path, str(SAMPLES / "clients.csv"), "--concurrency", "4"
        )
    assert code == 5
    refused = [
        e for e in events if e["event"] == "request_failed" and e["error"] == "BudgetExhausted"
    ]
    warned = [e for e in refused if e["level"] == "warning"]
    counted = [e for e in refused if "repeated" in e]
    # one line per kind of write (POST, PUT) refused, then one count of the repeats each
    assert len(warned) == len({e["method"] for e in warned}) <= 2, warned
    assert len(refused) == len(warned) + len(counted)
    assert sum(e["repeated"] for e in counted) > 10
