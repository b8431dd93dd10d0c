"""The status quo: what the example scripts in the API docs do, one request after another.

    python bench/baseline.py [--quick] [--clients N] [--people N]
    python bench/baseline.py --portal URL --welcome ID --guide ID clients.csv users.csv

The second form is the script itself (DOCSPACE_TOKEN in the environment), as a company would
run it: for each client row the steps of the "client room onboarding" example, then for each
person the steps of the "invite users" and "create a room and invite a user" examples. The
requests are the corrected ones of docspace-api.md section 9 (invitations instead of
`entries`, real access numbers, `type` 4, a link request with a type, an access and a title),
sent like the examples send them: stdlib urllib, a new connection per request, no retries, no
look-before-create, errors printed and the row skipped. The first form starts a sandbox
portal, generates an onboarding and times that script on it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from harness import (
    make_onboarding,
    measure,
    merge_results,
    sandbox_process,
    table,
    write_requests,
)

ROOM_TYPES = {"": 2, "collaboration": 2, "custom": 5, "public": 6, "form-filling": 1}
ROOM_TYPES["virtual-data"] = 8
ACCESS = {
    "": None,
    "read": 2,
    "editing": 10,
    "content-creator": 11,
    "room-manager": 9,
    "review": 5,
    "comment": 6,
}
USER_TYPES = {"": 4, "user": 4, "room-admin": 1, "docspace-admin": 3}
FOLDERS = ["Invoices", "Contracts", "Deliverables"]
CLIENT_ACCESS = 2  # read, the playbook default for the client contact
MEMBER_ACCESS = 10  # editing, the playbook default for people joining a room
LINK = {"linkType": 0, "access": 2, "title": "Invitation link"}


class Portal:
    """The example scripts' `request_json` helper, with the request counted."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def request_json(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers=self.headers
        )
        self.sent[method] += 1
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                payload = json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            self.failed[f"{method} {exc.code}"] += 1
            print(f"Request failed. Status: {exc.code}, path: {path}", file=sys.stderr)
            return None
        except (OSError, ValueError) as exc:
            self.failed[f"{method} error"] += 1
            print(f"Request error: {exc}", file=sys.stderr)
            return None
        node = payload.get("response") if isinstance(payload, dict) else None
        return node if node is not None else payload


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def onboard(  # noqa: C901  the naive baseline, kept as one script
    portal: Portal, clients_csv: str, users_csv: str, welcome: int, guide: int
) -> dict[str, Any]:
    """Every client, then every person, one request at a time."""
    managers: dict[str, str | None] = {}
    rooms: dict[str, int] = {}
    done = Counter[str]()
    for row in read_csv(clients_csv):
        room = portal.request_json(
            "POST",
            "/api/2.0/files/rooms",
            {
                "title": row.get("room_title") or f"Client - {row['client_name']}",
                "roomType": ROOM_TYPES[row.get("room_type", "").strip().lower()],
            },
        )
        if not isinstance(room, dict) or "id" not in room:
            done["client failed"] += 1
            continue
        room_id = int(room["id"])
        rooms[row["client_id"]] = room_id
        deliverables = room_id
        for title in FOLDERS:
            folder = portal.request_json(
                "POST", f"/api/2.0/files/folder/{room_id}", {"title": title}
            )
            if title == "Deliverables" and isinstance(folder, dict):
                deliverables = int(folder["id"])
        for file_id, title in (
            (welcome, "Welcome to your client room.pdf"),
            (guide, "How to use the client portal.pdf"),
        ):
            portal.request_json(
                "POST",
                f"/api/2.0/files/file/{file_id}/copyas",
                {"destFolderId": deliverables, "destTitle": title},
            )
        manager = row["manager_email"].strip().lower()
        if manager not in managers:  # looked up once per manager
            person = portal.request_json("GET", f"/api/2.0/people/email?email={manager}")
            managers[manager] = person.get("id") if isinstance(person, dict) else None
        invitations: list[dict[str, Any]] = []
        if managers[manager]:
            invitations.append({"id": managers[manager], "access": 9})
        access = ACCESS[row.get("client_access", "").strip().lower()] or CLIENT_ACCESS
        invitations.append({"email": row["client_email"], "access": access})
        shared = portal.request_json(
            "PUT",
            f"/api/2.0/files/rooms/{room_id}/share",
            {"invitations": invitations, "notify": True},
        )
        link = portal.request_json("PUT", f"/api/2.0/files/rooms/{room_id}/links", LINK)
        done["client ok" if shared is not None and link is not None else "client failed"] += 1

    # The "invite users" example: create the named people one by one, invite the others in
    # one request (one per mail language), then the "create a room and invite a user"
    # example's share request for each person who joins a room.
    people = read_csv(users_csv)
    nameless: dict[str, list[dict[str, str]]] = {}
    created: list[dict[str, str]] = []
    for row in people:
        user_type = USER_TYPES[row.get("type", "").strip().lower()]
        if not (row.get("first_name") and row.get("last_name")):
            nameless.setdefault(row.get("culture", ""), []).append(row)
            continue
        body = {
            "firstName": row["first_name"],
            "lastName": row["last_name"],
            "email": row["email"].strip(),
            "type": user_type,
        }
        if portal.request_json("POST", "/api/2.0/people", body) is None:
            done["person failed"] += 1
        else:
            created.append(row)
    for culture, rows in nameless.items():
        invitation: dict[str, Any] = {
            "invitations": [
                {"email": r["email"].strip(), "type": USER_TYPES[r.get("type", "").strip().lower()]}
                for r in rows
            ]
        }
        if culture:
            invitation["culture"] = culture
        if portal.request_json("POST", "/api/2.0/people/invite", invitation) is None:
            done["person failed"] += len(rows)
        else:
            created.extend(rows)
    for row in created:
        room = rooms.get(row.get("room", ""))
        if room is not None:
            access = ACCESS[row.get("access", "").strip().lower()] or MEMBER_ACCESS
            joined = portal.request_json(
                "PUT",
                f"/api/2.0/files/rooms/{room}/share",
                {
                    "invitations": [{"email": row["email"].strip(), "access": access}],
                    "notify": True,
                },
            )
            if joined is None:
                done["person failed"] += 1
                continue
        done["person ok"] += 1
    return {
        "rows": dict(done),
        "sent": dict(portal.sent),
        "requests": sum(portal.sent.values()),
        "failed": dict(portal.failed),
    }


