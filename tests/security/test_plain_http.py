"""Plain http:// to anything but this machine is refused before a single byte leaves it:
exit 2, a sentence saying to use https://, and no name lookup or connection attempted."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from tests.helpers import SAMPLES

TOKEN = "sk-" + "5a" * 20

REMOTE = [
    "http://docspace.example.com",
    "HTTP://Portal.Example.COM:8080/",
    "http://10.0.0.5:8080",
    "http://192.168.1.20",
    "http://[2001:db8::1]/",
    "http://0.0.0.0:8080",
    "http://127.0.0.1.nip.io",  # looks like loopback, resolves anywhere
    "http://localhost.evil.example",
    "http://evil.example/api/2.0",
    "http://127.0.0.1@evil.example",  # user info naming loopback, host elsewhere
    "http://127.0.0.1:443@evil.example",
]


class NetworkGuard:
    """Records every name lookup and connection, and lets none of them happen."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def lookup(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        self.attempts.append(f"getaddrinfo {host}")
        raise OSError("network use is not allowed in this test")

    def connect(self, sock: socket.socket, address: Any) -> Any:
        self.attempts.append(f"connect {address}")
        raise OSError("network use is not allowed in this test")


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    watcher = NetworkGuard()
    monkeypatch.setattr(socket, "getaddrinfo", watcher.lookup)
    monkeypatch.setattr(socket.socket, "connect", watcher.connect)
    monkeypatch.setattr(socket.socket, "connect_ex", watcher.connect)
    yield watcher


async def test_the_guard_sees_what_an_http_client_would_send(guard: NetworkGuard) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            await session.get("http://docspace.example.com/api/2.0/people/@self")
    assert guard.attempts  # so an empty record below means nothing was tried


@pytest.mark.parametrize("url", REMOTE)
@pytest.mark.parametrize("given", ["option", "environment"])
def test_plain_http_to_a_remote_portal_is_refused_and_nothing_is_sent(
    guard: NetworkGuard, url: str, given: str
) -> None:
    args = ["run", str(SAMPLES / "clients.csv"), "--no-progress"]
    env = {"DOCSPACE_TOKEN": TOKEN}
    if given == "option":
        args += ["--portal", url]
    else:
        env["DOCSPACE_URL"] = url
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert len(result.output.strip().splitlines()) == 1, result.output
    # Either way the sentence says what to do instead.
    assert "https://" in result.output or "user name" in result.output, result.output
    assert TOKEN not in result.output
    assert guard.attempts == []
