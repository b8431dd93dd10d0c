"""A client room's manager and contact follow the export on a plain nightly run, over real
HTTP against the sandbox: the members bulk-onboard set are replaced, a member added by hand
stays with its access, every output says what changed (report.csv, report.xlsx, plan
--against-portal, the CRM's client_updated record), and a rerun writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.cli.dry_run_output import dry_run_lines
from bulk_onboard.engine.dry_run import dry_run
from bulk_onboard.intake import load_intake
from bulk_onboard.model.outputs import changes_in, changes_text
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.set_members import NAME
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    KENJI,
    MARIA,
    clear_counters,
    cli,
    last_run,
    portal_state,
    report_rows,
    rooms_of,
    writes,
)
from tests.helpers import admin, assert_clean, settings_for

pytestmark = pytest.mark.e2e  # whole runs against the sandbox

AMARA = "amara.okafor@northwind.example"


def _sheet(path: Path, name: str, contact: str, manager: str, access: str = "read") -> Path:
    path.write_text(
        "client_id,client_name,client_email,manager_email,client_access\n"
        f"K-1,{name},{contact},{manager},{access}\n",
        encoding="utf-8",
    )
    return path


def _members(state: dict[str, object], room: int) -> dict[str, int]:
    shares = state["shares"]
    assert isinstance(shares, list)
    return {s["email"]: s["access"] for s in shares if s["roomId"] == room}


def _xlsx_changes(run: Path) -> str:
    book = openpyxl.load_workbook(run / "report.xlsx", read_only=True)
    try:
        sheet = book.active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    return str(rows[1][list(rows[0]).index("changes")] or "")


async def test_a_plain_run_replaces_the_manager_and_contact_it_set_and_leaves_others(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    reports, records = tmp_path / "reports", tmp_path / "crm.jsonl"
    playbook = tmp_path / "crm.toml"
    playbook.write_text(f"[crm]\njsonl_path = {json.dumps(str(records))}\n", encoding="utf-8")
    sheet = _sheet(tmp_path / "clients.csv", "Acme", "it@acme.example", MARIA)
    with_crm = ("--playbook", str(playbook))
    code, output = await cli(sandbox, reports, "run", str(sheet), *with_crm)
    assert code == 0, output
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    async with DocSpaceClient(settings_for(sandbox, reports)) as client:
        kenji = await client.user_by_email(KENJI)
        assert kenji is not None
        await client.set_room_share(room["id"], [(kenji["id"], 11)])  # added by hand

    # The export names another manager and contact, and a new name.
    _sheet(sheet, "Acme Holding", "new@acme.example", AMARA)
    plan = await dry_run(
        settings_for(sandbox, tmp_path / "plan", state_dir=state_dir),
        load_intake([sheet], load_playbook(playbook)),
    )
    wanted = (
        "title: Client - Acme → Client - Acme Holding; "
        f"manager: {MARIA} → {AMARA}; contact: it@acme.example → new@acme.example"
    )
    assert f"  {'changes':<40} {wanted}" in dry_run_lines(plan)
    assert dict(plan.writes) == {"PUT update_room": 1, "PUT set_room_share": 2}

    code, output = await cli(sandbox, reports, "run", str(sheet), *with_crm)
    assert code == 0, output
    members = _members(await portal_state(sandbox), room["id"])
    assert members[AMARA] == 9 and members["new@acme.example"] == 2
    assert members[KENJI] == 11  # someone else's member: there, its access unchanged
    assert MARIA not in members and "it@acme.example" not in members
    row = report_rows(last_run(reports))["K-1"]
    assert (row["status"], row["changes"]) == ("updated", wanted)
    assert _xlsx_changes(last_run(reports)) == wanted
    assert (
        f"{MARIA} was removed from the room: bulk-onboard had made them its manager"
        in (row["note"])
    )
    updated = json.loads(records.read_text(encoding="utf-8").splitlines()[-1])
    assert updated["event"] == "client_updated"
    assert (updated["room_id"], updated["manager_email"]) == (room["id"], AMARA)
    assert updated["changes"] == [
        {"what": "title", "old": "Client - Acme", "new": "Client - Acme Holding"},
        {"what": "manager", "old": MARIA, "new": AMARA},
        {"what": "contact", "old": "it@acme.example", "new": "new@acme.example"},
    ]

    # The same export again: nothing written, nothing changed, nothing announced.
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet), *with_crm)
    assert code == 0, output
    assert await writes(sandbox) == {}
    row = report_rows(last_run(reports))["K-1"]
    assert (row["status"], row["changes"]) == ("unchanged", "")
    assert len(records.read_text(encoding="utf-8").splitlines()) == 2

    # The contact's access changes: one share, said as old → new.
    _sheet(sheet, "Acme Holding", "new@acme.example", AMARA, access="editing")
    code, output = await cli(sandbox, reports, "run", str(sheet), *with_crm)
    assert code == 0, output
    assert _members(await portal_state(sandbox), room["id"])["new@acme.example"] == 10
    access = "new@acme.example: read → editing"
    assert report_rows(last_run(reports))["K-1"]["changes"] == access
    assert _xlsx_changes(last_run(reports)) == access

    # The playbook gives the room's invitation link another access.
    with playbook.open("a", encoding="utf-8") as fh:
        fh.write('[link]\naccess = "editing"\n')
    code, output = await cli(sandbox, reports, "run", str(sheet), *with_crm)
    assert code == 0, output
    assert report_rows(last_run(reports))["K-1"]["changes"] == "link: read → editing"

    # A person of the users sheet whose access in the room changes says so too.
    users = tmp_path / "users.csv"
    users.write_text(f"email,room,access\n{KENJI},Client - Acme Holding,editing\n")
    code, output = await cli(sandbox, reports, "run", str(users))
    assert code == 0, output
    changed = report_rows(last_run(reports))[KENJI]["changes"]
    assert changed == f"{KENJI}: content-creator → editing"
    await assert_clean(sandbox)


async def test_a_room_onboarded_before_the_memory_is_learnt_from_the_runs_journals(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = _sheet(tmp_path / "clients.csv", "Acme", "it@acme.example", MARIA)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    [memory] = state_dir.glob(f"portals/*/{NAME}")
    memory.unlink()  # as a version that kept none left the portal
    _sheet(sheet, "Acme", "it@acme.example", AMARA)

    # Without the journals (another report folder) nothing tells whom it set: none removed.
    elsewhere = settings_for(sandbox, tmp_path / "elsewhere", state_dir=state_dir)
    plan = await dry_run(elsewhere, load_intake([sheet], load_playbook(None)))
    [row] = plan.results
    assert changes_text(changes_in(row.outputs)) == f"manager: (none) → {AMARA}"
    assert row.note is not None and "so nobody was removed" in row.note
    assert dict(plan.writes) == {"PUT set_room_share": 1}
    assert not memory.exists()  # a dry run writes nothing

    # The run against its own report folder learns it from the first run's journal.
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    members = _members(await portal_state(sandbox), room["id"])
    assert members[AMARA] == 9 and MARIA not in members
    assert report_rows(last_run(reports))["K-1"]["changes"] == f"manager: {MARIA} → {AMARA}"
    assert memory.exists()


@pytest.mark.usefixtures("short_backoff")
async def test_changes_whose_answers_were_lost_are_still_said_and_done_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = _sheet(tmp_path / "c.csv", "Acme", "old@acme.example", MARIA)
    assert (await cli(sandbox, reports, "run", str(sheet)))[0] == 0
    _sheet(sheet, "Acme Corp", "new@acme.example", MARIA)
    # the answers of the rename, the share and the removal are all lost
    lost = {
        "fault": "ambiguous_drop",
        "method": "PUT",
        "regex": r"/api/2\.0/files/rooms/\d+(/share)?$",
    }
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [{**lost, "times": 3}]})
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    assert (await admin(sandbox, "GET", "/sandbox/faults"))["script"] == []
    assert await writes(sandbox) == {
        "PUT /api/2.0/files/rooms/{id}": 1,
        "PUT /api/2.0/files/rooms/{id}/share": 2,
    }
    row = report_rows(last_run(reports))["K-1"]
    assert (row["status"], row["changes"]) == (
        "updated",
        "title: Client - Acme → Client - Acme Corp; contact: old@acme.example → new@acme.example",
    )
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    members = _members(await portal_state(sandbox), room["id"])
    assert "old@acme.example" not in members and members["new@acme.example"] == 2
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    assert await writes(sandbox) == {}


async def test_an_update_the_crm_did_not_take_is_sent_by_the_retry(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", "whsec-test-0123456789")
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"secret": "whsec-test-0123456789"})
    playbook = tmp_path / "crm.toml"
    playbook.write_text(
        f'[crm]\nwebhook_url = "{sandbox.url}/sandbox/webhook"\n'
        'secret_env = "CRM_WEBHOOK_SECRET"\nmax_attempts = 1\n',
        encoding="utf-8",
    )
    reports, with_crm = tmp_path / "reports", ("--playbook", str(playbook))
    sheet = _sheet(tmp_path / "clients.csv", "Acme", "it@acme.example", MARIA)
    assert (await cli(sandbox, reports, "run", str(sheet), *with_crm))[0] == 0
    _sheet(sheet, "Acme", "new@acme.example", MARIA)
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"outage": True})
    code, output = await cli(sandbox, reports, "run", str(sheet), *with_crm)
    assert code == 1, output
    row = report_rows(last_run(reports))["K-1"]
    assert (row["status"], row["failed_step"]) == ("failed", "crm")
    assert row["changes"] == "contact: it@acme.example → new@acme.example"

    await admin(sandbox, "POST", "/sandbox/webhook/config", {"outage": False})
    code, output = await cli(
        sandbox, reports, "retry", str(last_run(reports) / "report.csv"), *with_crm
    )
    assert code == 0, output
    hooks = await admin(sandbox, "GET", "/sandbox/webhook")
    taken = [d for d in hooks["deliveries"] if d["status"] < 300 and d["verified"]]
    assert [d["body"]["event"] for d in taken] == ["client_onboarded", "client_updated"]
    assert taken[1]["body"]["changes"] == [
        {"what": "contact", "old": "it@acme.example", "new": "new@acme.example"}
    ]