def script(args: argparse.Namespace) -> None:
    token = os.environ.get("DOCSPACE_TOKEN", "")
    if not token:
        sys.exit("set DOCSPACE_TOKEN")
    started = time.perf_counter()
    outcome = onboard(
        Portal(args.portal, token), args.clients_csv, args.users_csv, args.welcome, args.guide
    )
    outcome["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(outcome))


def run_baseline(
    sandbox_url: str, token: str, templates: dict[str, int], clients_csv: Path, users_csv: Path
) -> dict[str, Any]:
    """Run the script in a child process against a portal; its own figures plus wall time."""
    env = dict(os.environ, DOCSPACE_TOKEN=token)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--portal",
        sandbox_url,
        "--welcome",
        str(templates["Welcome.pdf"]),
        "--guide",
        str(templates["Guide.pdf"]),
        str(clients_csv),
        str(users_csv),
    ]
    done = measure(command, env=env)
    if done.exit_code != 0:
        raise RuntimeError(f"the baseline script failed: {done.stderr[-2000:]}")
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    outcome["wall_s"] = round(done.wall_s, 3)
    outcome["cpu_s"] = round(done.cpu_s, 3)
    return outcome


def standalone(args: argparse.Namespace) -> None:
    clients, people = (10, 30) if args.quick else (args.clients, args.people)
    with tempfile.TemporaryDirectory() as tmp:
        data = make_onboarding(Path(tmp), clients, people)
        options = ["--rate-limit", "off", "--latency-ms", "40", "--jitter-ms", "10"]
        with sandbox_process(*options) as sandbox:
            sandbox.admin("POST", "/sandbox/people", data.managers)
            sandbox.admin("DELETE", "/sandbox/requests")
            outcome = run_baseline(
                sandbox.url, sandbox.token, sandbox.template_ids, data.clients_csv, data.users_csv
            )
            counters = sandbox.admin("GET", "/sandbox/requests")
    rows = clients + people
    result = {
        "input": {"clients": clients, "people": people, "named": data.named},
        "sandbox": "rate limit off, 40 ms ± 10 ms latency",
        "wall_s": outcome["wall_s"],
        "requests": counters["total"],
        "writes": write_requests(counters),
        "requests_per_second": round(counters["total"] / outcome["wall_s"], 2),
        "rows_per_second": round(rows / outcome["wall_s"], 2),
        "failed_requests": outcome["failed"],
        "rows": outcome["rows"],
    }
    print(
        table(
            f"baseline: the example scripts, sequential ({clients} clients, {people} people, "
            "40 ms latency)",
            ["measure", "value"],
            [
                ["wall time (s)", result["wall_s"]],
                ["requests reaching the portal", result["requests"]],
                ["of which writes", result["writes"]],
                ["requests per second", result["requests_per_second"]],
                ["rows per second", result["rows_per_second"]],
                ["failed requests", sum(outcome["failed"].values())],
            ],
        )
    )
    merge_results("baseline", {"quick": args.quick, **result})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke size")
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--portal", help="run the script against this portal")
    parser.add_argument("--welcome", type=int, help="template file id of Welcome.pdf")
    parser.add_argument("--guide", type=int, help="template file id of Guide.pdf")
    parser.add_argument("clients_csv", nargs="?")
    parser.add_argument("users_csv", nargs="?")
    args = parser.parse_args()
    if args.portal:
        script(args)
    else:
        standalone(args)


if __name__ == "__main__":
    main()
