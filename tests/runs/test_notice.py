"""The notification's parts: the portal's memory of failing rows, the playbook's [notify]."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.errors import ConfigError
from bulk_onboard.playbook.reader import Notify, load_playbook
from bulk_onboard.runs.notice import notify_after_run, wanted
from bulk_onboard.runs.notice_mail import Smtp, mail_message, smtp_from_env
from bulk_onboard.runs.portal_memory import FAILING, note_failing_rows
from bulk_onboard.state.store import FolderStore


def test_a_row_failing_again_keeps_the_date_its_series_began(tmp_path: Path) -> None:
    assert note_failing_rows(FolderStore(tmp_path), ["a", "b"], "night-1") == {}
    assert note_failing_rows(FolderStore(tmp_path), ["a"], "night-2", unfinished=("b",)) == {
        "a": "night-1"
    }
    # b was not finished on night 2: its date stands; a succeeded on night 3: forgotten
    assert note_failing_rows(FolderStore(tmp_path), ["b"], "night-3") == {"b": "night-1"}
    assert note_failing_rows(FolderStore(tmp_path), ["a", "b"], "night-4") == {"b": "night-1"}
    (tmp_path / FAILING).write_text("not json")
    assert note_failing_rows(FolderStore(tmp_path), ["a"], "night-5") == {}


def _book(tmp_path: Path, text: str) -> Notify:
    path = tmp_path / "playbook.toml"
    path.write_text(text, encoding="utf-8")
    return load_playbook(path).notify


def test_the_notify_section_is_checked(tmp_path: Path) -> None:
    assert _book(tmp_path, "") == Notify() and not Notify().configured
    good = _book(
        tmp_path, '[notify]\nwebhook_url = "https://x.example/h"\nsecret_env = "NOTIFY_SECRET"\n'
    )
    assert good == Notify("https://x.example/h", "NOTIFY_SECRET", "failures")
    assert wanted(good, "rows_need_attention") and not wanted(good, "ok")
    assert wanted(Notify("https://x.example/h", "S", "always"), "ok")
    for text, said in [
        ('webhook_url = "https://x.example/h"', "notify.secret_env"),
        ('webhook_url = "https://x.example/h"\nsecret_env = "the secret"', "notify.secret_env"),
        ('webhook_url = "ftp://x"\nsecret_env = "S"', "not a web address"),
        ('webhook_url = "http://x.example/h"\nsecret_env = "S"', "plain http://"),
        ('on = "sometimes"', 'notify.on must be "failures" or "always"'),
        ("email = 1", 'unknown key "notify.email"'),
    ]:
        with pytest.raises(ConfigError, match=said):
            _book(tmp_path, f"[notify]\n{text}\n")


def test_the_runs_section_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text("[runs]\nkeep = 3\n")
    assert load_playbook(path).keep_runs == 3
    path.write_text("[runs]\nkeep = 0\n")
    with pytest.raises(ConfigError, match=r"runs\.keep"):
        load_playbook(path)


def test_the_smtp_server_comes_from_the_environment() -> None:
    env = {"BULK_ONBOARD_SMTP_HOST": "smtp.example.com"}
    assert smtp_from_env(env) == Smtp("smtp.example.com", 587, "starttls", None, None)
    tls = smtp_from_env({**env, "BULK_ONBOARD_SMTP_SECURITY": "TLS"})
    assert (tls.port, tls.security) == (465, "tls")
    login = {**env, "BULK_ONBOARD_SMTP_USER": "u", "BULK_ONBOARD_SMTP_PASSWORD": "p"}
    assert smtp_from_env(login).user == "u"
    for wrong, said in [
        ({}, "BULK_ONBOARD_SMTP_HOST is not"),
        ({**env, "BULK_ONBOARD_SMTP_SECURITY": "ssl"}, "starttls, tls or none"),
        ({**env, "BULK_ONBOARD_SMTP_SECURITY": "none"}, "only accepted for localhost"),
        ({**env, "BULK_ONBOARD_SMTP_PORT": "x"}, "a port number"),
        ({**env, "BULK_ONBOARD_SMTP_USER": "u"}, "both"),
    ]:
        with pytest.raises(ConfigError, match=said):
            smtp_from_env(wrong)


def test_the_mail_says_the_run_its_failed_rows_and_the_report() -> None:
    body = {
        "run_id": "r1",
        "verdict": "ok",
        "exit_code": 0,
        "portal": "https://p.example",
        "rows": 0,
        "statuses": {},
        "failed_rows": [],
        "report": {"xlsx": "reports/r1/report.xlsx", "html": "reports/r1/report.html"},
    }
    mail = mail_message(body, ("ops@example.com",), "bulk-onboard@localhost")
    assert mail["Subject"] == "bulk-onboard run r1: ok (no rows)"
    text = mail.get_content()
    assert "nothing to do" in text and "need attention" not in text
    assert "report: reports/r1/report.xlsx" in text


async def test_a_state_folder_that_cannot_be_written_does_not_stop_the_notification(
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.json"
    summary.write_text('{"run_id": "r1", "started": "t", "verdict": "ok"}')
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the portal's folder would be
    assert await notify_after_run(Notify(), summary, [], FolderStore(blocked / "portal"), {}) == []
