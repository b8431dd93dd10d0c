"""DocSpace groups over real HTTP: a users-sheet `groups` column and the playbook's
`[room] groups`. A group the portal lacks is made once however many rows name it; people are
added, client rooms shared with the groups, nobody mailed for it; a rerun writes nothing and
undo takes it all back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import last_run, report_rows
from tests.helpers import admin, assert_clean, invoke

pytestmark = pytest.mark.e2e  # whole runs against the sandbox

MARIA = "maria.garcia@northwind.example"
KENJI = "kenji.tanaka@northwind.example"
CLIENTS = f"client_id,client_name,client_email,manager_email\nG-1,Grouped Ltd,one@grouped.example,{MARIA}\n"
USERS = (
    "email,first_name,last_name,groups\n"
    "ann@acme.example,Ann,Able,Accounting team\n"
    "bob@acme.example,Bob,Baker,Sales; Accounting team\n"
    "cy@acme.example,,,accounting team\n"
)
PLAYBOOK = '[room]\ngroups = ["Accounting team"]\n'
WRITES = ("POST", "PUT", "DELETE")


def cli(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = invoke(sb, tmp_path / "reports", *args)
    return result.exit_code, result.output


async def writes(sb: Sandbox) -> dict[str, int]:
    routes = (await admin(sb, "GET", "/sandbox/requests"))["byRoute"]
    return {r: n for r, n in routes.items() if r.split()[0] in WRITES and "/sandbox/" not in r}


async def call(sb: Sandbox, method: str, path: str, body: Any = None, **params: Any) -> Any:
    """/api/2.0/<path> as the run's account; the envelope's response."""
    headers = {"Authorization": f"Bearer {sb.token}"}
    url = f"{sb.url}/api/2.0/{path}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, params=params, json=body, headers=headers) as reply,
    ):
        assert reply.status == 200, await reply.text()
        return (await reply.json())["response"]


async def api(sb: Sandbox, path: str, **params: Any) -> Any:
    return await call(sb, "GET", path, **params)


async def test_groups_made_once_joined_shared_silently_rerun_and_undo(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    for name, text in (("clients.csv", CLIENTS), ("users.csv", USERS), ("pb.toml", PLAYBOOK)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    files = (str(tmp_path / "clients.csv"), str(tmp_path / "users.csv"))
    kenji = (await api(sandbox, "people/email", email=KENJI))["id"]
    sales = await call(sandbox, "POST", "group", {"groupName": "Sales", "members": [kenji]})
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, out = await asyncio.to_thread(
        cli, sandbox, tmp_path, "run", *files, "--playbook", str(tmp_path / "pb.toml")
    )
    assert code == 0, out
    sent = await writes(sandbox)
    # two new names ("accounting team" is another group: names are exact), each made once;
    # Sales was there
    assert sent["POST /api/2.0/group"] == 2, sent
    groups = {g["name"]: g for g in await api(sandbox, "group")}
    assert set(groups) == {"Accounting team", "Sales", "accounting team"}
    team = await api(sandbox, f"group/{groups['Accounting team']['id']}")
    assert sorted(m["email"] for m in team["members"]) == ["ann@acme.example", "bob@acme.example"]
    room = next(r for r in (await api(sandbox, "files/rooms"))["folders"] if "G-1" in str(r))
    shared = await api(sandbox, f"files/rooms/{room['id']}/share", filterType=32)
    assert [(s["sharedToGroup"]["name"], s["access"]) for s in shared] == [("Accounting team", 2)]
    audit = await assert_clean(sandbox)  # no group twice, nobody mailed twice
    assert audit["counts"]["groups"] == 3
    bob = report_rows(last_run(tmp_path / "reports"))["bob@acme.example"]
    assert [p.split("=")[0] for p in bob["group_ids"].split("; ")] == ["Sales", "Accounting team"]
    mails = (await admin(sandbox, "GET", "/sandbox/outbox"))["mails"]
    for email in ("ann@acme.example", "bob@acme.example", "cy@acme.example"):
        assert len([m for m in mails if m["to"] == email]) == 1  # their one account mail

    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, out = await asyncio.to_thread(
        cli, sandbox, tmp_path, "run", *files, "--playbook", str(tmp_path / "pb.toml")
    )
    assert code == 0, out
    assert await writes(sandbox) == {}  # a rerun writes nothing

    first = sorted(p for p in (tmp_path / "reports").iterdir() if (p / "run.json").exists())[0]
    code, out = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", first.name, "--yes")
    assert code == 0, out
    assert "2 groups made, 1 member added to groups that existed" in out
    assert "undone: " in out and "2 groups deleted" in out and "1 group member removed" in out
    left = await api(sandbox, "group")  # the groups the run made are gone, Sales stays
    assert [g["name"] for g in left] == ["Sales"]
    after = await api(sandbox, f"group/{sales['id']}")
    assert [m["email"] for m in after["members"]] == [KENJI]  # without bob
    code, again = await asyncio.to_thread(cli, sandbox, tmp_path, "undo", first.name, "--yes")
    assert code == 0 and "undone: nothing" in again, again


@pytest.mark.usefixtures("short_backoff")
async def test_lost_answers_make_no_group_twice(sandbox: Sandbox, tmp_path: Path) -> None:
    users = "email,first_name,last_name,groups\n" + "".join(
        f"p{n}@acme.example,Pat,Num{chr(65 + n)},Ops\n" for n in range(4)
    )
    for name, text in (("clients.csv", CLIENTS), ("users.csv", users)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "pb.toml").write_text('[room]\ngroups = ["Ops"]\n', encoding="utf-8")
    script = [  # each write is applied, its answer lost
        {"fault": "ambiguous_drop", "method": "POST", "regex": r"/api/2\.0/group"},
        {"fault": "ambiguous_drop", "method": "PUT", "regex": r"/api/2\.0/group/[^/]+/members"},
        {"fault": "ambiguous_502", "method": "PUT", "regex": r"/api/2\.0/files/rooms/\d+/share"},
    ]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": script})
    files = (str(tmp_path / "clients.csv"), str(tmp_path / "users.csv"))
    code, out = await asyncio.to_thread(
        cli, sandbox, tmp_path, "run", *files, "--playbook", str(tmp_path / "pb.toml")
    )
    assert code == 0, out
    faults = (await admin(sandbox, "GET", "/sandbox/requests"))["faults"]
    assert sum(faults.values()) == 3, faults  # every scripted loss happened
    audit = await assert_clean(sandbox)
    assert audit["counts"]["groups"] == 1
    [ops] = (await admin(sandbox, "GET", "/sandbox/state"))["groups"]
    assert sorted(ops["members"]) == [f"p{n}@acme.example" for n in range(4)]
    journal = (last_run(tmp_path / "reports") / "journal.jsonl").read_text(encoding="utf-8")
    made = [
        e
        for e in map(json.loads, journal.splitlines())
        if e["step"] in ("group:Ops", "groups") and e["outcome"] == "created"
    ]
    assert len(made) == 1  # one row made it, whichever asked first
    code, out = await asyncio.to_thread(
        cli, sandbox, tmp_path, "undo", last_run(tmp_path / "reports").name, "--yes"
    )
    assert code == 0 and "1 group deleted" in out, out


async def test_two_groups_with_one_name_and_a_room_admin_s_key_fail_rows_with_sentences(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    for _ in range(2):
        await call(sandbox, "POST", "group", {"groupName": "Dup"})
    users = tmp_path / "users.csv"
    users.write_text("email,type,groups\nann@acme.example,user,Dup\n", encoding="utf-8")
    code, out = await asyncio.to_thread(cli, sandbox, tmp_path, "run", str(users))
    assert code == 1, out
    row = report_rows(last_run(tmp_path / "reports"))["ann@acme.example"]
    assert row["status"] == "failed" and row["failed_step"] == "group:Dup"
    assert row["error"].startswith('2 groups in DocSpace are named "Dup" (ids ')
    assert "rename or remove all but one in DocSpace, then run again" in row["error"]

    password = "Room-admin-1!"
    await admin(
        sandbox,
        "POST",
        "/sandbox/people",
        [{"email": "ra@n.example", "type": 1, "password": password}],
    )
    token = (
        await call(
            sandbox, "POST", "authentication", {"userName": "ra@n.example", "password": password}
        )
    )["token"]
    users.write_text("email,type,groups\nra@n.example,room-admin,New team\n", encoding="utf-8")
    result = await asyncio.to_thread(
        invoke, sandbox, tmp_path / "reports", "run", str(users), token=token
    )
    assert result.exit_code == 1, result.output
    row = report_rows(last_run(tmp_path / "reports"))["ra@n.example"]
    assert row["failed_step"] == "group:New team"
    assert row["error"] == (
        'the portal refused to find or create the group "New team" (Access denied): only '
        "DocSpace admins may create groups and change their members; run bulk-onboard with a "
        "DocSpace admin's key, or clear the groups cell and [room] groups"
    )
    assert [g["name"] for g in await api(sandbox, "group")] == ["Dup", "Dup"]  # nothing made
