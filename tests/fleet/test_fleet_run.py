"""`fleet run`: three sandbox portals in one process, each onboarded exactly once; a second
night writes nothing on any of them; fleet.json and fleet.html say so."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner, Result

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.fleet.conftest import write_fleet
from tests.helpers import admin, assert_sample_onboarded_once

SAFE = ("GET", "HEAD")


def fleet(*args: str) -> Result:
    return CliRunner().invoke(main, ["fleet", *args], catch_exceptions=False)


async def in_thread(*args: str) -> Result:
    """The command in a thread, so that the sandboxes in this loop keep serving."""
    return await asyncio.to_thread(fleet, *args)


async def writes(sb: Sandbox) -> dict[str, int]:
    received = await admin(sb, "GET", "/sandbox/requests")
    return {r: n for r, n in received["byRoute"].items() if not r.startswith(SAFE)}


async def test_three_portals_in_one_run_each_once_and_a_rerun_writes_nothing(
    tmp_path: Path, three_portals: dict[str, Sandbox]
) -> None:
    path = write_fleet(tmp_path, three_portals)
    first = await in_thread("run", str(path))
    assert first.exit_code == 0, first.output
    for name, sb in three_portals.items():
        await assert_sample_onboarded_once(sb)
        assert f"{name}: done (ok); run " in first.output
        outcome = json.loads((tmp_path / "reports" / name / "fleet-outcome.json").read_text())
        assert (outcome["state"], outcome["statuses"]) == ("done", {"created": 85})
        run_dir = tmp_path / "reports" / name / outcome["run_id"]
        assert (run_dir / "summary.json").is_file()
        assert outcome["report_html"] == f"{name}/{outcome['run_id']}/report.html"
        await admin(sb, "DELETE", "/sandbox/requests")

    again = await in_thread("run", str(path))
    assert again.exit_code == 0, again.output
    for name, sb in three_portals.items():
        assert await writes(sb) == {}, name
        await assert_sample_onboarded_once(sb)
        outcome = json.loads((tmp_path / "reports" / name / "fleet-outcome.json").read_text())
        assert outcome["statuses"] == {"unchanged": 85}
    document = json.loads((tmp_path / "reports" / "fleet.json").read_text())
    assert document["states"] == {"done": 3}
    assert [o["portal"] for o in document["outcomes"]] == ["acme", "globex", "initech"]
    page = (tmp_path / "reports" / "fleet.html").read_text()
    for name in three_portals:
        assert f'href="{name}/' in page


async def test_only_runs_the_portals_named_and_a_bad_input_needs_an_operator(
    tmp_path: Path, three_portals: dict[str, Sandbox]
) -> None:
    path = write_fleet(
        tmp_path, three_portals, own={"globex": 'input = "exports/{id}/missing.csv"'}
    )
    result = await in_thread("run", str(path), "--only", "acme,globex")
    assert result.exit_code == 9, result.output
    assert "acme: done (ok)" in result.output
    assert "globex: needs_operator; " in result.output
    assert "missing.csv" in result.output
    assert "initech" not in result.output.replace(str(tmp_path), "")
    assert (await writes(three_portals["initech"])) == {}
    document = json.loads((tmp_path / "reports" / "fleet.json").read_text())
    # failures first; a portal that never ran is said
    assert [(o["portal"], o["state"]) for o in document["outcomes"]] == [
        ("globex", "needs_operator"),
        ("acme", "done"),
        ("initech", "never_run"),
    ]


async def test_a_portal_that_cannot_be_reached_fails_and_the_others_still_run(
    tmp_path: Path, three_portals: dict[str, Sandbox]
) -> None:
    path = write_fleet(tmp_path, three_portals, extra="outage_wait = 0.5\nrequest_timeout = 1")
    dead = three_portals["initech"].url
    path.write_text(path.read_text().replace(dead, "http://127.0.0.1:9"))
    result = await in_thread("run", str(path))
    assert result.exit_code == 9, result.output
    assert "initech: failed (portal_unreachable)" in result.output
    for name in ("acme", "globex"):
        await assert_sample_onboarded_once(three_portals[name])
