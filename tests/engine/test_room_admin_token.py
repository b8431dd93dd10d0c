"""Runs with a room admin's token (not a DocSpace admin): what the portal hides from it and
what it drops without an error must not be reported as done (docspace-api.md 10.7; server
DbUserService.cs GetUsers: Terminated users are listed to DocSpace admins only)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.config import Secret
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import portal_state, rooms_of, write_clients
from tests.helpers import admin, settings_for

pytestmark = pytest.mark.e2e

ROOM_ADMIN = "ra@northwind.example"


async def _room_admin_session(sandbox: Sandbox, *others: dict[str, Any]) -> str:
    people = [{"email": ROOM_ADMIN, "type": 1, "password": "Secret-pass-1"}, *others]
    await admin(sandbox, "POST", "/sandbox/people", people)
    async with aiohttp.ClientSession() as http:
        reply = await http.post(
            f"{sandbox.url}/api/2.0/authentication",
            json={"userName": ROOM_ADMIN, "password": "Secret-pass-1"},
        )
        return str((await reply.json())["response"]["token"])


async def _run(
    sandbox: Sandbox, tmp_path: Path, session: str, *sheets: Path, guard: bool = False
) -> Any:
    settings = replace(settings_for(sandbox, tmp_path / "reports"), token=Secret(session))
    playbook = tmp_path / "playbook.toml"  # the template room is the owner's: no copies
    limits = "[guard]\nmax_new_people = 0\n" if guard else ""
    # a room admin's key sees only its own rooms: client rooms are made only when that is
    # acknowledged (tests/engine/test_partial_room_view.py)
    seen = "[room]\nallow_partial_view = true\n"
    playbook.write_text(f"copies = []\n{limits}{seen}", encoding="utf-8")
    intake = load_intake(list(sheets), load_playbook(playbook))
    return await modes.start(settings, intake, progress=Progress(), stop=Stop())


async def test_a_guest_the_room_admin_cannot_see_is_not_reported_as_shared(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The share drops the entry by id without an error (10.7): the row fails, not done."""
    guest = {"email": "g@acme.example", "type": 2}  # made by the owner: no relation to ra@
    session = await _room_admin_session(sandbox, guest)
    sheet = write_clients(tmp_path / "c.csv", [("K-1", "Acme", "g@acme.example", ROOM_ADMIN)])
    outcome = await _run(sandbox, tmp_path, session, sheet)
    [row] = outcome.results
    assert (row.status.value, row.failed_step) == ("failed", "share")
    assert row.error is not None and "g@acme.example" in row.error and "10.7" in row.error
    assert "share" not in row.outputs  # nothing journalled as done
    state = await portal_state(sandbox)
    [room] = rooms_of(state, "K-1")
    assert {s["email"] for s in state["shares"] if s["roomId"] == room["id"]} == set()
    assert (await admin(sandbox, "GET", "/sandbox/outbox"))["mails"] == []


async def test_disabled_people_hidden_from_a_room_admin_fail_their_rows_and_are_not_new(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """people/filter leaves disabled people out for a room admin; the run looks the absent
    addresses up (GET people/email shows them) and fails their rows with the sentence, mails
    nobody, and the guard (no new people allowed) does not count them as new."""
    off = [
        {"email": "old@acme.example", "type": 4, "status": 2},
        {"email": "gone@northwind.example", "type": 4, "status": 2},
    ]
    session = await _room_admin_session(sandbox, *off)
    listed = await admin(sandbox, "GET", "/sandbox/state")
    assert {"old@acme.example", "gone@northwind.example"} <= {p["email"] for p in listed["people"]}
    clients = write_clients(tmp_path / "c.csv", [("K-1", "Acme", "old@acme.example", ROOM_ADMIN)])
    users = tmp_path / "users.csv"
    users.write_text("email,type,room\ngone@northwind.example,user,\n", encoding="utf-8")
    outcome = await _run(sandbox, tmp_path, session, clients, users, guard=True)
    rows = {r.row_key: r for r in outcome.results}
    for key, email in (
        ("client:K-1", "old@acme.example"),
        ("user:gone@northwind.example", "gone@northwind.example"),
    ):
        assert rows[key].status.value == "failed", rows[key]
        assert rows[key].error == (
            f"the account of {email} is disabled in DocSpace; enable it or remove the row"
        )
    assert (await admin(sandbox, "GET", "/sandbox/outbox"))["mails"] == []
    audit = await admin(sandbox, "GET", "/sandbox/requests")
    assert not any(r.startswith("POST /api/2.0/people") for r in audit["byRoute"])


async def test_the_sandbox_hides_disabled_people_and_unseen_guests_from_a_room_admin(
    sandbox: Sandbox,
) -> None:
    """DbUserService.GetUsers: Terminated people only for DocSpace admins (employeeStatus
    absent: left out; Terminated: nobody); GET people/email of a guest the room admin may
    not see is a 403 (10.7)."""
    off = {"email": "old@acme.example", "type": 4, "status": 2}
    session = await _room_admin_session(sandbox, off, {"email": "g@acme.example", "type": 2})

    async def get(token: str, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http:
            reply = await http.get(
                f"{sandbox.url}/api/2.0/{path}", headers={"Authorization": f"Bearer {token}"}
            )
            return reply.status, await reply.json()

    def emails(body: Any) -> set[str]:
        return {p["email"] for p in body["response"]}

    assert "old@acme.example" in emails((await get(sandbox.token, "people/filter"))[1])
    assert "old@acme.example" not in emails((await get(session, "people/filter"))[1])
    assert emails((await get(session, "people/filter?employeeStatus=2"))[1]) == set()
    status, body = await get(session, "people/email?email=old@acme.example")
    assert (status, body["response"]["status"]) == (200, 2)
    assert (await get(session, "people/email?email=g@acme.example"))[0] == 403
