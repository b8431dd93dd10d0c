"""The sandbox's webhook receiver, and clients that go away in the middle of a request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.helpers import FakeClock

from .conftest import Api

SECRET = "whsec-sandbox-test"


def signature(body: bytes, t: int, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


async def post_hook(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    body: bytes,
    headers: dict[str, str],
) -> tuple[int, dict[str, str], object]:
    async with session.post(f"{sandbox.url}/sandbox/webhook", data=body, headers=headers) as r:
        return r.status, dict(r.headers), await r.json()


@pytest.fixture
async def hooked() -> object:
    clock = FakeClock()
    async with start_sandbox(SandboxConfig(webhook_secret=SECRET, clock=clock)) as sb:
        yield sb, clock


async def test_a_signed_delivery_is_accepted_and_listed(
    hooked: tuple[Sandbox, FakeClock], session: aiohttp.ClientSession
) -> None:
    sandbox, clock = hooked
    body = json.dumps({"idempotency_key": "k1", "client_id": "C-1"}).encode()
    headers = {
        "X-BulkOnboard-Signature": signature(body, int(clock())),
        "Idempotency-Key": "k1",
        "X-BulkOnboard-Attempt": "1",
    }
    status, _, answer = await post_hook(session, sandbox, body, headers)
    assert (status, answer) == (200, {"received": 1, "duplicate": False})
    status, _, answer = await post_hook(session, sandbox, body, headers)
    assert (status, answer) == (200, {"received": 2, "duplicate": True})
    async with session.get(f"{sandbox.url}/sandbox/webhook") as reply:
        listing = await reply.json()
    assert (listing["count"], listing["accepted"], listing["uniqueKeys"]) == (2, 2, 1)
    first = listing["deliveries"][0]
    assert first["seq"] == 1 and first["idempotencyKey"] == "k1" and first["verified"] is True
    assert first["status"] == 200 and first["attempt"] == "1"
    assert first["body"] == {"idempotency_key": "k1", "client_id": "C-1"}
    assert first["time"].endswith("Z")


async def test_a_wrong_or_stale_signature_is_refused_with_401(
    hooked: tuple[Sandbox, FakeClock], session: aiohttp.ClientSession
) -> None:
    sandbox, clock = hooked
    body = b'{"idempotency_key": "k1"}'
    now = int(clock())
    refused = [
        signature(body, now, secret="another-secret"),
        signature(body + b" ", now),
        signature(body, now - 301),  # stale: a replay
        signature(body, now + 301),
        f"t={now}",
        "",
    ]
    for header in refused:
        status, _, answer = await post_hook(
            session, sandbox, body, {"X-BulkOnboard-Signature": header}
        )
        assert status == 401 and "missing, wrong or older" in str(answer), header
    status, _, _ = await post_hook(
        session, sandbox, body, {"X-BulkOnboard-Signature": signature(body, now - 299)}
    )
    assert status == 200
    async with session.get(f"{sandbox.url}/sandbox/webhook") as reply:
        listing = await reply.json()
    assert listing["count"] == len(refused) + 1 and listing["accepted"] == 1
    assert [d["verified"] for d in listing["deliveries"]] == [False] * len(refused) + [True]
    assert listing["deliveries"][0]["idempotencyKey"] == "k1"  # from the body


async def test_without_a_secret_every_delivery_is_refused(api: Api) -> None:
    body = b"{}"
    reply = await api.call(
        "POST",
        "/sandbox/webhook",
        data=body,
        token=None,
        headers={"X-BulkOnboard-Signature": signature(body, 1)},
    )
    assert reply.status == 401 and "no secret is set" in reply.body["error"]
    settings = await api.post("/sandbox/webhook/config", {"secret": SECRET}, token=None)
    assert settings.body["secretSet"] is True and SECRET not in settings.text


async def test_scripted_failures_count_down_then_recover(
    hooked: tuple[Sandbox, FakeClock], session: aiohttp.ClientSession
) -> None:
    sandbox, clock = hooked
    async with session.post(
        f"{sandbox.url}/sandbox/webhook/config",
        json={"fail_next": 2, "status": 429, "retryAfter": 7},
    ) as reply:
        assert await reply.json() == {
            "secretSet": True,
            "failNext": 2,
            "status": 429,
            "retryAfter": 7,
            "outage": False,
            "delayMs": 0.0,
        }
    body = b'{"idempotency_key": "k"}'
    headers = {"X-BulkOnboard-Signature": signature(body, int(clock()))}
    answers = [await post_hook(session, sandbox, body, headers) for _ in range(3)]
    assert [a[0] for a in answers] == [429, 429, 200]
    assert answers[0][1]["Retry-After"] == "7"


async def test_an_outage_lasts_until_it_is_switched_off(
    hooked: tuple[Sandbox, FakeClock], session: aiohttp.ClientSession
) -> None:
    sandbox, clock = hooked
    config = f"{sandbox.url}/sandbox/webhook/config"
    body = b"{}"
    headers = {"X-BulkOnboard-Signature": signature(body, int(clock()))}
    async with session.post(config, json={"outage": True, "status": 502}):
        pass
    assert [(await post_hook(session, sandbox, body, headers))[0] for _ in range(3)] == [502] * 3
    async with session.post(config, json={"outage": False, "clear": True}):
        pass
    assert (await post_hook(session, sandbox, body, headers))[0] == 200
    async with session.get(f"{sandbox.url}/sandbox/webhook") as reply:
        assert (await reply.json())["count"] == 1  # cleared before


@pytest.mark.parametrize(
    "settings",
    [
        {"secret": ""},
        {"secret": 5},
        {"failNext": -1},
        {"failNext": True},
        {"status": 200},
        {"status": "503"},
        {"outage": "yes"},
        {"colour": "red"},
        [1, 2],
    ],
)
async def test_wrong_settings_are_refused(api: Api, settings: object) -> None:
    reply = await api.post("/sandbox/webhook/config", settings, token=None)
    assert reply.status == 400 and reply.body["error"]


async def test_delete_and_reset_forget_deliveries_and_settings(
    hooked: tuple[Sandbox, FakeClock], session: aiohttp.ClientSession
) -> None:
    sandbox, clock = hooked
    body = b"{}"
    headers = {"X-BulkOnboard-Signature": signature(body, int(clock()))}
    await post_hook(session, sandbox, body, headers)
    async with session.delete(f"{sandbox.url}/sandbox/webhook") as reply:
        assert (await reply.json())["count"] == 0
    async with session.post(
        f"{sandbox.url}/sandbox/webhook/config", json={"secret": "other", "outage": True}
    ):
        pass
    await post_hook(session, sandbox, body, headers)
    async with session.post(f"{sandbox.url}/sandbox/reset"):
        pass
    async with session.get(f"{sandbox.url}/sandbox/webhook/config") as reply:
        assert (await reply.json())["outage"] is False
    assert (await post_hook(session, sandbox, body, headers))[0] == 200  # configured secret back
    async with session.get(f"{sandbox.url}/sandbox/webhook") as reply:
        assert (await reply.json())["count"] == 1


def test_an_empty_configured_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="webhook_secret must not be empty"):
        SandboxConfig(webhook_secret="")


async def _hang_up(sandbox: Sandbox, request_head: str) -> None:
    """Send a request's head and half its body, then close the connection (a killed client)."""
    host, port = sandbox.url.removeprefix("http://").rsplit(":", 1)
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request_head.encode() + b"Content-Length: 1000\r\n\r\n" + b'{"title": "Half')
    await writer.drain()
    await asyncio.sleep(0.05)  # the handler is waiting for the rest of the body
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize(
    ("path", "auth"), [("/api/2.0/files/rooms", True), ("/sandbox/webhook", False)]
)
async def test_a_client_going_away_mid_body_is_a_quiet_note(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, path: str, auth: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    head = f"POST {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
    if auth:
        head += f"Authorization: Bearer {sandbox.token}\r\n"
    await _hang_up(sandbox, head)
    for _ in range(200):
        if any("went away" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.01)
    notes = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.INFO
    assert notes[0].exc_info is None and "\n" not in notes[0].getMessage()
    assert f"POST {path}" in notes[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    if auth:
        assert sandbox.portal.stats.by_status == {"499": 1}
