"""Under the fleet each portal's playbook [notify] and [runs] keep apply as under `bulk-onboard
run`: one signed message for the portal whose row fails, none for the clean one, the failing row
`failing_since` from its second night on (remembered in the fleet's shared store), each portal's
run folders pruned; a notification that fails never changes the fleet's exit code; and
`fleet validate` checks each portal's [notify] secrets and SMTP server."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bulk_onboard.cli.progress import LogProgress
from bulk_onboard.fleet import runner
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.outcome import EXIT_ROWS, fleet_exit_code
from bulk_onboard.fleet.prepare import prepare
from bulk_onboard.fleet.runner import run_fleet
from bulk_onboard.runs.history import past_runs
from bulk_onboard.sandbox import Sandbox
from bulk_onboard.state.store import redis_prefix
from tests.fleet.conftest import write_fleet
from tests.fleet.test_fleet_run import in_thread
from tests.helpers import admin, seeded_sandbox
from tests.sheets import nightly_sheet

SECRET = "whsec-fleet-notify"
SECRET_ENV = "FLEET_NOTIFY_SECRET"


@pytest.fixture
async def two_portals() -> AsyncIterator[dict[str, Sandbox]]:
    """Two sandbox portals with the company's account managers."""
    async with seeded_sandbox() as acme, seeded_sandbox() as globex:
        yield {"acme": acme, "globex": globex}


def _sheet(folder: Path, failing: bool) -> Path:
    return nightly_sheet(folder, failing)


def _playbook(folder: Path, webhook_url: str, keep: int | None = None) -> Path:
    path = folder / "playbook.toml"
    text = f'[notify]\nwebhook_url = "{webhook_url}"\nsecret_env = "{SECRET_ENV}"\n'
    text += 'on = "failures"\n'
    if keep is not None:
        text += f"\n[runs]\nkeep = {keep}\n"
    path.write_text(text, encoding="utf-8")
    return path


def _fleet(folder: Path, portals: dict[str, Sandbox], playbook: Path, fleet: str = "") -> Path:
    """acme's export has a failing row, globex's is clean; both with `playbook`."""
    own = {
        "acme": f'input = "{_sheet(folder, True)}"',
        "globex": f'input = "{_sheet(folder, False)}"',
    }
    return write_fleet(folder, portals, extra=f'playbook = "{playbook}"', fleet=fleet, own=own)


async def _received(sb: Sandbox) -> list[dict[str, Any]]:
    return list((await admin(sb, "GET", "/sandbox/webhook"))["deliveries"])


