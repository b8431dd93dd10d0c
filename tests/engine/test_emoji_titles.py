"""Titles with an emoji: the portal stores each UTF-16 half of it as `_` (Global.cs
ReplaceInvalidCharsAndTruncate, `\\p{Cs}` on code units), so the run compares with that and a
rerun writes nothing: no rename every night, no second folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.api.wire import stored_title
from bulk_onboard.sandbox import Sandbox
from bulk_onboard.sandbox.titles import clean_title
from tests.engine import portal_checks as checks

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Docs \U0001f600", "Docs __"),
        ("a\ud800b", "a_b"),
        ("Import/Export", "Import_Export"),
        ("x" * 169 + "\U0001f600", "x" * 169 + "_"),  # cut inside the pair, then replaced
        ("x" * 160 + ".docx" + "y" * 10, "x" * 155 + ".docx" + "y" * 10),  # the .ext kept
    ],
)
def test_titles_are_cleaned_on_utf16_units_as_the_server_does(sent: str, stored: str) -> None:
    assert stored_title(sent) == clean_title(sent) == stored


async def test_a_client_and_a_folder_with_an_emoji_are_rerun_with_no_writes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    playbook = tmp_path / "playbook.toml"
    playbook.write_text(
        '[room]\nfolders = ["Invoices", "Contracts", "Deliverables", "Docs \U0001f4c4"]\n',
        encoding="utf-8",
    )
    sheet = checks.write_clients(
        tmp_path / "c.csv", [("K-1", "Acme \U0001f600", "it@acme.example", checks.MARIA)]
    )
    code, output = await checks.cli(
        sandbox, reports, "run", str(sheet), "--playbook", str(playbook)
    )
    assert code == 0, output
    state = await checks.portal_state(sandbox)
    [room] = checks.rooms_of(state, "K-1")
    assert room["title"] == "Client - Acme __"
    await checks.clear_counters(sandbox)
    code, output = await checks.cli(
        sandbox, reports, "run", str(sheet), "--playbook", str(playbook)
    )
    assert code == 0, output
    assert await checks.writes(sandbox) == {}
    assert checks.report_rows(checks.last_run(reports))["K-1"]["status"] == "unchanged"
    again = await checks.portal_state(sandbox)
    assert checks.rooms_of(again, "K-1") == [room]
    assert len(again["folders"]) == len(state["folders"])
