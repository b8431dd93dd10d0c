"""The guard: a run that would create more rooms or people than allowed writes nothing and
exits 7 with one sentence; within the limits it costs no look-up the run would not make."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bulk_onboard.cli.output import EXIT_GUARD
from bulk_onboard.engine.guard import _message
from bulk_onboard.playbook.reader import Guard
from bulk_onboard.sandbox import Sandbox
from tests.helpers import MANAGERS, admin, invoke

CLIENTS = "client_id,client_name,client_email,manager_email\n" + "".join(
    f"G-{n},Guarded {n},contact{n}@guarded{n}.example.com,maria.garcia@northwind.example\n"
    for n in range(1, 7)
)
USERS = (
    "email,first_name,last_name,type,room,access\n"
    "new.person@guarded1.example.com,New,Person,user,G-1,editing\n"
    "maria.garcia@northwind.example,Maria,Garcia,room-admin,,\n"
)


def _inputs(tmp_path: Path) -> list[str]:
    (tmp_path / "clients.csv").write_text(CLIENTS)
    (tmp_path / "users.csv").write_text(USERS)
    return [str(tmp_path / "clients.csv"), str(tmp_path / "users.csv")]


def _run(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = invoke(sb, tmp_path / "reports", "run", *args, "--rate", "1000")
    return result.exit_code, result.output


def test_the_sentence_names_what_was_found_the_limit_and_what_to_type() -> None:
    assert _message(1843, 3, Guard(50, 200)) == (
        "this export would create 1,843 rooms; the guard allows 50 rooms; check the export "
        "or run with --max-new-rooms 2000"
    )
    assert _message(61, 250, Guard(50, 200)) == (
        "this export would create 61 rooms and 250 people; the guard allows 50 rooms and 200 "
        "people; check the export or run with --max-new-rooms 70 --max-new-people 300"
    )
    assert _message(50, 200, Guard(50, 200)) is None
    assert _message(10**6, 10**6, Guard()) is None


@pytest.mark.e2e
async def test_a_run_over_the_guard_writes_nothing_and_exits_7(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = await admin(sandbox, "GET", "/sandbox/state")
    await admin(sandbox, "DELETE", "/sandbox/requests")
    playbook = tmp_path / "nightly.toml"
    playbook.write_text('[guard]\nmax_new_rooms = 5\n\n[crm]\ncsv_path = "crm.csv"\n')
    code, output = await asyncio.to_thread(
        _run, sandbox, tmp_path, *_inputs(tmp_path), "--playbook", str(playbook)
    )
    assert code == EXIT_GUARD == 7, output
    assert not (tmp_path / "crm.csv").exists()  # nor anything for the CRM
    # 6 rooms; 7 people: six client contacts (invited by the room share) and one user row
    assert (
        "guard: this export would create 6 rooms; the guard allows 5 rooms; check the export "
        "or run with --max-new-rooms 6"
    ) in output
    requests = await admin(sandbox, "GET", "/sandbox/requests")
    assert [r for r in requests["byRoute"] if not r.startswith("GET ")] == []
    assert await admin(sandbox, "GET", "/sandbox/state") == before
    assert (await admin(sandbox, "GET", "/sandbox/outbox"))["count"] == 0
    summary = json.loads(next((tmp_path / "reports").rglob("summary.json")).read_text())
    assert summary["verdict"] == "guarded" and summary["exit_code"] == 7
    assert summary["guard"] == {
        "max_new_rooms": 5,
        "max_new_people": None,
        "new_rooms": 6,
        "new_people": 7,
        "new_groups": 0,
        "stopped": True,
    }
    assert summary["statuses"]["interrupted"] == 8


@pytest.mark.e2e
async def test_within_the_guard_the_run_makes_the_same_reads_as_without_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    inputs = _inputs(tmp_path)
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, output = await asyncio.to_thread(
        _run, sandbox, tmp_path, *inputs, "--max-new-rooms", "6", "--max-new-people", "7"
    )
    assert code == 0, output
    guarded = (await admin(sandbox, "GET", "/sandbox/requests"))["byRoute"]
    await admin(sandbox, "POST", "/sandbox/reset")
    await admin(sandbox, "POST", "/sandbox/people", MANAGERS)
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, output = await asyncio.to_thread(_run, sandbox, tmp_path / "plain", *inputs)
    assert code == 0, output
    assert (await admin(sandbox, "GET", "/sandbox/requests"))["byRoute"] == guarded


@pytest.mark.e2e
async def test_a_renamed_client_keeps_its_room_so_the_guard_counts_no_new_room(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    inputs = _inputs(tmp_path)
    code, output = await asyncio.to_thread(_run, sandbox, tmp_path, *inputs)
    assert code == 0, output
    rooms_before = (await admin(sandbox, "GET", "/sandbox/state"))["rooms"]
    # every client renamed in the export: found by its tag, renamed, nothing new to create
    (tmp_path / "clients.csv").write_text(CLIENTS.replace("Guarded ", "Renamed "))
    code, output = await asyncio.to_thread(
        _run, sandbox, tmp_path, *inputs, "--max-new-rooms", "0", "--max-new-people", "0"
    )
    assert code == 0, output
    rooms_after = (await admin(sandbox, "GET", "/sandbox/state"))["rooms"]
    assert len(rooms_after) == len(rooms_before)
    assert sorted(r["title"] for r in rooms_after if "Renamed" in r["title"]) == [
        f"Client - Renamed {n}" for n in range(1, 7)
    ]
