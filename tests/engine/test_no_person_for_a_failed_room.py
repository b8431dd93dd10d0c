"""Nobody is made for a room that was not made: the people who join only the room of a client
row that failed before its room existed are neither created nor invited (no mail); their rows
fail naming that client, and `retry` makes them once the room is there."""

from __future__ import annotations

from pathlib import Path

import pytest

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
from tests.helpers import admin, assert_clean

pytestmark = pytest.mark.e2e

LATE_MANAGER = "late.manager@northwind.example"  # not in the portal yet: K-1's share fails
K1_PEOPLE = ["anna@k1.example", "ben@k1.example", "named@k1.example"]
K2_PEOPLE = ["cara@k2.example"]


def _users(path: Path) -> Path:
    lines = ["email,first_name,last_name,room"]
    lines += ["anna@k1.example,,,K-1", "ben@k1.example,,,K-1", "named@k1.example,Na,Med,K-1"]
    lines += ["cara@k2.example,,,K-2"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_a_failed_clients_people_get_no_mail_and_retry_makes_them(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    clients = write_clients(
        tmp_path / "clients.csv",
        [
            ("K-1", "Failing", "it@k1.example", LATE_MANAGER),
            ("K-2", "Fine", "it@k2.example", MARIA),
        ],
    )
    users = _users(tmp_path / "users.csv")
    code, output = await cli(sandbox, reports, "run", str(clients), str(users))
    assert code != 0, output
    rows = report_rows(last_run(reports))
    assert rows["K-1"]["status"] == "failed" and rows["K-2"]["status"] == "created"
    for email in K1_PEOPLE:
        assert rows[email]["status"] == "failed", rows[email]
        assert "client:K-1" in rows[email]["error"], rows[email]["error"]
    assert rows["cara@k2.example"]["status"] == "created"
    people = {p["email"] for p in (await portal_state(sandbox))["people"]}
    assert not people & set(K1_PEOPLE)  # nobody made for the room that failed
    assert await invitations(sandbox) == sorted(["cara@k2.example", "it@k2.example"])

    # the manager is a room admin now: retry makes the room, then its people, each mailed once
    await admin(sandbox, "POST", "/sandbox/people", [{"email": LATE_MANAGER, "type": 1}])
    code, output = await cli(sandbox, reports, "retry", str(last_run(reports) / "report.csv"))
    assert code == 0, output
    retried = report_rows(last_run(reports))
    assert {retried[e]["status"] for e in ["K-1", *K1_PEOPLE]} == {"created"}, retried
    state = await portal_state(sandbox)
    [room] = rooms_of(state, "K-1")
    members = {s["email"] for s in state["shares"] if s["roomId"] == room["id"]}
    assert set(K1_PEOPLE) <= members
    mailed = sorted([*K1_PEOPLE, *K2_PEOPLE, "it@k1.example", "it@k2.example"])
    assert await invitations(sandbox) == mailed
    await assert_clean(sandbox)
