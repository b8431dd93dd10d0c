"""A person invited up front and also a client's contact gets one mail, even when reading
the invited person back failed: the prefetch's "unknown" is dropped once the invitation is
sent, so the contact is not shared by e-mail (which would mail again, docspace-api.md 10.8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import (
    MARIA,
    cli,
    invitations,
    last_run,
    refuse_for_the_day,
    report_rows,
    write_clients,
)

pytestmark = pytest.mark.e2e


async def test_an_invited_contact_is_not_mailed_again_when_its_read_back_failed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    clients = write_clients(tmp_path / "c.csv", [("K-1", "Acme", "x@acme.example", MARIA)])
    users = tmp_path / "users.csv"
    users.write_text("email,type,room\nx@acme.example,user,\n", encoding="utf-8")
    # Reading the invited person back meets a spent daily budget: that row is deferred.
    await refuse_for_the_day(sandbox, "GET", r"/api/2\.0/people/email")
    code, output = await cli(sandbox, reports, "run", str(clients), str(users))
    assert code == 5, output
    rows = report_rows(last_run(reports))
    assert (rows["K-1"]["status"], rows["x@acme.example"]["status"]) == ("created", "deferred")
    assert await invitations(sandbox) == ["x@acme.example"]  # one mail: the invitation
