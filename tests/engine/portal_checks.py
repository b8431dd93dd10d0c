"""What the exactly-once tests run and check: the command line against the sandbox (a request
may take 1 s, so a write without an answer is looked for over 1 s), small client sheets, and
the portal's state, writes and mails as the sandbox reports them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bulk_onboard.sandbox import Sandbox
from tests.helpers import admin, assert_clean, command

MARIA, KENJI = "maria.garcia@northwind.example", "kenji.tanaka@northwind.example"
INVITED_KINDS = ("activation", "invitation", "room_invitation")


def write_clients(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A clients sheet: (client_id, client_name, client_email, manager_email) per row."""
    lines = ["client_id,client_name,client_email,manager_email", *(",".join(r) for r in rows)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def cli(sb: Sandbox, reports: Path, *args: str) -> tuple[int, str]:
    """`bulk-onboard <args>` in this process (a thread, so the sandbox keeps serving)."""
    return await command(
        sb, reports, *args, "--log-format", "json", "--rate", "500", "--request-timeout", "1"
    )


def acme(tmp_path: Path, contact: str = "it@acme.example") -> Path:
    """tmp_path/clients.csv with one client, K-1 Acme, managed by Maria."""
    return write_clients(tmp_path / "clients.csv", [("K-1", "Acme", contact, MARIA)])


async def acme_onboarded(sb: Sandbox, tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    """Acme (see `acme`) run once into tmp_path/reports with exit code 0: the reports folder,
    the sheet and the client's one room."""
    reports, sheet = tmp_path / "reports", acme(tmp_path)
    code, output = await cli(sb, reports, "run", str(sheet))
    assert code == 0, output
    [room] = rooms_of(await portal_state(sb), "K-1")
    return reports, sheet, room


async def refuse_for_the_day(sb: Sandbox, method: str, regex: str) -> None:
    """The next `method` request to a path matching `regex` meets a spent daily budget (a 429
    asking to wait an hour)."""
    fault = {"fault": "429", "method": method, "regex": regex, "retry_after": 3600}
    await admin(sb, "POST", "/sandbox/faults", {"script": [fault]})


async def retry(sb: Sandbox, reports: Path) -> tuple[int, str]:
    """`bulk-onboard retry` of the last run's report.csv."""
    return await cli(sb, reports, "retry", str(last_run(reports) / "report.csv"))


def last_run(reports: Path) -> Path:
    return sorted(p for p in reports.iterdir() if (p / "run.json").exists())[-1]


def report_rows(run: Path) -> dict[str, dict[str, str]]:
    """The rows of a run's report.csv by client_id (or e-mail for people)."""
    with (run / "report.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r.get("client_id") or r.get("email", ""): r for r in csv.DictReader(fh)}


async def portal_state(sb: Sandbox) -> dict[str, Any]:
    state: dict[str, Any] = await admin(sb, "GET", "/sandbox/state")
    return state


def rooms_of(state: dict[str, Any], client_id: str) -> list[dict[str, Any]]:
    """The rooms carrying the client's tag."""
    return [r for r in state["rooms"] if f"client:{client_id}".lower() in map(str.lower, r["tags"])]


async def writes(sb: Sandbox) -> dict[str, int]:
    """The write requests the portal received since the counters were last cleared."""
    requests = await admin(sb, "GET", "/sandbox/requests")
    return {route: n for route, n in requests["byRoute"].items() if not route.startswith("GET")}


async def clear_counters(sb: Sandbox) -> None:
    await admin(sb, "DELETE", "/sandbox/requests")


async def assert_quiet(sb: Sandbox, mailed: list[str]) -> None:
    """No write since the counters were cleared, exactly `mailed` ever mailed (sorted), and
    nothing twice in the portal."""
    assert await writes(sb) == {}
    assert await invitations(sb) == mailed
    await assert_clean(sb)


async def invitations(sb: Sandbox) -> list[str]:
    """Every address mailed an activation or an invitation, once per mail."""
    outbox = await admin(sb, "GET", "/sandbox/outbox")
    return sorted(m["to"] for m in outbox["mails"] if m["kind"] in INVITED_KINDS)
