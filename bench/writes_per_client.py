"""Writes per new client and the daily capacity they allow, for each path of a client room.

    python bench/writes_per_client.py [--clients N]

A sandbox portal without limits runs in its own process; `bulk-onboard run` onboards N
generated clients (no people) with each playbook into a fresh portal, then runs again (a
rerun). The portal's own request counters give the writes (POST+PUT). The daily capacity is
the portal's 10,000 writes a day per API user (docspace-api.md 7) divided by the writes per
new client. The skeleton (Templates/Client room skeleton: Invoices, Contracts, Deliverables
with the two templates) is the default playbook's folders and copies made into one folder;
the room template "Client room template" is a template made from a room holding the same
content. Wall time is the first run's, start to end of the process: room-from-template jobs
run one at a time (the sandbox's job takes --template-ms, 500 ms by default).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness import (
    NEUTRAL_CWD,
    SandboxProcess,
    measure,
    merge_results,
    sandbox_process,
    table,
    tool_command,
    tool_env,
    write_requests,
)

DAILY_WRITES = 10_000
MANAGER = "maria.garcia@northwind.example"
SKELETON = 'skeleton = "Templates/Client room skeleton"\n'
PUBLIC = '[access]\nclient = "content-creator"\n[link]\nkind = "external"\n'
TEMPLATE = 'template = "Client room template"\n'
PATHS = {
    "per step (default playbook)": "",
    "room template": f"[room]\n{TEMPLATE}",
    "skeleton": f"[room]\n{SKELETON}",
    "per step, Public room, external link": f'[room]\ntype = "public"\n{PUBLIC}',
    "skeleton, Public room, external link": f'[room]\ntype = "public"\n{SKELETON}{PUBLIC}',
}


def api(sandbox: SandboxProcess, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{sandbox.url}/api/2.0/{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {sandbox.token}")
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())["response"]


def make_skeleton(sandbox: SandboxProcess) -> None:
    templates = sandbox.admin("GET", "/sandbox/state")["templatesRoomId"]
    top = api(sandbox, "POST", f"files/folder/{templates}", {"title": "Client room skeleton"})
    folders = {
        title: api(sandbox, "POST", f"files/folder/{top['id']}", {"title": title})["id"]
        for title in ("Invoices", "Contracts", "Deliverables")
    }
    for name, title in (
        ("Welcome.pdf", "Welcome to your client room.pdf"),
        ("Guide.pdf", "How to use the client portal.pdf"),
    ):
        body = {"destFolderId": folders["Deliverables"], "destTitle": title}
        api(sandbox, "POST", f"files/file/{sandbox.template_ids[name]}/copyas", body)


def make_template(sandbox: SandboxProcess) -> None:
    """A room holding the skeleton's content, made into the room template."""
    templates = sandbox.admin("GET", "/sandbox/state")["templatesRoomId"]
    skeleton = next(
        f["id"]
        for f in api(sandbox, "GET", f"files/{templates}")["folders"]
        if f["title"] == "Client room skeleton"
    )
    room = api(sandbox, "POST", "files/rooms", {"title": "Template source", "roomType": 5})
    body = {"folderIds": [skeleton], "fileIds": [], "destFolderId": room["id"], "content": True}
    [operation] = api(sandbox, "PUT", "files/fileops/copy", body)
    for _ in range(100):
        time.sleep(0.1)
        found = api(sandbox, "GET", f"files/fileops?id={operation['id']}")
        if not found or found[0]["finished"]:
            break
    made = {"roomId": room["id"], "title": "Client room template"}
    sandbox.admin("POST", "/sandbox/templates", made)


def one_path(folder: Path, clients: int, playbook: str) -> dict[str, Any]:
    sheet = folder / "clients.csv"
    lines = ["client_id,client_name,client_email,manager_email"]
    lines += [
        f"W-{n:04d},Company {n:04d},it{n}@company{n}.example,{MANAGER}" for n in range(clients)
    ]
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    book = folder / "playbook.toml"
    book.write_text(playbook, encoding="utf-8")
    args = ["run", str(sheet), "--playbook", str(book), "--rate", "1000", "--no-progress"]
    args += ["--report-dir", str(folder / "reports")]
    writes, requests, walls = [], [], []
    with sandbox_process("--rate-limit", "off") as sandbox:
        sandbox.admin("POST", "/sandbox/people", [{"email": MANAGER, "type": 3}])
        make_skeleton(sandbox)
        if TEMPLATE in playbook:
            make_template(sandbox)
        for _ in range(2):  # the first run, then a rerun
            sandbox.admin("DELETE", "/sandbox/requests")
            done = measure(tool_command(*args), env=tool_env(sandbox))
            if done.exit_code != 0:
                raise RuntimeError(f"run exited {done.exit_code}: {done.stderr[-2000:]}")
            counters = sandbox.admin("GET", "/sandbox/requests")
            writes.append(write_requests(counters))
            requests.append(int(counters["total"]))
            walls.append(done.wall_s)
        dropped = int(sandbox.admin("GET", "/sandbox/templates")["dropped"])
    per_client = writes[0] / clients
    return {
        "clients": clients,
        "writes": writes[0],
        "writes_per_client": per_client,
        "requests_per_client": requests[0] / clients,
        "rerun_writes": writes[1],
        "clients_per_day": int(DAILY_WRITES // per_client),
        "wall_s": round(walls[0], 2),
        "template_jobs_dropped": dropped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    options = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=NEUTRAL_CWD) as tmp:
        for number, (name, playbook) in enumerate(PATHS.items()):
            folder = Path(tmp) / str(number)
            folder.mkdir()
            results[name] = one_path(folder, options.clients, playbook)
    rows = [
        (
            name,
            r["writes_per_client"],
            r["requests_per_client"],
            r["rerun_writes"],
            f"{r['clients_per_day']:,}",
            r["wall_s"],
        )
        for name, r in results.items()
    ]
    print(
        table(
            "Writes per new client",
            ["path", "writes/client", "requests/client", "rerun writes", "clients/day", "wall s"],
            rows,
        )
    )
    merge_results("writes_per_client", results)


if __name__ == "__main__":
    main()
