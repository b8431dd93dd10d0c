"""Resume after a crash, retry what failed, the nightly contract: nothing twice, nothing lost."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bulk_onboard.runs.folder import report_dir_lock
from bulk_onboard.sandbox import Sandbox
from tests.helpers import SAMPLES, admin, assert_clean, assert_sample_onboarded_once, command
from tests.processes import finish_run, portal_process, run_args, until_rooms

pytestmark = pytest.mark.e2e  # a whole run against the sandbox


async def cli(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str]:
    return await command(sb, tmp_path / "reports", *args, "--log-format", "json", "--rate", "500")


def _runs(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "reports").iterdir() if (p / "run.json").exists())


def _rows(report: Path) -> list[dict[str, str]]:
    with report.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def test_killed_three_times_and_resumed_ends_as_one_perfect_run(tmp_path: Path) -> None:
    token = "sk-" + "9abc1234" * 4
    async with portal_process(tmp_path, token) as (url, env):
        run_id = ""
        for rooms in (4, 12, 20):
            args = run_args(tmp_path, "--resume", run_id) if run_id else run_args(tmp_path)
            process = await asyncio.create_subprocess_exec(
                *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            await until_rooms(url, rooms, process)
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
            run_id = _runs(tmp_path)[0].name
        assert len(_runs(tmp_path)) == 1  # resumes continue in the same run folder
        await finish_run(url, env, tmp_path, "--resume", run_id)
        rows = _rows(_runs(tmp_path)[0] / "report.csv")
        assert len(rows) == 85 and {r["status"] for r in rows} <= {
            "created",
            "updated",
            "unchanged",
        }
        summary = json.loads((_runs(tmp_path)[0] / "summary.json").read_text())
        assert summary["resumed"] is True


async def test_same_spreadsheet_three_nights_writes_once(sandbox: Sandbox, tmp_path: Path) -> None:
    workbook = str(SAMPLES / "onboarding.xlsx")
    assert (await cli(sandbox, tmp_path, "run", workbook))[0] == 0
    await admin(sandbox, "DELETE", "/sandbox/requests")
    for _ in range(2):
        code, output = await cli(sandbox, tmp_path, "run", workbook)
        assert code == 0 and "85 unchanged" in output, output
    requests = await admin(sandbox, "GET", "/sandbox/requests")
    writes = {route: n for route, n in requests["byRoute"].items() if not route.startswith("GET")}
    assert writes == {}
    summaries = [json.loads((run / "summary.json").read_text()) for run in _runs(tmp_path)]
    assert [s["statuses"]["unchanged"] for s in summaries] == [0, 85, 85]


async def test_retry_runs_only_failed_rows_from_their_failed_step(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # Sofia is the manager of 5 clients; without her account those rows fail at the share step,
    # checked before their rooms are made, and the 10 people of those rooms with them.
    users = tmp_path / "users.csv"
    lines = (SAMPLES / "users.csv").read_text(encoding="utf-8").splitlines()
    users.write_text("\n".join(line for line in lines if not line.startswith("sofia.rossi")) + "\n")
    code, output = await cli(sandbox, tmp_path, "run", str(SAMPLES / "clients.csv"), str(users))
    assert code == 1, output
    first = _runs(tmp_path)[0]
    failed = [r for r in _rows(first / "report.csv") if r["status"] == "failed"]
    assert (
        sorted((r["kind"], r["failed_step"]) for r in failed)
        == [("client", "share")] * 5 + [("user", "membership")] * 10
    )
    rooms_before = (await admin(sandbox, "GET", "/sandbox/audit"))["counts"]["rooms"]
    assert rooms_before == 21  # the failed rows failed before their rooms were made

    await admin(
        sandbox,
        "POST",
        "/sandbox/people",
        [{"email": "sofia.rossi@northwind.example", "firstName": "Sofia", "type": 1}],
    )
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, output = await cli(sandbox, tmp_path, "retry", str(first / "report.csv"))
    assert code == 0, output
    assert f"retried 15 rows of run {first.name}" in output
    requests = await admin(sandbox, "GET", "/sandbox/requests")
    writes = {route: n for route, n in requests["byRoute"].items() if not route.startswith("GET")}
    # The 5 clients from their first step, one membership share per room; the 10 people of
    # those rooms only now that their rooms exist (9 with names, 1 invited), each once.
    assert writes == {
        "POST /api/2.0/people": 9,
        "POST /api/2.0/people/invite": 1,
        "POST /api/2.0/files/rooms": 5,
        "POST /api/2.0/files/folder/{folderId}": 15,
        "POST /api/2.0/files/file/{fileId}/copyas": 10,
        "PUT /api/2.0/files/rooms/{id}/share": 10,
        "PUT /api/2.0/files/rooms/{id}/links": 5,
    }, writes
    await _assert_exactly_once_for(sandbox, rooms=26)
    second = _runs(tmp_path)[1]
    rows = _rows(second / "report.csv")
    assert len(rows) == 84 and all(r["status"] in ("created", "updated", "unchanged") for r in rows)
    assert json.loads((second / "summary.json").read_text())["retry_of"] == first.name


async def _assert_exactly_once_for(sb: Sandbox, rooms: int) -> None:
    audit = await assert_clean(sb)
    assert audit["counts"]["rooms"] == rooms


async def test_a_report_corrected_by_hand_is_validated_and_retried(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,client_name,client_email,manager_email\n"
        "C-1,Acme,contact@acme.example.com,maria.garcia@northwind.example\n"
        "C-2,Globex,ops at globex,maria.garcia@northwind.example\n"
        "C-3,Initech,it@initech.example.com,nobody@northwind.example\n"
    )
    code, _ = await cli(sandbox, tmp_path, "run", str(clients))
    assert code == 1
    first = _runs(tmp_path)[0]
    statuses = {r["client_id"]: r["status"] for r in _rows(first / "report.csv")}
    assert statuses == {"C-1": "created", "C-2": "invalid", "C-3": "failed"}

    # The user fixes both rows in the XLSX report, in Excel.
    book = openpyxl.load_workbook(first / "report.xlsx")
    sheet = book["report"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        cells = dict(zip(header, row, strict=False))
        if cells["client_id"].value == "C-2":
            cells["client_email"].value = "ops@globex.example.com"
        if cells["client_id"].value == "C-3":
            cells["manager_email"].value = "kenji.tanaka@northwind.example"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    (tmp_path / "edited.xlsx").replace(first / "report-edited.xlsx")

    code, output = await cli(sandbox, tmp_path, "retry", str(first / "report-edited.xlsx"))
    assert code == 0, output
    rows = {r["client_id"]: r for r in _rows(_runs(tmp_path)[1] / "report.csv")}
    assert rows["C-1"]["status"] == "created"  # carried as it was
    assert rows["C-2"]["status"] == "created" and rows["C-3"]["status"] == "created"
    failed = next(r for r in _rows(first / "report.csv") if r["client_id"] == "C-3")
    assert failed["room_id"] == "" and failed["failed_step"] == "share"  # refused before its room
    assert rows["C-3"]["room_id"]
    await _assert_exactly_once_for(sandbox, rooms=4)


async def test_a_second_run_on_the_same_report_folder_is_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with report_dir_lock(tmp_path / "reports"):
        code, output = await cli(sandbox, tmp_path, "run", str(SAMPLES / "clients.csv"))
    assert code == 4
    assert "another bulk-onboard run" in output and f"pid {os.getpid()}" in output
    assert (await admin(sandbox, "GET", "/sandbox/audit"))["counts"]["rooms"] == 1


async def test_daily_budget_spent_defers_rows_and_resume_finishes_them(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await admin(sandbox, "POST", "/sandbox/limits", {"enabled": True, "dailyWriteLimit": 120})
    code, output = await cli(sandbox, tmp_path, "run", str(SAMPLES / "onboarding.xlsx"))
    assert code == 5, output
    assert "continue with: bulk-onboard run --resume" in output
    run = _runs(tmp_path)[0]
    statuses: dict[str, Any] = json.loads((run / "summary.json").read_text())["statuses"]
    assert statuses["deferred"] > 0 and statuses["failed"] == 0
    requests = await admin(sandbox, "GET", "/sandbox/requests")
    # Writes already in flight when the first refusal came back are refused too (at most the
    # 15 the write cap grows to); no later one is sent.
    assert 1 <= requests["rejected"]["daily"] <= 15

    await admin(
        sandbox, "POST", "/sandbox/limits", {"dailyWriteLimit": 10000, "resetCounters": True}
    )
    code, output = await cli(sandbox, tmp_path, "run", "--resume", run.name)
    assert code == 0, output
    await assert_sample_onboarded_once(sandbox.url)
