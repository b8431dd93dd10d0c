"""The client contact's name, over real HTTP against the sandbox: a contact the sheet names
is made a named guest before the share (POST people/active, no mail), and the share's e-mail
entry mails them the one room invitation; a rerun writes nothing; a contact without a name is
invited by e-mail as before, nameless until they join."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    MARIA,
    assert_quiet,
    clear_counters,
    cli,
    last_run,
    portal_state,
    refuse_for_the_day,
    report_rows,
    retry,
    rooms_of,
    writes,
)
from tests.helpers import admin, assert_clean

pytestmark = pytest.mark.e2e

NAMED, NAMELESS = "ana@named.example", "bo@nameless.example"


def _clients(path: Path) -> Path:
    path.write_text(
        "client_id,client_name,client_email,manager_email,Contact first name,Contact last name\n"
        f"K-1,Named Ltd,{NAMED},{MARIA},Ana,Núñez-O'Brien\n"
        f"K-2,Nameless Ltd,{NAMELESS},{MARIA},,\n",
        encoding="utf-8",
    )
    return path


def _person(state: dict[str, Any], email: str) -> dict[str, Any]:
    [person] = [p for p in state["people"] if p["email"] == email]
    return person


async def test_a_named_contact_is_a_named_guest_mailed_once_and_a_rerun_writes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports, sheet = tmp_path / "reports", _clients(tmp_path / "clients.csv")
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    assert (await writes(sandbox))["POST /api/2.0/people/active"] == 1
    state = await portal_state(sandbox)
    named, nameless = _person(state, NAMED), _person(state, NAMELESS)
    assert (named["firstName"], named["lastName"]) == ("Ana", "Núñez-O'Brien")
    assert (nameless["firstName"], nameless["lastName"]) == ("", "")  # as before: by e-mail
    for person, client in ((named, "K-1"), (nameless, "K-2")):
        assert person["type"] == 2, person  # a guest
        [room] = rooms_of(state, client)
        shared = {s["userId"] for s in state["shares"] if s["roomId"] == room["id"]}
        assert person["id"] in shared, state["shares"]
    # each contact got exactly one mail: the room invitation with its join link
    outbox = await admin(sandbox, "GET", "/sandbox/outbox")
    mails = [(m["to"], m["kind"]) for m in outbox["mails"] if m["to"] in (NAMED, NAMELESS)]
    assert sorted(mails) == [(NAMED, "room_invitation"), (NAMELESS, "room_invitation")]
    rows = report_rows(last_run(reports))
    assert {rows["K-1"]["status"], rows["K-2"]["status"]} == {"created"}
    await assert_clean(sandbox)

    await clear_counters(sandbox)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    assert code == 0, output
    await assert_quiet(sandbox, sorted([NAMED, NAMELESS]))
    rows = report_rows(last_run(reports))
    assert {rows["K-1"]["status"], rows["K-2"]["status"]} == {"unchanged"}

    # undo takes the named guest back with the room, as it does an invited contact
    first = sorted(p for p in reports.iterdir() if (p / "run.json").exists())[0]
    code, output = await cli(sandbox, reports, "undo", first.name, "--yes")
    assert code == 0, output
    left = {p["email"] for p in (await portal_state(sandbox))["people"]}
    assert not left & {NAMED, NAMELESS}, left


SHARE = r"/api/2\.0/files/rooms/\d+/share"


@pytest.mark.parametrize("again", ["retry", "resume"])
async def test_a_named_guest_whose_share_failed_is_mailed_once_by_the_retry_or_resume(
    sandbox: Sandbox, tmp_path: Path, again: str
) -> None:
    """The contact step made the named guest (no mail), the share was deferred: the run's
    `retry` or `run --resume` knows from its journal that this run made the guest (`contact`
    created, the share not done) and shares them by e-mail, the one room invitation."""
    reports, sheet = tmp_path / "reports", tmp_path / "clients.csv"
    sheet.write_text("".join(_clients(sheet).read_text(encoding="utf-8").splitlines(True)[:2]))
    await refuse_for_the_day(sandbox, "PUT", SHARE)
    code, output = await cli(sandbox, reports, "run", str(sheet))
    first = last_run(reports)
    row = report_rows(first)["K-1"]
    assert (row["status"], row["failed_step"]) == ("deferred", "share"), output
    assert (await writes(sandbox))["POST /api/2.0/people/active"] == 1
    assert not await _mails(sandbox, NAMED)
    if again == "retry":
        code, output = await retry(sandbox, reports)
    else:
        code, output = await cli(sandbox, reports, "run", "--resume", first.name)
    assert code == 0, output
    assert await _mails(sandbox, NAMED) == ["room_invitation"]
    named = _person(await portal_state(sandbox), NAMED)
    assert (named["firstName"], named["lastName"]) == ("Ana", "Núñez-O'Brien")
    await assert_clean(sandbox)


async def _mails(sb: Sandbox, to: str) -> list[str]:
    outbox = await admin(sb, "GET", "/sandbox/outbox")
    return [m["kind"] for m in outbox["mails"] if m["to"] == to]
