"""The playbook's [notify]: one signed message after a night with failed rows (with
`failing_since` from the second failing night on), none after a clean night, and a
notification that fails never changes the run's outcome. Received by the sandbox's webhook
receiver, which checks every signature."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.runs.history import past_runs
from bulk_onboard.sandbox import Sandbox
from tests.helpers import admin, invoke
from tests.sheets import nightly_sheet

pytestmark = pytest.mark.e2e  # whole runs against the sandbox

SECRET = "whsec-notify-test"


def _sheet(tmp_path: Path, failing: bool) -> str:
    return str(nightly_sheet(tmp_path, failing))


def _playbook(tmp_path: Path, sb: Sandbox, on: str = "failures") -> str:
    path = tmp_path / f"notify-{on}.toml"
    path.write_text(
        f'[notify]\nwebhook_url = "{sb.url}/sandbox/webhook"\nsecret_env = "NOTIFY_SECRET"\n'
        f'on = "{on}"\n',
        encoding="utf-8",
    )
    return str(path)


async def _night(sb: Sandbox, tmp_path: Path, sheet: str, playbook: str) -> tuple[int, str]:
    result = await asyncio.to_thread(
        invoke, sb, tmp_path / "reports", "run", sheet, "--playbook", playbook
    )
    return result.exit_code, result.output


async def _received(sb: Sandbox) -> list[dict[str, Any]]:
    return list((await admin(sb, "GET", "/sandbox/webhook"))["deliveries"])


async def test_a_row_failing_night_after_night_is_told_with_failing_since(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SECRET", SECRET)
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"secret": SECRET})
    failing, playbook = _sheet(tmp_path, True), _playbook(tmp_path, sandbox)

    code, output = await _night(sandbox, tmp_path, failing, playbook)
    assert code == 1, output
    (first,) = await _received(sandbox)
    assert first["verified"] and first["status"] == 200
    night1 = past_runs(tmp_path / "reports")[-1]
    body = first["body"]
    assert (body["event"], body["run_id"], body["verdict"]) == (
        "run_finished",
        night1.run_id,
        "rows_need_attention",
    )
    assert body["exit_code"] == 1 and body["statuses"]["failed"] == 1
    (row,) = body["failed_rows"]
    assert row["key"] == "client:C-2" and row["status"] == "failed"
    assert "nobody@northwind.example" in row["error"] and "failing_since" not in row
    assert body["report"]["xlsx"] == str((night1.path / "report.xlsx").absolute())
    summary = json.loads((night1.path / "summary.json").read_text())
    assert summary["notify"] == [
        {"channel": "webhook", "sent": True, "to": sandbox.url, "status": 200, "attempts": 1}
    ]
    assert summary["exit_code"] == 1

    code, output = await _night(sandbox, tmp_path, failing, playbook)  # the second night
    assert code == 1, output
    second = (await _received(sandbox))[1]
    assert second["verified"] and second["body"]["run_id"] != night1.run_id
    (row,) = second["body"]["failed_rows"]
    assert row["key"] == "client:C-2" and row["failing_since"] == night1.started

    # the export fixed: a clean night says nothing (on = "failures")
    code, output = await _night(sandbox, tmp_path, _sheet(tmp_path, False), playbook)
    assert code == 0, output
    assert len(await _received(sandbox)) == 2
    assert "notify" not in json.loads(
        (past_runs(tmp_path / "reports")[-1].path / "summary.json").read_text()
    )

    # and the row failing again later starts a new series: no failing_since
    code, output = await _night(sandbox, tmp_path, failing, playbook)
    assert code == 1, output
    (row,) = (await _received(sandbox))[2]["body"]["failed_rows"]
    assert "failing_since" not in row


async def test_on_always_tells_a_clean_run_and_a_failed_notification_keeps_the_outcome(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SECRET", SECRET)
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"secret": SECRET})
    clean, always = _sheet(tmp_path, False), _playbook(tmp_path, sandbox, "always")
    code, output = await _night(sandbox, tmp_path, clean, always)
    assert code == 0, output
    (told,) = await _received(sandbox)
    assert (
        told["verified"] and told["body"]["verdict"] == "ok" and told["body"]["failed_rows"] == []
    )

    # the receiver refuses: the run still ends 0, and says and keeps why the message failed
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"outage": True, "status": 400})
    code, output = await _night(sandbox, tmp_path, clean, always)
    assert code == 0, output
    assert "warning: the notification to http://127.0.0.1:" in output and "HTTP 400" in output
    summary = json.loads((past_runs(tmp_path / "reports")[-1].path / "summary.json").read_text())
    (told,) = summary["notify"]
    assert told["sent"] is False and "HTTP 400" in told["error"]
    assert summary["exit_code"] == 0


async def test_a_notify_webhook_without_its_secret_stops_before_anything_is_sent(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SECRET", raising=False)
    code, output = await _night(
        sandbox, tmp_path, _sheet(tmp_path, True), _playbook(tmp_path, sandbox)
    )
    assert code == 2, output
    assert "NOTIFY_SECRET" in output and "notify.secret_env" in output
    assert not (tmp_path / "reports").exists() or past_runs(tmp_path / "reports") == []


class Inbox:
    """An aiosmtpd handler keeping what it received."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = f"Subject: {mail['Subject']}\n{mail.get_content()}"  # type: ignore[attr-defined]
        self.mails.append((list(envelope.rcpt_tos), text))
        return "250 OK"


async def test_the_message_is_mailed_through_smtp(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port: the controller checks it by connecting
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        monkeypatch.setenv("BULK_ONBOARD_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BULK_ONBOARD_SMTP_PORT", str(port))
        monkeypatch.setenv("BULK_ONBOARD_SMTP_SECURITY", "none")
        playbook = tmp_path / "mail.toml"
        playbook.write_text('[notify]\nemail_to = ["ops@example.com", "it@example.com"]\n')
        failing = _sheet(tmp_path, True)
        for _ in range(2):
            code, output = await _night(sandbox, tmp_path, failing, str(playbook))
            assert code == 1, output
    finally:
        server.stop()
    first, second = inbox.mails
    assert first[0] == ["ops@example.com", "it@example.com"]
    night1, night2 = past_runs(tmp_path / "reports")
    assert f"Subject: bulk-onboard run {night2.run_id}: rows_need_attention" in second[1]
    assert "rows that need attention (1):" in second[1] and "client:C-2  failed at " in second[1]
    assert f"(failing since {night1.started})" in second[1]
    assert "failing since" not in first[1]
    assert f"report: {night2.path / 'report.xlsx'}" in second[1]
    summary = json.loads((night2.path / "summary.json").read_text())
    assert summary["notify"][0]["channel"] == "email" and summary["notify"][0]["sent"] is True

    # the server gone: the run's outcome stands, the failure is said and kept
    code, output = await _night(sandbox, tmp_path, failing, str(playbook))
    assert code == 1, output
    assert "warning: the notification to smtp://127.0.0.1:" in output
    summary = json.loads((past_runs(tmp_path / "reports")[-1].path / "summary.json").read_text())
    assert summary["notify"][0]["sent"] is False and summary["exit_code"] == 1


async def test_e_mail_needs_its_smtp_server_in_the_environment(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BULK_ONBOARD_SMTP_HOST", raising=False)
    playbook = tmp_path / "mail.toml"
    playbook.write_text('[notify]\nemail_to = "ops@example.com"\n')
    code, output = await _night(sandbox, tmp_path, _sheet(tmp_path, True), str(playbook))
    assert code == 2, output
    assert "BULK_ONBOARD_SMTP_HOST" in output
