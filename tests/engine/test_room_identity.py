"""A client's identity is its client:<id> tag (issue 12 items 1 and 6), over real HTTP against
the sandbox, which cleans titles as the server does (docspace-api.md 10.1): a renamed client
keeps its room, an archived room or two rooms with one tag are reported and never duplicated,
and a retry takes the portal, not the journal, as the truth."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
from pathlib import Path

import pytest

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.engine.dry_run import dry_run
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    KENJI,
    MARIA,
    acme,
    acme_onboarded,
    assert_quiet,
    clear_counters,
    cli,
    invitations,
    last_run,
    portal_state,
    refuse_for_the_day,
    report_rows,
    retry,
    rooms_of,
    write_clients,
    writes,
)
from tests.helpers import admin, assert_clean, settings_for
from tests.processes import run_args

pytestmark = pytest.mark.e2e

AMARA, LUKAS = "amara.okafor@northwind.example", "lukas.novak@northwind.example"
OK = {"created", "updated", "unchanged"}


async def test_a_renamed_client_keeps_its_room_and_cleaned_titles_write_nothing_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = tmp_path / "in" / "clients.csv"
    write_clients(sheet, [("K-1", "Import/Export", "ops@ie.example", MARIA)])
    write_clients(sheet, [*_rows(sheet), ("K-2", "Acme", "it@acme.example", KENJI)])
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    first = await portal_state(sandbox)
    [cleaned] = rooms_of(first, "K-1")
    assert cleaned["title"] == "Client - Import_Export"  # the portal's title, not the sent one
    [acme] = rooms_of(first, "K-2")
    mailed = await invitations(sandbox)
    assert mailed == ["it@acme.example", "ops@ie.example"]

    # The same sheet again: the cleaned title is the room's, nothing is written.
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    assert await writes(sandbox) == {}
    assert {r["status"] for r in report_rows(last_run(reports)).values()} == {"unchanged"}

    # Acme changed its name: the plan counts one rename, the run renames the room it has.
    write_clients(sheet, [_rows(sheet)[0], ("K-2", "Acme: Holding", "it@acme.example", KENJI)])
    plan = await dry_run(
        settings_for(sandbox, tmp_path / "plan"), load_intake([sheet], load_playbook(None))
    )
    assert dict(plan.writes) == {"PUT update_room": 1}
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    assert await writes(sandbox) == {"PUT /api/2.0/files/rooms/{id}": 1}
    renamed = await portal_state(sandbox)
    assert rooms_of(renamed, "K-2") == [{**acme, "title": "Client - Acme_ Holding"}]
    assert len(renamed["rooms"]) == len(first["rooms"])
    rows = report_rows(last_run(reports))
    assert rows["K-2"]["status"] == "updated"
    assert rows["K-2"]["room_name"] == "Client - Acme_ Holding"
    assert rows["K-1"]["status"] == "unchanged"

    # A rerun and a retry after the rename: nothing written, nobody mailed again.
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    code, output = await retry(sandbox, reports)
    assert code == 0, output
    await assert_quiet(sandbox, mailed)


async def test_a_playbook_can_keep_the_room_title_and_the_run_says_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = acme(tmp_path)
    playbook = tmp_path / "keep.toml"
    playbook.write_text("[room]\nrename = false\n", encoding="utf-8")
    assert (await cli(sandbox, reports, "run", str(sheet), "--playbook", str(playbook)))[0] == 0
    write_clients(sheet, [("K-1", "Acme Holding", "it@acme.example", MARIA)])
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet), "--playbook", str(playbook))
    assert code == 0, output
    assert await writes(sandbox) == {}
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    assert room["title"] == "Client - Acme"
    [kept] = [json.loads(line) for line in output.splitlines() if "room_title_kept" in line]
    assert (kept["title"], kept["sheet_title"]) == ("Client - Acme", "Client - Acme Holding")
    row = report_rows(last_run(reports))["K-1"]
    assert (row["status"], row["room_name"]) == ("unchanged", "Client - Acme")
    assert row["note"] == (
        'the room keeps its title "Client - Acme" (the sheet gives "Client - Acme Holding"; the '
        "playbook's room.rename is false)"
    )


async def test_an_archived_room_is_reported_not_duplicated_and_a_retry_after_restoring_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports, sheet, room = await acme_onboarded(sandbox, tmp_path)
    async with DocSpaceClient(settings_for(sandbox, reports)) as client:
        await client.archive_room(room["id"], interval=0.02)
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 1, output
    row = report_rows(last_run(reports))["K-1"]
    assert (row["status"], row["failed_step"]) == ("failed", "room")
    assert f"the client's room is archived (room {room['id']}" in row["error"]
    assert "restore it in DocSpace" in row["error"]
    assert await writes(sandbox) == {}
    assert [r["archived"] for r in rooms_of(await portal_state(sandbox), "K-1")] == [True]

    async with DocSpaceClient(settings_for(sandbox, reports)) as client:
        await client.unarchive_room(room["id"], interval=0.02)
    await clear_counters(sandbox)
    code, output = await retry(sandbox, reports)
    assert code == 0, output
    assert report_rows(last_run(reports))["K-1"]["status"] == "unchanged"
    assert [w for w in await writes(sandbox) if "unarchive" not in w] == []
    assert [r["id"] for r in rooms_of(await portal_state(sandbox), "K-1")] == [room["id"]]
    assert await invitations(sandbox) == ["it@acme.example"]
    await assert_clean(sandbox)


async def test_two_rooms_with_one_tag_fail_the_row_naming_both(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports, sheet, room = await acme_onboarded(sandbox, tmp_path)
    async with DocSpaceClient(settings_for(sandbox, reports)) as client:
        extra = await client.create_room("Acme (copy)", 2, ["client:K-1"])
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 1, output
    row = report_rows(last_run(reports))["K-1"]
    assert row["failed_step"] == "room"
    assert f"(ids {room['id']} and {extra['id']})" in row["error"]
    assert "remove the tag from every room but the client's" in row["error"]
    assert await writes(sandbox) == {}

    async with DocSpaceClient(settings_for(sandbox, reports)) as client:
        await client.update_room(extra["id"], tags=[])
    await clear_counters(sandbox)
    code, output = await retry(sandbox, reports)
    assert code == 0, output
    assert report_rows(last_run(reports))["K-1"]["room_id"] == str(room["id"])
    assert await writes(sandbox) == {}
    assert await invitations(sandbox) == ["it@acme.example"]


async def test_a_retry_makes_a_room_gone_from_the_portal_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = acme(tmp_path)
    await _refuse_links_for_the_day(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 5, output  # the room, its folders, copies and share are there; no link
    assert report_rows(last_run(reports))["K-1"]["failed_step"] == "link"
    await admin(sandbox, "POST", "/sandbox/faults", {"clear": True})
    [gone] = rooms_of(await portal_state(sandbox), "K-1")
    await admin(sandbox, "DELETE", f"/sandbox/rooms/{gone['id']}")  # someone deleted it

    code, output = await retry(sandbox, reports)
    assert code == 0, output
    row = report_rows(last_run(reports))["K-1"]
    assert row["status"] == "created"
    state = await portal_state(sandbox)
    [room] = rooms_of(state, "K-1")
    assert room["id"] != gone["id"] and row["room_id"] == str(room["id"])
    assert len([f for f in state["folders"] if f["roomId"] == room["id"]]) == 3
    assert {(s["email"], s["access"]) for s in state["shares"] if s["roomId"] == room["id"]} >= {
        (MARIA, 9),
        ("it@acme.example", 2),
    }
    assert [k["roomId"] for k in state["links"]].count(room["id"]) == 1
    await clear_counters(sandbox)
    assert (await cli(sandbox, reports, "run", str(sheet)))[0] == 0
    await assert_quiet(sandbox, ["it@acme.example"])


async def test_a_retry_honours_a_corrected_manager_and_contact(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = acme(tmp_path, "old@acme.example")
    await _refuse_links_for_the_day(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 5, output
    assert report_rows(last_run(reports))["K-1"]["failed_step"] == "link"
    await admin(sandbox, "POST", "/sandbox/faults", {"clear": True})
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    async with DocSpaceClient(settings_for(sandbox, reports)) as client:
        kenji = await client.user_by_email(KENJI)
        assert kenji is not None
        await client.set_room_share(room["id"], [(kenji["id"], 11)])  # someone else's member

    report = last_run(reports) / "report.csv"
    _correct(report, {"manager_email": AMARA, "client_email": "new@acme.example"})
    code, output = await cli(sandbox, reports, "retry", str(report))
    assert code == 0, output
    row = report_rows(last_run(reports))["K-1"]
    assert row["status"] == "created"  # the room was made by the first attempt at this row
    state = await portal_state(sandbox)
    members = {(s["email"], s["access"]) for s in state["shares"] if s["roomId"] == room["id"]}
    assert (AMARA, 9) in members and ("new@acme.example", 2) in members
    assert (KENJI, 11) in members  # added by someone else: kept
    assert {e for e, _ in members} & {MARIA, "old@acme.example"} == set()  # this tool's: gone
    assert len(rooms_of(state, "K-1")) == 1

    await clear_counters(sandbox)
    corrected = write_clients(sheet, [("K-1", "Acme", "new@acme.example", AMARA)])
    code, output = await cli(sandbox, reports, "run", str(corrected))
    assert code == 0, output
    await assert_quiet(sandbox, ["new@acme.example", "old@acme.example"])


async def _refuse_links_for_the_day(sandbox: Sandbox) -> None:
    """The link step of the next run meets a spent daily budget (a 429 asking to wait an
    hour): its row is deferred after the room, folders, copies and share are made."""
    await refuse_for_the_day(sandbox, "PUT", r"/api/2\.0/files/rooms/\d+/links")


def _rows(sheet: Path) -> list[tuple[str, str, str, str]]:
    with sheet.open(encoding="utf-8", newline="") as fh:
        return [tuple(r) for r in list(csv.reader(fh))[1:]]  # type: ignore[misc]


def _correct(report: Path, cells: dict[str, str]) -> None:
    """Change cells of every row of a report.csv, as a person does before `retry`."""
    with report.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = list(reader.fieldnames or []), list(reader)
    for row in rows:
        row.update(cells)
    with report.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(rows)


async def test_a_room_sent_just_before_a_crash_counts_as_created_on_resume(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = acme(tmp_path)
    # The create is held at the portal, which applies it 0.8 s later, whatever the client does.
    held = {"fault": "late_timeout", "method": "POST", "regex": r"/api/2\.0/files/rooms", "ms": 800}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [held]})
    env = {**os.environ, "DOCSPACE_TOKEN": sandbox.token, "DOCSPACE_URL": sandbox.url}
    process = await asyncio.create_subprocess_exec(
        *run_args(tmp_path, str(sheet)),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    for _ in range(400):  # until the room's create is at the portal, not yet answered
        routes = (await admin(sandbox, "GET", "/sandbox/requests"))["byRoute"]
        if routes.get("POST /api/2.0/files/rooms"):
            break
        await asyncio.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    for _ in range(100):  # the portal finishes the request the dead run sent
        if rooms_of(await portal_state(sandbox), "K-1"):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the portal did not apply the create the run sent")
    run = last_run(reports)
    code, output = await cli(sandbox, reports, "run", "--resume", run.name)
    assert code == 0, output
    assert report_rows(run)["K-1"]["status"] == "created"  # this run made it, before the crash
    assert len(rooms_of(await portal_state(sandbox), "K-1")) == 1
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "retry", str(run / "report.csv"))
    assert code == 0, output
    await assert_quiet(sandbox, ["it@acme.example"])
