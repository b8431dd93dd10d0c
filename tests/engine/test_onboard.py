"""End to end over real HTTP: the sample workbook onboarded into the sandbox, then again."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bulk_onboard.cli.output import exit_code
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import Sandbox
from tests.helpers import SAMPLES, admin, assert_clean, settings_for

pytestmark = pytest.mark.e2e  # a whole run against the sandbox


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def test_sample_workbook_onboards_everything_once(sandbox: Sandbox, tmp_path: Path) -> None:
    intake = load_intake([SAMPLES / "onboarding.xlsx"], load_playbook(None))
    assert not intake.invalid
    settings = settings_for(sandbox, tmp_path)
    outcome = await modes.start(settings, intake, progress=Progress(), stop=Stop(), run_id="first")
    rows = _report(outcome.run_dir / "report.csv")
    failed = [(r["line"], r["failed_step"], r["error"]) for r in rows if r["status"] != "created"]
    assert failed == []
    assert exit_code(outcome) == 0
    audit = await assert_clean(sandbox)
    counts = audit["counts"]
    assert counts["rooms"] == 1 + 25  # the Templates room and one per client
    assert counts["folders"] == 25 * 3
    assert counts["files"] == 2 + 25 * 2

    clients = [r for r in rows if r["kind"] == "client"]
    assert all(r["room_id"] and r["room_link"].startswith(sandbox.url) for r in clients)
    # A fresh client row costs 8 requests (room, 3 folders, 2 copies, share, link) plus its
    # share of the run's look-ups (the rooms listing, the template room, people).
    spent = sorted(int(r["requests"]) for r in clients)
    assert spent[len(spent) // 2] == 8, spent
    assert sum(spent) <= 8 * len(clients) + 6, spent
    requests = outcome.document["requests"]["by_call"]
    assert requests["POST create_room"] == 25
    assert requests["POST create_folder"] == 75
    assert requests["POST copy_file_as"] == 50
    assert requests["PUT set_room_link"] == 25

    # Second run of the same spreadsheet: look-ups only, nothing written, no mail.
    mails_before = (await admin(sandbox, "GET", "/sandbox/outbox"))["count"]
    again = await modes.start(settings, intake, progress=Progress(), stop=Stop(), run_id="second")
    statuses = {r["status"] for r in _report(again.run_dir / "report.csv")}
    assert statuses == {"unchanged"}
    writes = {
        k: v for k, v in again.document["requests"]["by_call"].items() if not k.startswith("GET")
    }
    assert writes == {}
    assert (await admin(sandbox, "GET", "/sandbox/outbox"))["count"] == mails_before


async def test_people_join_existing_rooms_by_title_and_a_wrong_title_creates_nobody(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,room,access\n"
        "ana.lima@example.com,Ana,Lima,Templates,read\n"
        "bo.berg@example.com,Bo,Berg,No Such Room,read\n"
        "cy.chan@example.com,,,Templates,editing\n"
    )
    intake = load_intake([users], load_playbook(None))
    outcome = await modes.start(
        settings_for(sandbox, tmp_path), intake, progress=Progress(), stop=Stop()
    )
    by_email = {dict(r.values)["email"]: r for r in outcome.results}
    assert by_email["ana.lima@example.com"].status.value == "created"
    assert by_email["cy.chan@example.com"].status.value == "created"
    wrong = by_email["bo.berg@example.com"]
    assert (wrong.status.value, wrong.failed_step) == ("failed", "room")
    assert 'no room titled "No Such Room"' in (wrong.error or "")
    state = await admin(sandbox, "GET", "/sandbox/state")
    emails = {p["email"] for p in state["people"]}
    assert "bo.berg@example.com" not in emails  # nobody created, nobody mailed
    members = {
        s["email"]: s["access"]
        for s in state["shares"]
        if s.get("roomId") == sandbox.templates_room_id
    }
    assert members.get("ana.lima@example.com") == 2 and members.get("cy.chan@example.com") == 10
    assert exit_code(outcome) == 1
