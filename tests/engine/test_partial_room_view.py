"""A key that cannot see every room never creates a client room blindly: with a room admin's
key the run says, before any write, that rooms other admins made are invisible to it, and makes
no client room unless acknowledged (--allow-partial-room-view); people rows go on. A refused
POST people reads as a sentence with what to do."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    MARIA,
    cli,
    invitations,
    last_run,
    portal_state,
    report_rows,
    rooms_of,
    write_clients,
)
from tests.helpers import admin, assert_clean, invoke

pytestmark = pytest.mark.e2e

ROOM_ADMIN = "ra@northwind.example"


async def _room_admin_key(sandbox: Sandbox) -> str:
    person = {"email": ROOM_ADMIN, "type": 1, "password": "Secret-pass-1"}
    await admin(sandbox, "POST", "/sandbox/people", [person])
    async with aiohttp.ClientSession() as http:
        reply = await http.post(
            f"{sandbox.url}/api/2.0/authentication",
            json={"userName": ROOM_ADMIN, "password": "Secret-pass-1"},
        )
        return str((await reply.json())["response"]["token"])


async def _as_room_admin(sandbox: Sandbox, key: str, reports: Path, *args: str) -> tuple[int, str]:
    flags = ("--log-format", "json", "--rate", "500", "--request-timeout", "1")
    result = await asyncio.to_thread(invoke, sandbox, reports, *args, *flags, token=key)
    return result.exit_code, result.output


async def test_a_room_admins_key_makes_no_client_room_unless_acknowledged(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    # K-1's room made by the owner: invisible to the room admin's key
    owner_sheet = write_clients(tmp_path / "k1.csv", [("K-1", "Acme", "it@k1.example", MARIA)])
    code, output = await cli(sandbox, reports, "run", str(owner_sheet))
    assert code == 0, output
    key = await _room_admin_key(sandbox)
    rooms = [
        ("K-1", "Acme", "it@k1.example", ROOM_ADMIN),
        ("K-2", "Beta", "it@k2.example", ROOM_ADMIN),
    ]
    clients = write_clients(tmp_path / "clients.csv", rooms)
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,type\n"
        "new.user@example.org,,,user\n"
        "boss@example.org,Bo,Ss,room-admin\n",
        encoding="utf-8",
    )
    before = len((await portal_state(sandbox))["rooms"])

    code, output = await _as_room_admin(sandbox, key, reports, "run", str(clients), str(users))
    assert code == 1, output
    assert "rooms other admins made are invisible to it" in output, output
    rows = report_rows(last_run(reports))
    for client in ("K-1", "K-2"):
        assert (rows[client]["status"], rows[client]["failed_step"]) == ("failed", "room")
        assert "--allow-partial-room-view" in rows[client]["error"], rows[client]["error"]
    assert len((await portal_state(sandbox))["rooms"]) == before  # no room made blindly
    assert rows["new.user@example.org"]["status"] == "created"  # people rows go on
    refused = rows["boss@example.org"]["error"]
    assert rows["boss@example.org"]["status"] == "failed"
    assert "the account bulk-onboard works as is a room-admin" in refused, refused
    assert "DocSpace admin's key" in refused and "(HTTP 403)" not in refused, refused
    assert await invitations(sandbox) == ["it@k1.example", "new.user@example.org"]

    # plan --against-portal says it too, before any run
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["plan", str(clients), "--against-portal", "--rate", "500"],
        env={"DOCSPACE_TOKEN": key, "DOCSPACE_URL": sandbox.url},
    )
    assert result.exit_code == 1, result.output
    assert "--allow-partial-room-view" in result.output, result.output

    # acknowledged: K-2's room is made (with a key that sees only its own rooms)
    k2 = write_clients(tmp_path / "k2.csv", rooms[1:])
    playbook = tmp_path / "playbook.toml"  # the template room is the owner's: no copies
    playbook.write_text("copies = []\n", encoding="utf-8")
    flags = ("--playbook", str(playbook), "--allow-partial-room-view")
    code, output = await _as_room_admin(sandbox, key, reports, "run", str(k2), *flags)
    assert code == 0, output
    assert "acknowledged with --allow-partial-room-view" in output
    assert report_rows(last_run(reports))["K-2"]["status"] == "created"
    assert len(rooms_of(await portal_state(sandbox), "K-2")) == 1
    await assert_clean(sandbox)