def _summary(run_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return document


async def test_the_failing_portal_is_told_night_after_night_and_its_runs_pruned(
    tmp_path: Path,
    two_portals: dict[str, Sandbox],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    acme = two_portals["acme"]
    await admin(acme, "POST", "/sandbox/webhook/config", {"secret": SECRET})
    playbook = _playbook(tmp_path, f"{acme.url}/sandbox/webhook", keep=1)
    path = _fleet(tmp_path, two_portals, playbook, fleet=f'state = "{redis_url}"')
    reports = tmp_path / "reports"

    first = await in_thread("run", str(path))
    assert first.exit_code == 1, first.output  # acme's row needs attention
    assert "acme: done (rows_need_attention)" in first.output
    assert "globex: done (ok)" in first.output
    (told,) = await _received(acme)  # one message, the failing portal's
    assert told["verified"] and told["status"] == 200
    (night1,) = past_runs(reports / "acme")
    body = told["body"]
    assert (body["event"], body["run_id"], body["verdict"]) == (
        "run_finished",
        night1.run_id,
        "rows_need_attention",
    )
    assert body["portal"] == acme.url and body["statuses"]["failed"] == 1
    (row,) = body["failed_rows"]
    assert row["key"] == "client:C-2" and "failing_since" not in row
    assert "nobody@northwind.example" in row["error"]
    assert _summary(night1.path)["notify"] == [
        {"channel": "webhook", "sent": True, "to": acme.url, "status": 200, "attempts": 1}
    ]
    (clean1,) = past_runs(reports / "globex")
    assert "notify" not in _summary(clean1.path)  # on = "failures": a clean run says nothing
    # the failing row is remembered in the fleet's shared store, where any machine finds it
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        failing = json.loads(client.get(f"{redis_prefix(acme.url)}:failing-rows.json") or "{}")
    finally:
        client.close()
    assert failing == {"client:C-2": night1.started}

    second = await in_thread("run", str(path))
    assert second.exit_code == 1, second.output
    deliveries = await _received(acme)
    assert len(deliveries) == 2
    again = deliveries[1]
    assert again["verified"] and again["body"]["portal"] == acme.url
    assert again["body"]["run_id"] != night1.run_id
    (row,) = again["body"]["failed_rows"]
    assert row["key"] == "client:C-2" and row["failing_since"] == night1.started

    # [runs] keep = 1: each portal keeps its newest run folder alone
    (night2,) = past_runs(reports / "acme")
    assert night2.run_id == again["body"]["run_id"] and not night1.path.exists()
    (clean2,) = past_runs(reports / "globex")
    assert clean2.run_id != clean1.run_id and not clean1.path.exists()
    outcome = json.loads((reports / "acme" / "fleet-outcome.json").read_text())
    assert outcome["run_id"] == night2.run_id  # the outcome file is no run folder: kept


async def test_a_notification_that_fails_leaves_the_fleet_exit_code_as_it_was(
    tmp_path: Path, two_portals: dict[str, Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    playbook = _playbook(tmp_path, "http://127.0.0.1:9/hook")  # nothing listens there
    fleet = read_fleet(_fleet(tmp_path, two_portals, playbook))
    env = dict(os.environ)
    ready = [prepare(fleet, portal, env) for portal in fleet.portals]

    outcomes = await run_fleet(fleet, ready, env=env, progress=LogProgress)
    assert [(o.portal, o.state, o.verdict) for o in outcomes] == [
        ("acme", "done", "rows_need_attention"),
        ("globex", "done", "ok"),
    ]
    assert fleet_exit_code(outcomes) == EXIT_ROWS
    (told,) = _summary(tmp_path / "reports" / "acme" / str(outcomes[0].run_id))["notify"]
    assert told["sent"] is False and told["to"] == "http://127.0.0.1:9"
    assert "failed 3 times" in told["error"]

    # whatever breaks in the work after the run stays there: the outcomes are as they were
    async def broken(*_args: object) -> None:
        raise RuntimeError("the after-run work broke")

    monkeypatch.setattr(runner, "after_run", broken)
    outcomes = await run_fleet(fleet, ready, env=env, progress=LogProgress)
    assert [(o.state, o.verdict) for o in outcomes] == [
        ("done", "rows_need_attention"),
        ("done", "ok"),
    ]
    assert fleet_exit_code(outcomes) == EXIT_ROWS


async def test_validate_checks_each_portals_notify_secret_and_smtp_server(
    tmp_path: Path, two_portals: dict[str, Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv("BULK_ONBOARD_SMTP_HOST", raising=False)
    webhook = _playbook(tmp_path, "http://127.0.0.1:9/hook")
    mail = tmp_path / "mail.toml"
    mail.write_text('[notify]\nemail_to = "ops@example.com"\n')
    path = write_fleet(
        tmp_path,
        two_portals,
        own={"acme": f'playbook = "{webhook}"', "globex": f'playbook = "{mail}"'},
    )
    result = await in_thread("validate", str(path))
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    (acme,) = [line for line in lines if line.startswith("acme: ")]
    assert f"{SECRET_ENV} (notify.secret_env) is empty or unset" in acme
    (globex,) = [line for line in lines if line.startswith("globex: ")]
    assert "BULK_ONBOARD_SMTP_HOST" in globex
    assert result.output.endswith("2 portals, 2 with problems\n")

    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("BULK_ONBOARD_SMTP_HOST", "127.0.0.1")
    result = await in_thread("validate", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.endswith("2 portals, 0 with problems\n")
