"""`bulk-onboard undo RUN`: a run, then others using the portal, then undo, then undo again.

After the undo the portal is as it was before the run, except for what others added meanwhile
and what undo must leave alone because of it: a room someone used since, the people still in
it, a person who accepted, a member whose access someone changed. Nothing that was there
before the run is archived, removed or deleted; the second undo writes nothing at all.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.runs.undone_rows import read_undone
from bulk_onboard.sandbox import Sandbox
from bulk_onboard.state.store import store_for
from tests.engine.portal_checks import rooms_of, write_clients
from tests.engine.test_room_identity import _correct as correct
from tests.helpers import admin, invoke

pytestmark = pytest.mark.e2e

MARIA = "maria.garcia@northwind.example"
CLIENTS = (
    "client_id,client_name,client_email,manager_email\n"
    f"U-1,Archived One,one@client-one.example.com,{MARIA}\n"
    f"U-2,Used By Files,two@client-two.example.com,{MARIA}\n"
    f"U-3,Used By Members,three@client-three.example.com,{MARIA}\n"
)
USERS = (
    "email,first_name,last_name,type,room,access\n"
    "accepts@acme.example.com,Ada,Accepts,user,U-1,editing\n"
    "plain@acme.example.com,Pat,Plain,user,Shared projects,editing\n"
    "changed@acme.example.com,Cy,Changed,user,Shared projects,editing\n"
    "old.hand@northwind.example,Old,Hand,user,Shared projects,editing\n"
    "new.guest@acme.example.com,,,user,U-1,read\n"
)
PLAYBOOK = """
[crm]
jsonl_path = "crm.jsonl"
"""


class Other:
    """Another DocSpace admin of the portal, signed in with a password (not the run's key)."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    @classmethod
    async def sign_in(cls, sb: Sandbox) -> Other:
        email, password = "dana.other@northwind.example", "Other-admin-1!"
        await admin(
            sb,
            "POST",
            "/sandbox/people",
            [{"email": email, "type": "DocSpaceAdmin", "password": password}],
        )
        reply = await cls(sb.url, "").call(
            "POST", "authentication", {"userName": email, "password": password}
        )
        return cls(sb.url, reply["token"])

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": self.token} if self.token else {}
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, f"{self.url}/api/2.0/{path}", json=body, headers=headers) as r,
        ):
            assert r.status == 200, await r.text()
            return (await r.json())["response"]


def active(state: dict[str, Any]) -> dict[str, set[tuple[Any, ...]]]:
    """The portal as a person sees it at work: what is outside the Archive, and everyone."""
    archived = {r["id"] for r in state["rooms"] if r["archived"]}
    live = [f for f in state["folders"] if f["roomId"] not in archived]
    folder_room = {f["id"]: f["roomId"] for f in state["folders"]}
    folder_room.update({r["id"]: r["id"] for r in state["rooms"]})
    titles = {r["id"]: r["title"] for r in state["rooms"]}
    return {
        "rooms": {(r["title"],) for r in state["rooms"] if not r["archived"]},
        "folders": {(titles[f["roomId"]], f["title"]) for f in live},
        "files": {
            (titles[folder_room[f["folderId"]]], f["title"])
            for f in state["files"]
            if folder_room.get(f["folderId"]) not in archived
        },
        "people": {(p["email"], p["status"], p["activationStatus"]) for p in state["people"]},
        "shares": {
            (titles[s["roomId"]], s["email"], s["access"])
            for s in state["shares"]
            if s["roomId"] not in archived
        },
    }


