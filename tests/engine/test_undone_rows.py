"""What undo took back stays taken back: the portal's state remembers the rows, the next runs
report them `skipped` and make nothing for them (no write, no mail) until `--redo`, or until
their export drops them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.cli.output import skipped_lines
from bulk_onboard.engine.undone import dropped, hold_back
from bulk_onboard.intake import Intake, load_intake
from bulk_onboard.model.records import Origin
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.html_report import render_html
from bulk_onboard.runs.report import RowResult, Status
from bulk_onboard.runs.summary import summary_document
from bulk_onboard.runs.undone_rows import Undone, forget_undone, read_undone, remember_undone
from bulk_onboard.sandbox import Sandbox
from bulk_onboard.state.store import FolderStore, store_for
from tests.engine.portal_checks import (
    MARIA,
    assert_quiet,
    clear_counters,
    cli,
    invitations,
    last_run,
    report_rows,
    write_clients,
)
from tests.helpers import admin
from tests.runs.test_summary import _facts

CREATED = Status.CREATED
RUN = Undone("20261206-200451-15039", "2026-12-06T20:10:00+00:00", "users.csv")


def _intake(tmp_path: Path, users: str) -> Intake:
    clients = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@k1.example", MARIA)])
    (tmp_path / "users.csv").write_text("email,first_name,last_name,room\n" + users)
    return load_intake([clients, tmp_path / "users.csv"], load_playbook(None))


def test_a_row_undo_took_back_is_skipped_with_the_undo_named(tmp_path: Path) -> None:
    intake = _intake(tmp_path, "ann@x.example,,,\nbo@x.example,,,K-1\ncy@x.example,,,\n")
    undone = {"user:ann@x.example": RUN, "client:K-1": replace_file(RUN, "clients.csv")}
    held = hold_back(intake, undone)
    skipped = {r.row_key: r for r in held.skipped}
    assert set(skipped) == {"user:ann@x.example", "client:K-1", "user:bo@x.example"}
    assert {r.status for r in skipped.values()} == {Status.SKIPPED}
    assert skipped["user:ann@x.example"].note == (
        "taken back by undo of run 20261206-200451-15039 on 2026-12-06; run with --redo to "
        "create it again"
    )
    # bo@ joins the room of a client row that is skipped: nobody is made for a room not made
    assert skipped["user:bo@x.example"].note == (
        "joins the room of client:K-1, taken back by undo of run 20261206-200451-15039 on "
        "2026-12-06; run with --redo to create it again"
    )
    assert [p.row_key for p in held.intake.plans] == ["user:cy@x.example"]
    assert held.forget == frozenset()


def test_redo_runs_every_row_and_forgets_them(tmp_path: Path) -> None:
    intake = _intake(tmp_path, "ann@x.example,,,\n")
    held = hold_back(intake, {"user:ann@x.example": RUN}, redo=True)
    assert held.skipped == () and len(held.intake.plans) == 2
    assert held.forget == {"user:ann@x.example"}


def test_a_row_is_forgotten_once_a_run_reads_its_file_without_it() -> None:
    undone = {
        "user:gone@x.example": RUN,  # users.csv was read, without it: dropped
        "user:elsewhere@x.example": replace_file(RUN, "partners.csv"),  # not read: kept
        "client:K-9": replace_file(RUN, "users.csv"),  # no client rows read from users.csv
        "user:unknown@x.example": replace_file(RUN, ""),  # file unknown: any input without it
    }
    present = [("user:here@x.example", "users.csv", "user")]
    assert dropped(undone, present) == {"user:gone@x.example", "user:unknown@x.example"}
    assert dropped(undone, []) == frozenset()  # a run that read nothing forgets nothing


def test_the_memory_keeps_the_first_date_of_a_run_and_forgets_on_request(tmp_path: Path) -> None:
    first, later = datetime(2026, 12, 6, 20, tzinfo=UTC), datetime(2026, 12, 7, 9, tzinfo=UTC)
    remember_undone(FolderStore(tmp_path), {"user:a@x.example": "users.csv"}, "run-1", first)
    remember_undone(
        FolderStore(tmp_path), {"user:a@x.example": "users.csv", "client:K": ""}, "run-1", later
    )
    known = read_undone(FolderStore(tmp_path))
    assert known["user:a@x.example"] == Undone("run-1", "2026-12-06T20:00:00+00:00", "users.csv")
    assert known["client:K"].at.startswith("2026-12-07")
    remember_undone(
        FolderStore(tmp_path), {"client:K": ""}, "run-2", later
    )  # a later run's undo names it
    assert read_undone(FolderStore(tmp_path))["client:K"].run_id == "run-2"
    forget_undone(FolderStore(tmp_path), ["client:K"])
    assert set(read_undone(FolderStore(tmp_path))) == {"user:a@x.example"}
    (tmp_path / "undone-rows.json").write_text("{not json")
    assert read_undone(FolderStore(tmp_path)) == {}


def replace_file(entry: Undone, file: str) -> Undone:
    return Undone(entry.run_id, entry.at, file)


USERS = [
    "email,first_name,last_name,room",
    "anna@k1.example,,,K-1",  # invited for K-1's room: undo deletes her
    "dan@k1.example,Dan,Kept,K-1",  # accepts before the undo: kept, but his room is not
    "bob@solo.example,Bob,Solo,",
    "cy@solo.example,,,",
]


@pytest.mark.e2e
async def test_a_run_after_undo_makes_nothing_until_redo(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    reports = tmp_path / "reports"
    clients = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@k1.example", MARIA)])
    users = tmp_path / "users.csv"
    users.write_text("\n".join(USERS) + "\n")
    code, output = await cli(sandbox, reports, "run", str(clients), str(users))
    assert code == 0, output
    first = last_run(reports)
    mailed = sorted(["anna@k1.example", "dan@k1.example", "bob@solo.example", "cy@solo.example"])
    assert await invitations(sandbox) == sorted([*mailed, "it@k1.example"])
    await admin(sandbox, "POST", "/sandbox/people/accept", {"email": "dan@k1.example"})
    code, output = await cli(sandbox, reports, "undo", first.name, "--yes")
    assert code == 0, output
    assert "the next runs skip the 4 rows taken back" in output, output  # K-1, anna, bob, cy

    # the same export the next night: nothing written, nobody mailed, every row skipped
    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(clients), str(users))
    assert code == 0, output
    assert "5 rows in" in output and "5 skipped" in output, output
    rows = report_rows(last_run(reports))
    assert {r["status"] for r in rows.values()} == {"skipped"}, rows
    said = f"taken back by undo of run {first.name} on "
    assert rows["K-1"]["note"].startswith(said) and "--redo" in rows["K-1"]["note"]
    assert rows["dan@k1.example"]["note"].startswith("joins the room of client:K-1, " + said)
    await assert_quiet(sandbox, sorted([*mailed, "it@k1.example"]))
    summary = json.loads((last_run(reports) / "summary.json").read_text())
    assert (summary["verdict"], summary["statuses"]["skipped"]) == ("ok", 5)
    code, output = await cli(sandbox, reports, "retry", str(last_run(reports) / "report.csv"))
    assert (code, "nothing to retry" in output) == (0, True), output
    code, output = await cli(sandbox, reports, "run", "--resume", first.name)
    assert code == 0 and "5 rows in" in output and "5 skipped" in output, output
    await assert_quiet(sandbox, sorted([*mailed, "it@k1.example"]))
    plan = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["plan", str(clients), str(users), "--against-portal"],
        env={"DOCSPACE_TOKEN": sandbox.token, "DOCSPACE_URL": sandbox.url},
    )
    assert plan.exit_code == 0, plan.output
    assert "5 skipped (taken back by undo), 0 with problems" in plan.output, plan.output
    assert f"client:K-1  (clients.csv, line 2)  skipped: {said}" in plan.output, plan.output

    # cy@ is dropped from the export: forgotten, so a later export that lists her makes her
    users.write_text("\n".join(USERS[:-1]) + "\n")
    code, output = await cli(sandbox, reports, "run", str(clients), str(users))
    assert code == 0, output
    remembered = set(read_undone(store_for(state_dir, sandbox.url)))
    assert remembered == {"client:K-1", "user:anna@k1.example", "user:bob@solo.example"}

    # --redo: bob@ is made again (one mail more); K-1's room is archived, so that row says to
    # restore it and its people get nothing; the rows are forgotten
    code, output = await cli(sandbox, reports, "run", str(clients), str(users), "--redo")
    assert code == 1, output
    rows = report_rows(last_run(reports))
    assert rows["bob@solo.example"]["status"] == "created"
    assert "is archived" in rows["K-1"]["error"], rows["K-1"]
    assert rows["anna@k1.example"]["status"] == "failed"
    assert await invitations(sandbox) == sorted([*mailed, "bob@solo.example", "it@k1.example"])
    assert read_undone(store_for(state_dir, sandbox.url)) == {}


def test_the_summary_and_the_page_say_the_rows_skipped(tmp_path: Path) -> None:

    assert skipped_lines(0) == []
    [line] = skipped_lines(2)
    assert line.startswith("skipped: 2 rows that undo took back") and "--redo" in line
    statuses = {"unchanged": 1, "skipped": 2}
    page = render_html(summary_document(_facts(statuses=statuses, verdict="ok")), [], tmp_path)
    assert 'data-status="skipped"' in page and "2 rows skipped: <code>undo</code>" in page
    assert "None: no row failed." in page


def test_a_retry_carries_a_row_undo_took_back_as_skipped(tmp_path: Path) -> None:
    intake = _intake(tmp_path, "ann@x.example,,,\n")
    carried = RowResult("user:old@x.example", "user", Origin("users.csv", None, 9), (), CREATED)
    held = hold_back(intake, {"user:old@x.example": RUN}, settled=[carried])
    [now] = held.settled
    assert (now.status, now.note) == (Status.SKIPPED, RUN.note())
    assert hold_back(intake, {"user:old@x.example": RUN}, settled=[carried], redo=True).forget == (
        frozenset()  # --redo makes what the run takes up; a carried row stays remembered
    )


def test_a_group_undo_took_back_holds_its_row_back_too() -> None:
    """A group the run made, a member it added and a room it shared with a group: when undo
    took one back, the row that made it is held back like a row whose room or person went."""
    from bulk_onboard.engine.undo_scope import Effect, RunEffects, taken_back_rows
    from bulk_onboard.runs.journal import Checkpoint

    effects = RunEffects("r1")
    effects.groups.append(Effect("group", "group:g1", "user:a@x.example", group_id="g1"))
    effects.group_members.append(
        Effect("group_member", "group_member:g2:b@x.example", "user:b@x.example", group_id="g2")
    )
    effects.group_shares.append(Effect("group_share", "group_share:7:g3", "client:7", room_id=7))
    undone = Checkpoint()
    for key in ("group:g1", "group_member:g2:b@x.example", "group_share:7:g3"):
        undone.add(key, "undo", {})
    assert taken_back_rows(effects, undone) == {"user:a@x.example", "user:b@x.example", "client:7"}
    assert taken_back_rows(effects, Checkpoint()) == set()
