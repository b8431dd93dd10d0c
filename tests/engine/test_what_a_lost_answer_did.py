"""A write whose answer was lost counts as what it set out to do, not as a create: a rename
is `changed`, a share records whom it added and invited, and a room this run created stays
`created` when a retry renames it. A create refused outright is not this run's on retry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    MARIA,
    cli,
    last_run,
    portal_state,
    report_rows,
    rooms_of,
    write_clients,
)
from tests.engine.test_room_identity import _correct, _refuse_links_for_the_day
from tests.helpers import admin, settings_for

pytestmark = pytest.mark.e2e

Client = tuple[str, str, str, str]  # client_id, client_name, client_email, manager_email


def _journal(run: Path, step: str) -> list[dict[str, Any]]:
    lines = (run / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["step"] == step]


async def _drop(sandbox: Sandbox, regex: str) -> None:
    fault = {"fault": "ambiguous_drop", "method": "PUT", "regex": regex}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [fault]})


async def _updated_with_answer_lost(
    sandbox: Sandbox, tmp_path: Path, before: Client, after: Client, path: str
) -> Path:
    """Runs `before`, then `after` with the answer to the PUT on files/rooms`path` dropped: the
    second run exits 0 and reports K-1 updated. Its run folder."""
    reports = tmp_path / "reports"
    sheet = write_clients(tmp_path / "c.csv", [before])
    assert (await cli(sandbox, reports, "run", str(sheet)))[0] == 0
    write_clients(sheet, [after])
    await _drop(sandbox, r"/api/2\.0/files" + path)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    run = last_run(reports)
    assert report_rows(run)["K-1"]["status"] == "updated"
    return run


async def test_a_rename_whose_answer_was_lost_is_an_update(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = ("K-1", "Acme", "it@acme.example", MARIA)
    after = ("K-1", "Acme Corp", "it@acme.example", MARIA)
    run = await _updated_with_answer_lost(sandbox, tmp_path, before, after, r"/rooms/\d+$")
    assert [e["outcome"] for e in _journal(run, "room")] == ["changed"]
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    assert room["title"] == "Client - Acme Corp"


@pytest.mark.usefixtures("short_backoff")
async def test_a_share_whose_answer_was_lost_journals_whom_it_added_and_invited(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = ("K-1", "Acme", "old@acme.example", MARIA)
    after = ("K-1", "Acme", "new@acme.example", MARIA)
    run = await _updated_with_answer_lost(sandbox, tmp_path, before, after, r"/rooms/\d+/share")
    [share] = _journal(run, "share")
    assert share["outcome"] == "changed"
    assert share["out"]["invited"] == ["new@acme.example"]
    assert [a[0] for a in share["out"]["added"]] == ["new@acme.example"]
    assert ["new@acme.example", 2] in share["out"]["set"]
    state = await portal_state(sandbox)
    [room] = rooms_of(state, "K-1")
    members = {s["email"] for s in state["shares"] if s["roomId"] == room["id"]}
    assert "new@acme.example" in members


async def test_a_retry_that_renames_the_room_this_run_made_says_created(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = write_clients(tmp_path / "c.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    await _refuse_links_for_the_day(sandbox)
    assert (await cli(sandbox, reports, "run", str(sheet)))[0] == 5
    await admin(sandbox, "POST", "/sandbox/faults", {"clear": True})
    report = last_run(reports) / "report.csv"
    _correct(report, {"client_name": "Acme Corp"})
    code, output = await cli(sandbox, reports, "retry", str(report))
    assert code == 0, output
    assert report_rows(last_run(reports))["K-1"]["status"] == "created"
    [room] = rooms_of(await portal_state(sandbox), "K-1")
    assert room["title"] == "Client - Acme Corp"


async def test_a_room_refused_outright_and_made_by_hand_later_is_not_this_runs(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    sheet = write_clients(tmp_path / "c.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    # The create is refused for the day (a 429 asking an hour): it made nothing.
    refuse = {
        "fault": "429",
        "method": "POST",
        "regex": r"/api/2\.0/files/rooms",
        "retry_after": 3600,
    }
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [refuse]})
    assert (await cli(sandbox, reports, "run", str(sheet)))[0] == 5
    assert rooms_of(await portal_state(sandbox), "K-1") == []
    await admin(sandbox, "POST", "/sandbox/faults", {"clear": True})
    # Someone makes the tagged room by hand; the retry finds it: not created by this run.
    async with DocSpaceClient(settings_for(sandbox, reports)) as client:
        await client.create_room("Client - Acme", 2, ["client:K-1"])
    code, output = await cli(sandbox, reports, "retry", str(last_run(reports) / "report.csv"))
    assert code == 0, output
    assert report_rows(last_run(reports))["K-1"]["status"] == "updated"
    assert len(rooms_of(await portal_state(sandbox), "K-1")) == 1