def cli(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = invoke(sb, tmp_path / "reports", *args, "--rate", "1000")
    return result.exit_code, result.output


async def test_undo_takes_back_the_run_and_only_the_run(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    other = await Other.sign_in(sandbox)
    shared = await other.call("POST", "files/rooms", {"title": "Shared projects", "roomType": 2})
    await admin(
        sandbox, "POST", "/sandbox/people", [{"email": "old.hand@northwind.example"}]
    )  # an account from before the run: never touched
    (tmp_path / "clients.csv").write_text(CLIENTS)
    (tmp_path / "users.csv").write_text(USERS)
    (tmp_path / "playbook.toml").write_text(PLAYBOOK)
    before = active(await admin(sandbox, "GET", "/sandbox/state"))

    code, output = await asyncio.to_thread(
        cli,
        sandbox,
        tmp_path,
        "run",
        str(tmp_path / "clients.csv"),
        str(tmp_path / "users.csv"),
        "--playbook",
        str(tmp_path / "playbook.toml"),
    )
    assert code == 0, output
    run_dir = next((tmp_path / "reports").glob("2*"))
    rooms = {r["title"]: r["id"] for r in (await admin(sandbox, "GET", "/sandbox/state"))["rooms"]}
    people = {
        p["email"]: p["id"] for p in (await admin(sandbox, "GET", "/sandbox/state"))["people"]
    }

    # Others use the portal after the run.
    await other.call("POST", f"files/folder/{rooms['Client - Used By Files']}", {"title": "Q3"})
    await other.call(
        "PUT",
        f"files/rooms/{rooms['Client - Used By Members']}/share",
        {"invitations": [{"id": people["old.hand@northwind.example"], "access": 2}]},
    )
    await other.call(
        "PUT",
        f"files/rooms/{shared['id']}/share",
        {"invitations": [{"id": people["changed@acme.example.com"], "access": 2}]},
    )
    await admin(sandbox, "POST", "/sandbox/people/accept", {"email": "accepts@acme.example.com"})
    await other.call("POST", "files/rooms", {"title": "Made after the run", "roomType": 2})
    await admin(sandbox, "POST", "/sandbox/people", [{"email": "hired.later@northwind.example"}])
    meanwhile = active(await admin(sandbox, "GET", "/sandbox/state"))

    code, shown = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", run_dir.name)
    assert code == 0, shown
    assert active(await admin(sandbox, "GET", "/sandbox/state")) == meanwhile  # only looked
    assert "3 rooms created, 3 members added to rooms that existed before, 7 people added" in shown
    assert "take it back with: bulk-onboard undo" in shown

    code, undone = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", run_dir.name, "--yes")
    assert code == 0, undone
    after = active(await admin(sandbox, "GET", "/sandbox/state"))
    for what in after:  # nothing that was there before the run is gone
        assert before[what] <= after[what], (what, before[what] - after[what])
    gone = {what: meanwhile[what] - after[what] for what in after}
    assert all(not after[what] - meanwhile[what] for what in after)  # undo adds nothing
    assert gone["rooms"] == {("Client - Archived One",)}
    assert {f[0] for f in gone["folders"] | gone["files"]} == {"Client - Archived One"}
    assert len(gone["folders"]) == 3 and len(gone["files"]) == 2
    assert {p[0] for p in gone["people"]} == {
        "plain@acme.example.com",  # invited, not accepted: disabled, then deleted
        "new.guest@acme.example.com",
        "one@client-one.example.com",  # the contact of the archived room
    }
    assert {(s[0], s[1]) for s in gone["shares"] if s[0] == "Shared projects"} == {
        ("Shared projects", "plain@acme.example.com"),
        ("Shared projects", "old.hand@northwind.example"),  # existed before: membership only
    }
    # What is left of the run: what others used or changed, and the people in it.
    assert after["rooms"] - before["rooms"] == {
        ("Client - Used By Files",),
        ("Client - Used By Members",),
        ("Made after the run",),
    }
    assert {p[0] for p in after["people"] - before["people"]} == {
        "accepts@acme.example.com",  # accepted the invitation
        "changed@acme.example.com",  # someone changed their access in Shared projects
        "two@client-two.example.com",  # contacts of the rooms that stay
        "three@client-three.example.com",
        "hired.later@northwind.example",
    }
    assert ("Shared projects", "changed@acme.example.com", 2) in after["shares"]
    for line in (
        "leave alone      room",
        "used since the run: 1 folder the run did not add",
        "used since the run: 1 member the run did not add",
        "their access was changed since the run (now 2)",
        "person accepts@acme.example.com: accepted the invitation",
        "undone: 1 room archived, 2 members removed, 3 people disabled and deleted, "
        "1 client_offboarded record sent",
    ):
        assert line in undone, (line, undone)
    records = [json.loads(x) for x in (tmp_path / "crm.jsonl").read_text().splitlines()]
    offboarded = [r for r in records if r["event"] == "client_offboarded"]
    assert [(r["client_id"], r["room_id"]) for r in offboarded] == [
        ("U-1", rooms["Client - Archived One"])
    ]
    report = next((run_dir / "undo").glob("*/report.csv")).read_text(encoding="utf-8-sig")
    assert report.count(",done,") == 7 and report.count(",left_alone,") == 9
    # the rows something of which was taken back: the next runs skip them (and accepts@,
    # who joins U-1's room); those left alone (U-2, U-3, changed@) run as before
    remembered = read_undone(store_for(state_dir, sandbox.url))
    assert set(remembered) == {
        "client:U-1",
        "user:plain@acme.example.com",
        "user:new.guest@acme.example.com",
        "user:old.hand@northwind.example",  # its membership of Shared projects removed
    }
    assert {u.file for u in remembered.values()} == {"clients.csv", "users.csv"}

    # Again: nothing to do, nothing written, nothing sent.
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, again = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", run_dir.name, "--yes")
    assert code == 0, again
    assert "undone: nothing" in again
    routes = (await admin(sandbox, "GET", "/sandbox/requests"))["byRoute"]
    assert [r for r in routes if not r.startswith("GET ")] == []
    assert active(await admin(sandbox, "GET", "/sandbox/state")) == after
    assert (tmp_path / "crm.jsonl").read_text().count("client_offboarded") == 1


async def test_an_undo_killed_midway_finishes_when_run_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clients = "client_id,client_name,client_email,manager_email\n" + "".join(
        f"K-{n},Killed {n},c{n}@killed{n}.example.com,{MARIA}\n" for n in range(6)
    )
    (tmp_path / "clients.csv").write_text(clients)
    before = active(await admin(sandbox, "GET", "/sandbox/state"))
    code, output = await asyncio.to_thread(
        cli, sandbox, tmp_path, "run", str(tmp_path / "clients.csv")
    )
    assert code == 0, output
    run_dir = next((tmp_path / "reports").glob("2*"))
    await admin(sandbox, "POST", "/sandbox/faults", {"rates": {"latency_ms": 20}})
    undo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bulk_onboard",
        "undo",
        str(run_dir),
        "--yes",
        "--no-progress",
        "--rate",
        "1000",
        env={**os.environ, "DOCSPACE_TOKEN": sandbox.token, "DOCSPACE_URL": sandbox.url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    journal = run_dir / "undo.jsonl"
    for _ in range(300):  # until the first room is archived, at most 15 s
        if journal.is_file() and journal.read_text().count("\n") >= 1:
            break
        assert undo.returncode is None
        await asyncio.sleep(0.05)
    undo.kill()
    await undo.wait()
    halfway = journal.read_text().count("\n")
    assert 1 <= halfway < 12, halfway  # 6 archives and 6 contacts, not all of them done
    await admin(sandbox, "POST", "/sandbox/faults", {"rates": {"latency_ms": 0}})

    code, finished = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", str(run_dir), "--yes")
    assert code == 0, finished
    assert active(await admin(sandbox, "GET", "/sandbox/state")) == before
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert sum(r["archived"] for r in state["rooms"]) == 6
    assert "taken back: " in finished and "left alone: 0" in finished


async def test_undo_after_a_corrected_retry_takes_back_the_first_attempt_too(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The first attempt made the room and invited old@ (its link refused for the day); the
    retry, with a corrected name and contact, renamed that room (journalled `changed`) and
    invited new@. Undo takes back both attempts: the room and both contacts."""
    before = active(await admin(sandbox, "GET", "/sandbox/state"))
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "old@acme.example", MARIA)])
    links = {"fault": "429", "method": "PUT", "regex": r"/api/2\.0/files/rooms/\d+/links"}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [{**links, "retry_after": 3600}]})
    code, output = await asyncio.to_thread(cli, sandbox, tmp_path, "run", str(sheet))
    assert code == 5, output  # the link deferred
    first = next((tmp_path / "reports").glob("2*"))
    await admin(sandbox, "POST", "/sandbox/faults", {"clear": True})
    correct(first / "report.csv", {"client_name": "Acme Corp", "client_email": "new@acme.example"})
    code, output = await asyncio.to_thread(
        cli, sandbox, tmp_path, "retry", str(first / "report.csv")
    )
    assert code == 0, output
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert {p["email"] for p in state["people"]} >= {"old@acme.example", "new@acme.example"}

    code, shown = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", first.name)
    assert code == 0, shown
    assert "and 1 retry of it: 1 room created" in shown
    assert "2 people added to the portal" in shown
    code, undone = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", first.name, "--yes")
    assert code == 0, undone
    assert "undone: 1 room archived, 2 people disabled and deleted" in undone, undone
    assert active(await admin(sandbox, "GET", "/sandbox/state")) == before


async def test_undo_lists_what_the_run_changed_and_leaves_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A room renamed and a person's type raised are changes undo does not take back: the
    preview and the report list them, and the portal keeps them."""
    await admin(
        sandbox, "POST", "/sandbox/people", [{"email": "gus@acme.example", "type": "Guest"}]
    )
    sheet = write_clients(tmp_path / "clients.csv", [("K-7", "Acme", "it@acme.example", MARIA)])
    code, output = await asyncio.to_thread(cli, sandbox, tmp_path, "run", str(sheet))
    assert code == 0, output
    write_clients(sheet, [("K-7", "Acme Corp", "it@acme.example", MARIA)])
    (tmp_path / "users.csv").write_text(
        "email,first_name,last_name,type,room,access\ngus@acme.example,Gus,Raised,user,K-7,read\n"
    )
    code, output = await asyncio.to_thread(
        cli, sandbox, tmp_path, "run", str(sheet), str(tmp_path / "users.csv")
    )
    assert code == 0, output
    second = sorted((tmp_path / "reports").glob("2*"))[-1]
    [room] = rooms_of(await admin(sandbox, "GET", "/sandbox/state"), "K-7")
    code, shown = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", second.name)
    assert code == 0, shown
    assert "not taken back (2, change them in DocSpace if need be):" in shown, shown
    assert f'keep             room {room["id"]} renamed to "Client - Acme Corp"' in shown
    assert "keep             gus@acme.example: type raised to the sheet's" in shown
    code, undone = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", second.name, "--yes")
    assert code == 0, undone
    assert "undone: 1 member removed" in undone, undone
    state = await admin(sandbox, "GET", "/sandbox/state")
    assert [(r["title"], r["archived"]) for r in rooms_of(state, "K-7")] == [
        ("Client - Acme Corp", False)
    ]
    gus = next(p for p in state["people"] if p["email"] == "gus@acme.example")
    assert (gus["type"], gus["status"]) == (4, 1), gus  # User, Active: kept
    report = next((second / "undo").glob("*/report.csv")).read_text(encoding="utf-8-sig")
    assert report.count(",not_taken_back,") == 2


async def test_a_person_whose_activation_carries_more_flags_has_accepted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """activationStatus is a set of flags (docspace-api.md section 4): Activated with
    AutoGenerated (1 | 4 = 5) is a person who accepted, and undo never touches them."""
    sheet = write_clients(tmp_path / "clients.csv", [("F-1", "Flags", "sso@flags.example", MARIA)])
    code, output = await asyncio.to_thread(cli, sandbox, tmp_path, "run", str(sheet))
    assert code == 0, output
    store = sandbox.portal.store
    person = store.people.by_email("sso@flags.example")
    assert person is not None
    with store.transaction():  # signed in through single sign-on: activated, auto-generated
        store.people.set_status(person.id, 1)
        store.people.set_activation(person.id, 1 | 4)
    code, undone = await asyncio.to_thread(
        cli, sandbox, tmp_path, "undo", str(next((tmp_path / "reports").glob("2*"))), "--yes"
    )
    assert code == 0, undone
    assert "person sso@flags.example: accepted the invitation" in undone, undone
    state = await admin(sandbox, "GET", "/sandbox/state")
    sso = [p for p in state["people"] if p["email"] == "sso@flags.example"]
    assert [(p["status"], p["activationStatus"]) for p in sso] == [(1, 5)], sso  # Active, kept
