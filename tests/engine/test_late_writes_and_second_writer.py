"""Writes the portal applies after the client gave up on them, and a second writer on the
portal (issue 12 items 2 and 3), over real HTTP against the sandbox: one room, folder, copy,
person and link each whatever the timing; one run at a time per portal."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.config import portal_state_dir
from bulk_onboard.runs.folder import PORTAL_LOCK_NAME, portal_lock
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    KENJI,
    MARIA,
    clear_counters,
    cli,
    invitations,
    last_run,
    portal_state,
    report_rows,
    rooms_of,
    write_clients,
    writes,
)
from tests.helpers import admin, assert_clean, command, settings_for

pytestmark = pytest.mark.e2e

LINKS = r"/api/2\.0/files/rooms/\d+/links"


async def test_writes_applied_after_the_client_gave_up_are_found_not_made_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    clients = write_clients(
        tmp_path / "clients.csv",
        [("K-1", "Acme", "it@acme.example", MARIA), ("K-2", "Bolt", "it@bolt.example", KENJI)],
    )
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,room,access\nana@people.example,Ana,Lopez,K-1,editing\n",
        encoding="utf-8",
    )
    late = [  # each applied 0.6 s after its connection was closed, or 1.5 s after it came in
        {"fault": "late_timeout", "method": "POST", "regex": r"/api/2\.0/files/rooms", "ms": 1500},
        {"fault": "late_drop", "method": "POST", "regex": r"/api/2\.0/files/folder/\d+", "ms": 600},
        {
            "fault": "late_drop",
            "method": "POST",
            "regex": r"/api/2\.0/files/file/\d+/copyas",
            "ms": 600,
        },
        {"fault": "late_drop", "method": "POST", "regex": r"/api/2\.0/people", "ms": 600},
        {"fault": "late_drop", "method": "PUT", "regex": LINKS, "ms": 600},
    ]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": late})
    code, output = await cli(sandbox, reports, "run", str(clients), str(users))
    assert code == 0, output
    # Every one of them does land, late. The person and the link were sent again after one
    # look (the portal refuses a second account for an address and a second invitation
    # link), so the run may end before their late writes land: the portal is checked after.
    for _ in range(100):
        if (await admin(sandbox, "GET", "/sandbox/requests"))["appliedLate"] == len(late):
            break
        await asyncio.sleep(0.05)
    assert (await admin(sandbox, "GET", "/sandbox/requests"))["appliedLate"] == len(late)
    audit = await assert_clean(sandbox)
    counts = audit["counts"]
    assert (counts["rooms"], counts["folders"], counts["files"], counts["links"]) == (3, 6, 6, 2)
    state = await portal_state(sandbox)
    assert [p["email"] for p in state["people"]].count("ana@people.example") == 1
    mailed = await invitations(sandbox)
    assert mailed == ["ana@people.example", "it@acme.example", "it@bolt.example"]
    rows = report_rows(last_run(reports))
    assert {r["status"] for r in rows.values()} == {"created"}

    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(clients), str(users))
    assert code == 0, output
    code, output = await cli(sandbox, reports, "retry", str(last_run(reports) / "report.csv"))
    assert code == 0, output
    assert await writes(sandbox) == {}
    assert await invitations(sandbox) == mailed
    await assert_clean(sandbox)


@pytest.mark.usefixtures("short_backoff")
async def test_a_link_another_writer_made_meanwhile_is_used_not_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    held = {"fault": "delay", "method": "PUT", "regex": LINKS, "ms": 1000}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [held]})
    ours = asyncio.create_task(cli(sandbox, reports, "run", str(sheet)))
    for _ in range(200):  # until our link request is held at the portal
        routes = (await admin(sandbox, "GET", "/sandbox/requests"))["byRoute"]
        if routes.get("PUT /api/2.0/files/rooms/{id}/links"):
            break
        await asyncio.sleep(0.02)
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    async with DocSpaceClient(settings_for(sandbox, tmp_path / "other")) as other:
        theirs = await other.set_room_link(room["id"], 0, 2, "Join Acme")
    assert theirs is not None
    code, output = await ours
    assert code == 0, output
    state = await portal_state(sandbox)
    assert [k["title"] for k in state["links"] if k["roomId"] == room["id"]] == ["Join Acme"]
    row = report_rows(last_run(reports))["K-1"]
    assert row["status"] == "created"
    assert row["room_link"] == theirs["sharedLink"]["shareLink"]
    await clear_counters(sandbox)
    assert (await cli(sandbox, reports, "run", str(sheet)))[0] == 0
    assert await writes(sandbox) == {}
    assert await invitations(sandbox) == ["it@acme.example"]
    await assert_clean(sandbox)


async def test_a_second_run_on_the_portal_is_exit_4_naming_the_first(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    portal = settings_for(sandbox, tmp_path).portal_url
    where = portal_state_dir(state_dir, portal)
    elsewhere = tmp_path / "other-reports" / "20261201-070000-000ab"
    with portal_lock(where, portal, "20261201-070000-000ab", elsewhere):
        code, output = await cli(sandbox, tmp_path / "reports", "run", str(sheet))
    assert code == 4, output
    assert (
        f"another bulk-onboard run (run 20261201-070000-000ab, pid {os.getpid()} on "
        f"{socket.gethostname()}, started "
    ) in output
    assert f"report folder {elsewhere}) is writing to {portal}; wait for it to finish" in output
    assert await writes(sandbox) == {}
    assert [p for p in (tmp_path / "reports").iterdir() if p.is_dir()] == []  # no run folder

    # Two runs at once from two report folders: one writes, the other is exit 4.
    await admin(sandbox, "POST", "/sandbox/faults", {"rates": {"latency_ms": 30}})
    codes = await asyncio.gather(
        cli(sandbox, tmp_path / "a", "run", str(sheet)),
        cli(sandbox, tmp_path / "b", "run", str(sheet)),
    )
    assert sorted(code for code, _ in codes) == [0, 4], codes
    assert len(rooms_of(await portal_state(sandbox), "K-1")) == 1
    await clear_counters(sandbox)
    code, output = await cli(sandbox, tmp_path / "b", "run", str(sheet))  # the rerun
    assert code == 0, output
    assert await writes(sandbox) == {}
    assert await invitations(sandbox) == ["it@acme.example"]
    await assert_clean(sandbox)


async def test_a_lock_left_by_a_run_that_died_is_taken_over_and_said_so(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    portal = settings_for(sandbox, tmp_path).portal_url
    lock = portal_state_dir(state_dir, portal) / PORTAL_LOCK_NAME
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await dead.wait()  # a run that died: its pid names no process now
    pid = dead.pid
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(
        f'{{"run_id": "20261130-230000-000cd", "pid": {pid}, "host": "{socket.gethostname()}", '
        '"started": "2026-11-30 23:00:00 UTC", "report": "reports/20261130-230000-000cd"}',
        encoding="utf-8",
    )
    code, output = await cli(sandbox, tmp_path / "reports", "run", str(sheet))
    assert code == 0, output
    [taken] = [line for line in output.splitlines() if "lock_taken_over" in line]
    assert f"run 20261130-230000-000cd, pid {pid} on" in taken and '"alive": false' in taken
    assert lock.read_text(encoding="utf-8") == ""  # the run ended: nobody holds it
    assert len(rooms_of(await portal_state(sandbox), "K-1")) == 1


async def test_a_lost_person_or_link_is_sent_again_at_once_and_a_late_one_is_refused(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The portal refuses a second account for one address and a second invitation link of a
    room, so after a lost answer one look is enough: not found, the write goes again at once,
    not after the window (here 30 s); a lost write that lands later is refused. A lost room,
    which the portal would make twice, still waits its window (not tested here: 30 s)."""
    reports = tmp_path / "reports"
    clients = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,room,access\nana@people.example,Ana,Lopez,K-1,editing\n"
        "bo@people.example,Bo,Li,K-1,read\n",
        encoding="utf-8",
    )
    lost = [
        {"fault": "drop", "method": "POST", "regex": r"/api/2\.0/people$"},  # never applied
        {"fault": "late_drop", "method": "POST", "regex": r"/api/2\.0/people$", "ms": 1500},
        {"fault": "drop", "method": "PUT", "regex": LINKS},
    ]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": lost})
    started = asyncio.get_running_loop().time()
    code, output = await command(
        sandbox, reports, "run", str(clients), str(users), "--request-timeout", "30"
    )
    took = asyncio.get_running_loop().time() - started
    assert code == 0, output
    assert took < 10, took  # no 30 s window waited out
    for _ in range(100):  # the late person's write lands, and is refused
        if (await admin(sandbox, "GET", "/sandbox/requests"))["appliedLate"] == 1:
            break
        await asyncio.sleep(0.05)
    requests = await admin(sandbox, "GET", "/sandbox/requests")
    assert requests["appliedLate"] == 1 and requests["dropped"] >= 3
    state = await portal_state(sandbox)
    emails = [p["email"] for p in state["people"]]
    assert emails.count("ana@people.example") == emails.count("bo@people.example") == 1
    [room] = rooms_of(state, "K-1")
    assert [k["roomId"] for k in state["links"]].count(room["id"]) == 1
    assert {r["status"] for r in report_rows(last_run(reports)).values()} == {"created"}
    await assert_clean(sandbox)
