"""One mail per new person, people as the portal has them, contradictions caught before any
write (issue 12 items 4, 5 and 7): each over real HTTP, after a run, a rerun and a retry, with
the portal's state and its outbox as the proof."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import write_clients
from tests.helpers import admin, assert_clean, command

pytestmark = pytest.mark.e2e  # whole runs against the sandbox

MANAGER = "maria.garcia@northwind.example"  # a room admin of the seeded portal


async def cli(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str]:
    return await command(sb, tmp_path / "reports", *args, "--rate", "500")


def last_report(tmp_path: Path) -> Path:
    runs = sorted(p for p in (tmp_path / "reports").iterdir() if (p / "run.json").exists())
    return runs[-1] / "report.csv"


def rows_of(report: Path) -> dict[str, dict[str, str]]:
    """Report rows by client_id or e-mail."""
    with report.open(encoding="utf-8-sig", newline="") as fh:
        return {r.get("client_id") or r["email"]: r for r in csv.DictReader(fh)}


async def mails(sb: Sandbox) -> Counter[tuple[str, str]]:
    """(address, kind) → how many mails the portal sent."""
    outbox = await admin(sb, "GET", "/sandbox/outbox")
    return Counter((m["to"].lower(), m["kind"]) for m in outbox["mails"])


async def writes(sb: Sandbox) -> dict[str, int]:
    requests = await admin(sb, "GET", "/sandbox/requests")
    return {k: v for k, v in requests["byRoute"].items() if not k.startswith("GET")}


async def state(sb: Sandbox) -> dict[str, Any]:
    found: dict[str, Any] = await admin(sb, "GET", "/sandbox/state")
    return found


def members(portal: dict[str, Any], room_title: str) -> dict[str, int]:
    room = next(r["id"] for r in portal["rooms"] if r["title"] == room_title)
    return {s["email"]: s["access"] for s in portal["shares"] if s["roomId"] == room}


def person(portal: dict[str, Any], email: str) -> dict[str, Any]:
    return next(p for p in portal["people"] if p["email"].lower() == email)


async def as_owner(sb: Sandbox, method: str, path: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {sb.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{sb.url}/api/2.0/{path}", json=body, headers=headers) as reply,
    ):
        assert reply.status == 200, await reply.text()
        return (await reply.json())["response"]


async def test_every_new_person_gets_exactly_one_mail_and_the_sheets_type(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = write_clients(
        tmp_path / "clients.csv",
        [
            ("C-1", "Acme", "contact@acme.example.com", MANAGER),
            ("C-2", "Globex", "cara@globex.example.com", MANAGER),
        ],
    )
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,type,room,access\n"
        "nia@acme.example.com,,,user,C-1,editing\n"  # invited, then joins by id: no 2nd mail
        "ned@acme.example.com,Ned,Lund,user,C-1,read\n"  # created (activation), then joins
        "cara@globex.example.com,,,user,,\n"  # invited as a user, then the client contact
        "late@acme.example.com,,,user,Later Room,read\n"  # no such room yet: nobody mailed
        f"{MANAGER},,,room-admin,C-1,editing\n"  # a second access in C-1: caught up front
    )
    code, output = await cli(sandbox, tmp_path, "run", str(clients), str(users))
    assert code == 1, output
    rows = rows_of(last_report(tmp_path))
    assert {k: r["status"] for k, r in rows.items()} == {
        "C-1": "created",
        "C-2": "created",
        "nia@acme.example.com": "created",
        "ned@acme.example.com": "created",
        "cara@globex.example.com": "created",
        "late@acme.example.com": "failed",
        MANAGER: "invalid",
    }
    assert "is the account manager of C-1" in rows[MANAGER]["error"]
    expected = Counter(
        {
            ("contact@acme.example.com", "room_invitation"): 1,  # a new guest, by e-mail
            ("nia@acme.example.com", "invitation"): 1,
            ("ned@acme.example.com", "activation"): 1,
            ("cara@globex.example.com", "invitation"): 1,  # not also a room invitation
            (MANAGER, "room_notification"): 2,  # active: told once per room
        }
    )
    assert await mails(sandbox) == expected
    await assert_clean(sandbox)  # no repeated mail, no duplicate
    portal = await state(sandbox)
    assert person(portal, "cara@globex.example.com")["type"] == 4  # a user, not made a guest
    assert members(portal, "Client - Globex")["cara@globex.example.com"] == 2
    acme = members(portal, "Client - Acme")
    assert acme[MANAGER] == 9  # the manager keeps room-manager: no flip to editing
    assert acme["nia@acme.example.com"] == 10 and acme["ned@acme.example.com"] == 2

    # The rerun (what the next night does): nothing written, nobody mailed.
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, output = await cli(sandbox, tmp_path, "run", str(clients), str(users))
    assert code == 1 and await writes(sandbox) == {}, output
    assert await mails(sandbox) == expected
    assert members(await state(sandbox), "Client - Acme")[MANAGER] == 9

    # The room appears; the retry invites the late person once and adds them.
    await as_owner(sandbox, "POST", "files/rooms", {"title": "Later Room", "roomType": 2})
    code, output = await cli(sandbox, tmp_path, "retry", str(last_report(tmp_path)))
    assert code == 1, output  # the invalid row is still invalid
    assert rows_of(last_report(tmp_path))["late@acme.example.com"]["status"] == "created"
    expected[("late@acme.example.com", "invitation")] = 1
    assert await mails(sandbox) == expected
    assert members(await state(sandbox), "Later Room")["late@acme.example.com"] == 2
    await assert_clean(sandbox)


async def test_people_as_the_portal_has_them(sandbox: Sandbox, tmp_path: Path) -> None:
    await admin(
        sandbox,
        "POST",
        "/sandbox/people",
        [
            {"email": "gone@example.com", "type": "User", "status": "Terminated"},
            {"email": "guest@example.com", "type": "Guest"},
            {"email": "pg@example.com", "type": "Guest", "status": "Pending"},  # not joined yet
            {"email": "ra@example.com", "type": "RoomAdmin"},
            {"email": "plain@example.com", "type": "User"},
        ],
    )
    owner = sandbox.owner_email.lower()
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,client_name,client_email,manager_email\n"
        f"C-1,Acme,contact@acme.example.com,{MANAGER}\n"
        f"C-2,Globex,{owner},{MANAGER}\n"  # the API user as contact: no entry
        f"C-3,Initech,gone@example.com,{MANAGER}\n"  # a disabled contact
        "C-4,Umbrella,u@umbrella.example.com,plain@example.com\n"  # manager not a room admin
    )
    users = tmp_path / "users.csv"
    users.write_text(
        "email,first_name,last_name,type,room,access\n"
        f"{owner},,,user,C-1,editing\n"  # the API user as a member: no entry, never lowered
        "gone@example.com,,,user,C-1,read\n"
        "guest@example.com,,,user,C-1,read\n"  # a guest the sheet makes a user: raised
        "pg@example.com,,,user,C-1,read\n"  # the same, not activated: raised without mail
        "ra@example.com,,,user,C-1,read\n"  # a room admin the sheet calls a user: kept
    )
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, output = await cli(sandbox, tmp_path, "run", str(clients), str(users))
    assert code == 1, output
    assert output.count("share_skipped_api_user") == 1, output  # two rows, said once
    rows = rows_of(last_report(tmp_path))
    status = {k: (r["status"], r["failed_step"]) for k, r in rows.items()}
    assert status == {
        "C-1": ("created", ""),
        "C-2": ("created", ""),
        "C-3": ("failed", "share"),
        "C-4": ("failed", "share"),
        owner: ("unchanged", ""),
        "gone@example.com": ("failed", "person"),
        "guest@example.com": ("updated", ""),
        "pg@example.com": ("updated", ""),
        "ra@example.com": ("updated", ""),  # joined C-1; its type kept
    }
    disabled = (
        "the account of gone@example.com is disabled in DocSpace; enable it or remove the row"
    )
    assert rows["C-3"]["error"] == rows["gone@example.com"]["error"] == disabled
    assert "plain@example.com is not a room admin" in rows["C-4"]["error"]
    assert "works as" in rows["C-2"]["note"] and "works as" in rows[owner]["note"]
    assert "never lowers a type" in rows[owner]["note"]
    assert "never lowers a type" in rows["ra@example.com"]["note"]
    assert "is now a user" in rows["guest@example.com"]["note"]
    assert rows["guest@example.com"]["changes"] == "type: guest → user"
    portal = await state(sandbox)
    titles = {r["title"] for r in portal["rooms"]}
    assert "Client - Initech" not in titles and "Client - Umbrella" not in titles  # no room
    assert person(portal, "guest@example.com")["type"] == 4
    assert person(portal, "pg@example.com")["type"] == 4
    assert person(portal, "ra@example.com")["type"] == 1
    assert person(portal, owner)["type"] == 3
    assert not [s for s in portal["shares"] if s["email"] in (owner, "gone@example.com")]
    assert members(portal, "Client - Acme") == {
        MANAGER: 9,
        "contact@acme.example.com": 2,
        "guest@example.com": 2,
        "pg@example.com": 2,
        "ra@example.com": 2,
    }
    expected = Counter(
        {
            ("contact@acme.example.com", "room_invitation"): 1,
            (MANAGER, "room_notification"): 2,
            ("guest@example.com", "type_changed"): 1,
            ("guest@example.com", "room_notification"): 1,
            ("ra@example.com", "room_notification"): 1,
        }
    )
    assert await mails(sandbox) == expected
    first = await writes(sandbox)
    assert first["PUT /api/2.0/people/type/{type}"] == 1  # the active guest
    assert first["POST /api/2.0/people/invite"] == 1  # the one who has not activated
    assert first["POST /api/2.0/files/rooms"] == 2  # only C-1 and C-2

    # Rerun: nothing written (no share for the API user, no second raise), nobody mailed.
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, _ = await cli(sandbox, tmp_path, "run", str(clients), str(users))
    assert code == 1 and await writes(sandbox) == {}
    assert await mails(sandbox) == expected

    # Enable the account; the retry adds it (told once, it is active) and makes C-3.
    gone = person(await state(sandbox), "gone@example.com")["id"]
    await as_owner(sandbox, "PUT", "people/status/1", {"userIds": [gone]})
    code, output = await cli(sandbox, tmp_path, "retry", str(last_report(tmp_path)))
    rows = rows_of(last_report(tmp_path))
    assert rows["C-3"]["status"] == "created" and rows["gone@example.com"]["status"] == "updated"
    assert rows["C-4"]["status"] == "failed" and code == 1, output
    portal = await state(sandbox)
    assert members(portal, "Client - Acme")["gone@example.com"] == 2
    assert members(portal, "Client - Initech")["gone@example.com"] == 2
    assert "Client - Umbrella" not in {r["title"] for r in portal["rooms"]}
    expected[("gone@example.com", "room_notification")] = 2  # one per room
    expected[(MANAGER, "room_notification")] = 3
    assert await mails(sandbox) == expected
    await assert_clean(sandbox)


@pytest.mark.usefixtures("short_backoff")  # the share's six 5xx exhaust the six attempts
async def test_a_person_of_a_client_whose_share_failed_is_told_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = write_clients(
        tmp_path / "clients.csv", [("C-1", "Acme", "contact@acme.example.com", MANAGER)]
    )
    users = tmp_path / "users.csv"
    users.write_text("email,first_name,last_name,room,access\nned@acme.example.com,Ned,Lund,C-1,\n")
    share = {"fault": "5xx", "method": "PUT", "regex": r"/api/2\.0/files/rooms/\d+/share"}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [{**share, "times": 6}]})
    code, output = await cli(sandbox, tmp_path, "run", str(clients), str(users))
    assert code == 1, output
    rows = rows_of(last_report(tmp_path))
    assert (rows["C-1"]["failed_step"], rows["C-1"]["room_id"] != "") == ("share", True)
    told = rows["ned@acme.example.com"]["error"]
    assert told.startswith("the room of client:C-1 exists, but its share failed: "), told
    assert "is not there" not in told
    assert await mails(sandbox) == Counter({("ned@acme.example.com", "activation"): 1})

    code, output = await cli(sandbox, tmp_path, "retry", str(last_report(tmp_path)))
    assert code == 0, output
    assert members(await state(sandbox), "Client - Acme") == {
        MANAGER: 9,
        "contact@acme.example.com": 2,
        "ned@acme.example.com": 10,
    }
    assert await mails(sandbox) == Counter(
        {
            ("ned@acme.example.com", "activation"): 1,  # not told again when joining
            ("contact@acme.example.com", "room_invitation"): 1,
            (MANAGER, "room_notification"): 1,
        }
    )
    await assert_clean(sandbox)


async def test_a_copy_that_would_convert_stops_the_run_before_any_request(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    playbook = tmp_path / "playbook.toml"
    playbook.write_text('[[copies]]\nsource = "Templates/Welcome.pdf"\ntitle = "Welcome.docx"\n')
    clients = tmp_path / "clients.csv"
    clients.write_text(
        f"client_id,client_name,client_email,manager_email\nC-1,Acme,c@acme.example.com,{MANAGER}\n"
    )
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, output = await cli(sandbox, tmp_path, "run", str(clients), "--playbook", str(playbook))
    assert code == 2 and 'copies #1.title "Welcome.docx"' in output, output
    assert "copyas-extension-change" in output
    assert (await admin(sandbox, "GET", "/sandbox/requests"))["total"] == 0


async def test_the_plan_counts_a_type_raise_as_a_write(sandbox: Sandbox, tmp_path: Path) -> None:
    await admin(sandbox, "POST", "/sandbox/people", [{"email": "guest@example.com", "type": 2}])
    users = tmp_path / "users.csv"
    users.write_text("email,type\nguest@example.com,user\n")
    planned = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["plan", str(users), "--against-portal"],
        env={"DOCSPACE_TOKEN": sandbox.token, "DOCSPACE_URL": sandbox.url},
    )
    assert planned.exit_code == 0, planned.output
    assert "the run needs 1 write requests" in planned.output, planned.output
    assert await writes(sandbox) == {}
    code, output = await cli(sandbox, tmp_path, "run", str(users))
    assert code == 0 and "1 updated" in output, output
    assert await writes(sandbox) == {"PUT /api/2.0/people/type/{type}": 1}
    assert person(await state(sandbox), "guest@example.com")["type"] == 4
