"""The playbook's [crm] checks that protect the webhook: https, or http to this computer only,
and a named secret variable whenever there is a webhook."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.errors import ConfigError
from bulk_onboard.playbook.reader import load_playbook


def playbook(tmp_path: Path, crm: str) -> Path:
    path = tmp_path / "playbook.toml"
    path.write_text("[crm]\n" + crm, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.com/hooks/onboarded",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9000/hook",
        "http://127.8.9.10/hook",
    ],
)
def test_https_or_loopback_http_is_accepted(tmp_path: Path, url: str) -> None:
    book = load_playbook(playbook(tmp_path, f'webhook_url = "{url}"\nsecret_env = "CRM_SECRET"'))
    assert book.crm.webhook_url == url and book.crm.secret_env == "CRM_SECRET"


@pytest.mark.parametrize(
    "url", ["http://crm.example.com/hook", "http://10.0.0.5/hook", "http://localhost.evil.com/"]
)
def test_plain_http_to_another_computer_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_playbook(playbook(tmp_path, f'webhook_url = "{url}"\nsecret_env = "CRM_SECRET"'))
    message = str(raised.value)
    assert message.startswith(f'playbook.toml: crm.webhook_url "{url}" uses plain http://')
    assert "use https://" in message


def test_a_webhook_needs_a_secret_variable(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"playbook.toml: crm.webhook_url is set but crm.secret_env"
    ):
        load_playbook(playbook(tmp_path, 'webhook_url = "https://crm.example.com/hook"'))


def test_a_bad_port_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="has an invalid port"):
        load_playbook(
            playbook(tmp_path, 'webhook_url = "https://crm.example.com:99999/"\nsecret_env = "S"')
        )
