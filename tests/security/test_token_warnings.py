"""A token that does not look like a DocSpace API key, and a token file others can read, get
a warning (never the token itself); a private file with an API key gets none."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard import config
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.commands import main
from tests.helpers import SAMPLES


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "RetryPolicy", lambda: RetryPolicy.immediate(max_attempts=1))


def _run(tmp_path: Path, token_file: Path) -> tuple[int, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(SAMPLES / "clients.csv"),
            "--portal",
            f"http://127.0.0.1:{port}",
            "--token-file",
            str(token_file),
            "--report-dir",
            str(tmp_path / "reports"),
            "--no-progress",
        ],
        env={"DOCSPACE_TOKEN": None},
    )
    return result.exit_code, result.stderr


async def test_a_readable_token_file_and_an_odd_token_are_warned_about(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJIUzI1NiJ9.session\n")
    token.chmod(0o644)
    code, err = await asyncio.to_thread(_run, tmp_path, token)
    assert code == 6
    assert f"warning: the token file '{token}' can be read by other users (mode 644); " in err
    assert f"chmod 600 {token}" in err
    assert "does not look like a DocSpace API key (those start with 'sk-'" in err
    assert "eyJhbGciOiJIUzI1NiJ9" not in err


async def test_a_private_api_key_file_gets_no_warning(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("sk-" + "0a" * 20 + "\n")
    token.chmod(0o600)
    code, err = await asyncio.to_thread(_run, tmp_path, token)
    assert code == 6
    assert "warning:" not in err
