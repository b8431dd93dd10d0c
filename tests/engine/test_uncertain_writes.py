"""Writes whose answers were lost, over real HTTP against the sandbox: a row that a look at once
does not settle waits without its worker while the run goes on, and is taken up again once the
window since its write has passed; nothing is made twice, and a write that stays uncertain
ends its row interrupted, for a retry that looks before writing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import MARIA, last_run, report_rows, write_clients
from tests.helpers import admin, assert_clean, command

pytestmark = pytest.mark.e2e

ROOMS = r"/api/2\.0/files/rooms$"
GROUPS = r"/api/2\.0/group$"
WINDOW = 2  # --request-timeout: how long a lost write may still land


def _done_at(reports: Path) -> dict[tuple[str, str], str]:
    """When the last run journalled each (row, step)."""
    lines = (last_run(reports) / "journal.jsonl").read_text().splitlines()
    return {(e["row"], e["step"]): e["at"] for e in map(json.loads, lines)}


async def run(sb: Sandbox, reports: Path, *args: str) -> tuple[int, str]:
    return await command(sb, reports, *args, "--log-format", "json", "--rate", "500")


async def test_rows_whose_writes_were_lost_wait_without_holding_the_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = [(f"K-{n}", f"Client {n}", f"it{n}@c{n}.example", MARIA) for n in range(12)]
    sheet = write_clients(tmp_path / "clients.csv", clients)
    script = [  # every room's first create dropped before the portal ran it; folders land late
        {"fault": "drop", "method": "POST", "regex": ROOMS, "times": 12},
        {"fault": "late_drop", "method": "POST", "regex": r"/files/folder/\d+", "ms": 300},
    ]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": script})
    window = 3  # longer than WINDOW: the bound below keeps a margin over the run's own time
    started = time.monotonic()
    code, output = await run(
        sandbox, tmp_path / "reports", "run", str(sheet),
        "--concurrency", "2", "--request-timeout", str(window),
    )  # fmt: skip
    took = time.monotonic() - started
    assert code == 0, output
    # two workers, twelve rows each waiting out a window: in turn they would take 12 / 2 x 3 s
    assert took < 12 / 2 * window, took
    assert output.count('"waits_s"') >= 12
    audit = await assert_clean(sandbox)
    assert audit["counts"]["rooms"] == 13  # the twelve and the portal's own
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"created"}


async def test_a_write_that_stays_uncertain_ends_its_row_interrupted_then_retry_makes_it_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    dropped = {"fault": "drop", "method": "POST", "regex": ROOMS, "times": 3}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [dropped]})
    reports = tmp_path / "reports"
    started = time.monotonic()
    code, output = await run(sandbox, reports, "run", str(sheet), "--request-timeout", "1")
    assert time.monotonic() - started < 20
    assert code != 0, output
    row = report_rows(last_run(reports))["K-1"]
    assert row["status"] == "interrupted", row
    code, output = await run(sandbox, reports, "retry", str(last_run(reports) / "report.csv"))
    assert code == 0, output
    audit = await assert_clean(sandbox)
    assert audit["counts"]["rooms"] == 2  # Acme's, once, and the portal's own


async def test_people_whose_writes_were_lost_wait_while_the_clients_go_on(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A person row whose group create lost its answer waits (the portal makes a second group
    of one name: docspace-api.md 12); a lost person create does not (engine/exactly_once.py
    `refused_twice`, tests/engine/test_late_writes_and_second_writer.py)."""
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,room,access,groups\n"
        "ana@people.example,Ana,Lopez,K-1,editing,Team A\n"
        "bo@people.example,Bo,Berg,K-1,editing,Team B\n",
        encoding="utf-8",
    )
    script = [  # one group's create dropped unapplied, the other's applied after the look
        {"fault": "drop", "method": "POST", "regex": GROUPS, "times": 1},
        {"fault": "late_drop", "method": "POST", "regex": GROUPS, "ms": 1000},
    ]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": script})
    reports = tmp_path / "reports"
    code, output = await run(
        sandbox, reports, "run", str(sheet), str(users), "--request-timeout", str(WINDOW)
    )
    assert code == 0, output
    assert output.count('"waits_s"') >= 1
    state = await admin(sandbox, "GET", "/sandbox/state")
    emails = [p["email"] for p in state["people"]]
    assert emails.count("ana@people.example") == emails.count("bo@people.example") == 1
    names = [g["name"] for g in state["groups"]]
    assert names.count("Team A") == names.count("Team B") == 1, names
    rows = report_rows(last_run(reports))
    assert {r["status"] for r in rows.values()} == {"created"}, rows
    assert {"ana@people.example", "bo@people.example"} <= set(rows)
    await assert_clean(sandbox)


