"""Onboarded clients reach the CRM once; an outage shows in the report and `retry` fixes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulk_onboard.cli.output import exit_code
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import RunSummary
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.runs.report_reader import plan_retry, read_report
from bulk_onboard.sandbox import Sandbox
from tests.helpers import SAMPLES, admin, settings_for

pytestmark = pytest.mark.e2e  # a whole run against the sandbox

SECRET = "whsec-test-0123456789"


def _playbook(tmp_path: Path, sb: Sandbox) -> Path:
    path = tmp_path / "playbook.toml"
    path.write_text(
        "[crm]\n"
        f'webhook_url = "{sb.url}/sandbox/webhook"\n'
        'secret_env = "CRM_WEBHOOK_SECRET"\n'
        "max_attempts = 2\n"
        "timeout_seconds = 5\n"
        'jsonl_path = "crm.jsonl"\n'
    )
    return path


async def _run(sb: Sandbox, tmp_path: Path, playbook: Path) -> RunSummary:
    intake = load_intake([SAMPLES / "onboarding.xlsx"], load_playbook(playbook))
    return await modes.start(
        settings_for(sb, tmp_path / "reports"),
        intake,
        progress=Progress(),
        stop=Stop(),
        env={"CRM_WEBHOOK_SECRET": SECRET},
        playbook_path=playbook,
    )


async def test_every_client_is_announced_once_signed_and_not_again_at_night(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"secret": SECRET})
    playbook = _playbook(tmp_path, sandbox)
    outcome = await _run(sandbox, tmp_path, playbook)
    assert exit_code(outcome) == 0
    hooks = await admin(sandbox, "GET", "/sandbox/webhook")
    assert hooks["accepted"] == hooks["uniqueKeys"] == 25
    assert all(d["verified"] for d in hooks["deliveries"])
    record = (
        json.loads(hooks["deliveries"][0]["body"])
        if isinstance(hooks["deliveries"][0]["body"], str)
        else hooks["deliveries"][0]["body"]
    )
    assert record["room_id"] and record["link_url"].startswith(sandbox.url)
    lines = (tmp_path / "crm.jsonl").read_text().splitlines()
    assert len(lines) == 25 and len({json.loads(line)["idempotency_key"] for line in lines}) == 25

    again = await _run(sandbox, tmp_path, playbook)  # the nightly rerun
    assert exit_code(again) == 0
    assert (await admin(sandbox, "GET", "/sandbox/webhook"))["count"] == 25
    assert len((tmp_path / "crm.jsonl").read_text().splitlines()) == 25


async def test_a_crm_outage_fails_only_the_crm_step_and_retry_redelivers_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"secret": SECRET, "outage": True})
    playbook = _playbook(tmp_path, sandbox)
    outcome = await _run(sandbox, tmp_path, playbook)
    assert exit_code(outcome) == 1
    results = outcome.results
    clients = [r for r in results if r.kind == "client"]
    assert {(r.status.value, r.failed_step) for r in clients} == {("failed", "crm")}
    assert all(r.outputs["room"]["id"] for r in clients)  # the rooms were made
    assert all(r.status.value == "created" for r in results if r.kind == "user")
    audit = await admin(sandbox, "GET", "/sandbox/audit")
    assert audit["clean"] and audit["counts"]["rooms"] == 26 and audit["counts"]["links"] == 25

    await admin(sandbox, "POST", "/sandbox/webhook/config", {"outage": False})
    await admin(sandbox, "DELETE", "/sandbox/requests")
    report = outcome.run_dir / "report.csv"  # type: ignore[attr-defined]
    retry = plan_retry(report, read_report(report), load_playbook(playbook))
    assert len(retry.intake.plans) == 25
    again = await modes.retry(
        settings_for(sandbox, tmp_path / "reports"),
        report,
        retry,
        progress=Progress(),
        stop=Stop(),
        env={"CRM_WEBHOOK_SECRET": SECRET},
        playbook_path=playbook,
    )
    assert exit_code(again) == 0
    requests = await admin(sandbox, "GET", "/sandbox/requests")
    assert [r for r in requests["byRoute"] if not r.startswith("GET")] == []  # only the CRM step
    hooks = await admin(sandbox, "GET", "/sandbox/webhook")
    assert hooks["accepted"] == hooks["uniqueKeys"] == 25
    assert len((tmp_path / "crm.jsonl").read_text().splitlines()) == 25
