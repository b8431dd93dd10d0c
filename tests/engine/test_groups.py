"""DocSpace groups over real HTTP: a users-sheet `groups` column and the playbook's
`[room] groups`. A group the portal lacks is made once however many rows name it; people are
added, client rooms shared with the groups, nobody mailed for it; a rerun writes nothing and
undo takes it all back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox
from tests.helpers import admin, invoke

pytestmark = pytest.mark.e2e  # whole runs against the sandbox

MARIA = "maria.garcia@northwind.example"
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


async def api(sb: Sandbox, path: str, **params: Any) -> Any:
    """GET /api/2.0/<path> as the run's account; the envelope's response."""
    headers = {"Authorization": f"Bearer {sb.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sb.url}/api/2.0/{path}", params=params, headers=headers) as reply,
    ):
        assert reply.status == 200, await reply.text()
        return (await reply.json())["response"]


async def test_groups_made_once_joined_shared_silently_rerun_and_undo(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    for name, text in (("clients.csv", CLIENTS), ("users.csv", USERS), ("pb.toml", PLAYBOOK)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    files = (str(tmp_path / "clients.csv"), str(tmp_path / "users.csv"))
    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, out = await asyncio.to_thread(
        cli, sandbox, tmp_path, "run", *files, "--playbook", str(tmp_path / "pb.toml")
    )
    assert code == 0, out
    sent = await writes(sandbox)
    # three names ("accounting team" is another group: names are exact), each made once
    assert sent["POST /api/2.0/group"] == 3, sent
    groups = {g["name"]: g for g in await api(sandbox, "group")}
    assert set(groups) == {"Accounting team", "Sales", "accounting team"}
    team = await api(sandbox, f"group/{groups['Accounting team']['id']}")
    assert sorted(m["email"] for m in team["members"]) == ["ann@acme.example", "bob@acme.example"]
    room = next(r for r in (await api(sandbox, "files/rooms"))["folders"] if "G-1" in str(r))
    shared = await api(sandbox, f"files/rooms/{room['id']}/share", filterType=32)
    assert [(s["sharedToGroup"]["name"], s["access"]) for s in shared] == [("Accounting team", 2)]
    mails = (await admin(sandbox, "GET", "/sandbox/outbox"))["mails"]
    for email in ("ann@acme.example", "bob@acme.example", "cy@acme.example"):
        assert len([m for m in mails if m["to"] == email]) == 1  # their one account mail

    await admin(sandbox, "DELETE", "/sandbox/requests")
    code, out = await asyncio.to_thread(
        cli, sandbox, tmp_path, "run", *files, "--playbook", str(tmp_path / "pb.toml")
    )
    assert code == 0, out
    assert await writes(sandbox) == {}  # a rerun writes nothing