async def test_people_of_a_room_still_uncertain_join_it_once_it_is_settled(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sheet = write_clients(
        tmp_path / "clients.csv",
        [("K-1", "Acme", "it@acme.example", MARIA), ("K-2", "Bolt", "it@bolt.example", MARIA)],
    )
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,room,access\n"
        "ana@people.example,Ana,Lopez,K-1,editing\nbo@people.example,Bo,Berg,K-2,editing\n",
        encoding="utf-8",
    )
    script = [  # the first room's create applied late, after the look at once
        {"fault": "late_drop", "method": "POST", "regex": ROOMS, "ms": 1000},
    ]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": script})
    reports = tmp_path / "reports"
    code, output = await run(
        sandbox, reports, "run", str(sheet), str(users), "--request-timeout", str(WINDOW)
    )
    assert code == 0, output
    assert output.count('"waits_s"') == 1
    audit = await assert_clean(sandbox)
    assert audit["counts"]["rooms"] == 3
    rows = report_rows(last_run(reports))
    assert {r["status"] for r in rows.values()} == {"created"}, rows
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert (await admin(sandbox, "GET", "/sandbox/requests"))["appliedLate"] == 1
    assert len(state["people"]) >= 2


async def _clients_of_a_lost_manager(
    sandbox: Sandbox, tmp_path: Path, managers: tuple[str, str, str]
) -> tuple[Path, Path]:
    """Clients K-1 to K-3 with these managers, and a users sheet making mgr@people.example
    in a new group, whose create loses its connection (the row is left uncertain)."""
    clients = zip(("K-1", "K-2", "K-3"), ("Acme", "Bolt", "Cask"), managers, strict=True)
    sheet = write_clients(
        tmp_path / "clients.csv",
        [(key, name, f"it@{name.lower()}.example", manager) for key, name, manager in clients],
    )
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,type,room,access,groups\n"
        "mgr@people.example,Mia,Grey,room-admin,,,Managers\n",
        encoding="utf-8",
    )
    script = [{"fault": "drop", "method": "POST", "regex": GROUPS, "times": 1}]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": script})
    return sheet, users


async def test_a_client_shared_with_a_person_still_uncertain_waits_for_that_person(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    manager = "mgr@people.example"
    # three clients of that manager, worked on at once: each waits for the person, not only
    # the first to ask
    sheet, users = await _clients_of_a_lost_manager(sandbox, tmp_path, (manager,) * 3)
    reports = tmp_path / "reports"
    code, output = await run(
        sandbox, reports, "run", str(sheet), str(users), "--request-timeout", str(WINDOW)
    )
    assert code == 0, output
    assert output.count('"waits_s"') == 1
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert [p["email"] for p in state["people"]].count(manager) == 1
    rows = report_rows(last_run(reports))
    assert {r["status"] for r in rows.values()} == {"created"}, rows
    await assert_clean(sandbox)


async def test_clients_waiting_for_an_uncertain_manager_leave_the_workers_to_the_others(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With one worker, the clients of a manager whose create is still uncertain wait aside:
    the client of a manager already there is made meanwhile, not after the window."""
    manager = "mgr@people.example"
    sheet, users = await _clients_of_a_lost_manager(sandbox, tmp_path, (manager, manager, MARIA))
    reports = tmp_path / "reports"
    code, output = await run(
        sandbox, reports, "run", str(sheet), str(users),
        "--request-timeout", str(WINDOW), "--concurrency", "1",
    )  # fmt: skip
    assert code == 0, output
    done = _done_at(reports)
    person = done[(f"user:{manager}", "group:Managers")]  # the manager's row settled
    assert done[("client:K-3", "link")] < person  # made while the manager was uncertain
    assert person < done[("client:K-1", "room")] and person < done[("client:K-2", "room")]
    rows = report_rows(last_run(reports))
    assert {r["status"] for r in rows.values()} == {"created"}, rows
    await assert_clean(sandbox)


async def test_people_joining_a_new_room_are_made_once_it_is_there_not_after_its_row(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A joiner's person is made as soon as every client row of the run has made its room,
    while a row's later write is still uncertain; the membership waits for that row's end."""
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,room,access\nana@people.example,Ana,Lopez,K-1,editing\n",
        encoding="utf-8",
    )
    folder = r"/api/2\.0/files/folder/\d+"
    script = [{"fault": "drop", "method": "POST", "regex": folder, "times": 1}]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": script})
    reports = tmp_path / "reports"
    code, output = await run(
        sandbox, reports, "run", str(sheet), str(users), "--request-timeout", str(WINDOW)
    )
    assert code == 0, output
    assert output.count('"waits_s"') == 1  # the folder's create, not found at once
    done = _done_at(reports)
    person = done[("user:ana@people.example", "person")]
    row_end = max(at for (row, _), at in done.items() if row == "client:K-1")  # the folder
    assert done[("client:K-1", "room")] < person < row_end
    assert row_end < done[("user:ana@people.example", "membership")]
    rows = report_rows(last_run(reports))
    assert {r["status"] for r in rows.values()} == {"created"}, rows
    await assert_clean(sandbox)
