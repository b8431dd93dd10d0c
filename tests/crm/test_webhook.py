"""The webhook sink over real HTTP against the sandbox's receiver: signing, retries with
backoff and jitter, Retry-After, permanent refusals, and no secret in any error or log."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.crm.payload import build_offboard_record, build_record, idempotency_key
from bulk_onboard.crm.signing import verify
from bulk_onboard.crm.webhook import WebhookSink, classify, origin
from bulk_onboard.errors import CrmError
from tests.helpers import serving

from .conftest import CLIENT, SECRET, Receiver, Sleeps

RECORD = build_record(CLIENT, run_id="run-1", portal_url="https://portal.example", at=1.7e9)


def sink(url: str, sleeps: Sleeps, *, secret: str = SECRET, **kw: Any) -> WebhookSink:
    settings: dict[str, Any] = {"timeout": 5.0, "max_attempts": 5, "random": lambda: 0.5}
    settings.update(kw)
    return WebhookSink(
        url,
        secret.encode(),
        sleep=sleeps,
        clock=time.time,
        **settings,
    )


async def send(hook: WebhookSink, record: dict[str, Any] = RECORD) -> Any:
    await hook.open()
    try:
        return await hook.send(record)
    finally:
        await hook.close()


async def test_a_record_arrives_signed_with_its_idempotency_key(
    receiver: Receiver, sleeps: Sleeps
) -> None:
    receipt = await send(sink(receiver.url, sleeps))
    assert (receipt.status, receipt.attempts) == (200, 1) and sleeps.waits == []
    listing = await receiver.listing()
    assert listing["count"] == 1
    delivery = listing["deliveries"][0]
    assert delivery["verified"] is True
    assert delivery["idempotencyKey"] == RECORD["idempotency_key"]
    assert delivery["body"] == RECORD and delivery["attempt"] == "1"


async def test_a_crm_failing_twice_then_recovering_gets_the_record_once(
    receiver: Receiver, sleeps: Sleeps
) -> None:
    await receiver.script(fail_next=2, status=503)
    receipt = await send(sink(receiver.url, sleeps))
    assert receipt.attempts == 3
    assert sleeps.waits == [0.25, 0.5]  # full jitter at 0.5 of 0.5 s, then of 1 s
    listing = await receiver.listing()
    assert [d["status"] for d in listing["deliveries"]] == [503, 503, 200]
    assert [d["attempt"] for d in listing["deliveries"]] == ["1", "2", "3"]
    assert all(d["verified"] for d in listing["deliveries"])  # each attempt signed afresh
    assert (listing["accepted"], listing["uniqueKeys"]) == (1, 1)


async def test_backoff_grows_exponentially_up_to_its_ceiling(
    receiver: Receiver, sleeps: Sleeps
) -> None:
    await receiver.script(outage=True, status=500)
    hook = sink(
        receiver.url,
        sleeps,
        max_attempts=6,
        random=lambda: 1.0,
        backoff=RetryPolicy(base_delay=1.0, max_delay=5.0),
    )
    with pytest.raises(CrmError) as raised:
        await send(hook)
    assert sleeps.waits == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert raised.value.transient is True
    assert "failed 6 times; last: HTTP 500" in str(raised.value)
    assert (await receiver.listing())["count"] == 6  # bounded by max_attempts


async def test_a_429_waits_what_retry_after_says(receiver: Receiver, sleeps: Sleeps) -> None:
    await receiver.script(fail_next=1, status=429, retryAfter=7)
    receipt = await send(sink(receiver.url, sleeps))
    assert receipt.attempts == 2 and sleeps.waits == [7.0]


async def test_a_retry_after_beyond_the_limit_is_left_for_a_later_retry(
    receiver: Receiver, sleeps: Sleeps
) -> None:
    await receiver.script(fail_next=1, status=429, retryAfter=3600)
    with pytest.raises(CrmError, match="asked to wait 3600 s") as raised:
        await send(sink(receiver.url, sleeps))
    assert raised.value.transient is True and sleeps.waits == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_a_4xx_is_permanent_and_not_retried(
    receiver: Receiver, sleeps: Sleeps, status: int
) -> None:
    await receiver.script(fail_next=1, status=status)
    with pytest.raises(CrmError, match=f"refused the record: HTTP {status}") as raised:
        await send(sink(receiver.url, sleeps))
    assert raised.value.transient is False and sleeps.waits == []
    assert (await receiver.listing())["count"] == 1


async def test_408_is_retried(receiver: Receiver, sleeps: Sleeps) -> None:
    await receiver.script(fail_next=1, status=408)
    assert (await send(sink(receiver.url, sleeps))).attempts == 2


async def test_a_redirect_is_not_followed(receiver: Receiver, sleeps: Sleeps) -> None:
    await receiver.script(fail_next=1, status=302)
    with pytest.raises(CrmError, match="redirect, which is not followed") as raised:
        await send(sink(receiver.url, sleeps))
    assert raised.value.transient is False


async def test_a_wrong_secret_is_refused_by_the_receiver(
    receiver: Receiver, sleeps: Sleeps
) -> None:
    wrong = "not-the-receivers-secret"
    with pytest.raises(CrmError, match="HTTP 401") as raised:
        await send(sink(receiver.url, sleeps, secret=wrong))
    assert raised.value.transient is False and wrong not in str(raised.value)
    assert (await receiver.listing())["deliveries"][0]["verified"] is False


async def test_a_timeout_is_transient(receiver: Receiver, sleeps: Sleeps) -> None:
    await receiver.script(delayMs=400)
    with pytest.raises(CrmError, match=r"no answer within 0.05 s") as raised:
        await send(sink(receiver.url, sleeps, timeout=0.05, max_attempts=2))
    assert raised.value.transient is True and len(sleeps.waits) == 1


async def test_a_refused_connection_is_transient_and_retried(sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CrmError, match="ClientConnectorError") as raised:
        await send(sink(f"http://127.0.0.1:{port}/hook", sleeps, max_attempts=3))
    assert raised.value.transient is True and len(sleeps.waits) == 2


async def test_neither_errors_nor_logs_hold_the_secret_or_the_hook_path(
    receiver: Receiver, sleeps: Sleeps
) -> None:
    await receiver.script(outage=True, status=500)
    url = receiver.url + "?hook=zap-credential-4711"
    with capture_logs() as logs, pytest.raises(CrmError) as raised:
        await send(sink(url, sleeps, max_attempts=3))
    text = str(raised.value) + repr(logs)
    assert [e["event"] for e in logs] == ["crm_retrying", "crm_retrying"]
    assert logs[0]["attempt"] == 1 and logs[0]["reason"].startswith("HTTP 500")
    assert SECRET not in text and "zap-credential-4711" not in text
    assert origin(url) in str(raised.value) and "/sandbox/webhook" not in str(raised.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (408, "transient"),
        (429, "transient"),
        (500, "transient"),
        (503, "transient"),
        (301, "permanent"),
        (400, "permanent"),
        (409, "permanent"),
    ],
)
def test_classify(status: int, kind: str) -> None:
    assert classify(status).kind == kind


def test_classify_reads_retry_after_of_a_429_only() -> None:
    assert classify(429, "12").retry_after == 12.0
    assert classify(503, "12").retry_after is None


def test_origin_drops_credentials_path_and_query() -> None:
    assert (
        origin("https://user:pw@hooks.example.com/catch/1/abc?x=1") == "https://hooks.example.com"
    )
    assert origin("http://[::1]:8080/hook") == "http://[::1]:8080"


async def test_the_request_carries_the_documented_headers(sleeps: Sleeps) -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    offboarded = build_offboard_record(
        "C-1", 7, "Client - Acme", run_id="r", portal_url="https://p.example", at=0
    )
    async with serving(hook, "/hook", "POST") as url:
        receipt = await send(sink(f"{url}/hook", sleeps))
        await send(sink(f"{url}/hook", sleeps), offboarded)
    assert (receipt.status, receipt.attempts) == (204, 1)
    headers, body = seen[0]
    assert json.loads(body) == RECORD
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Idempotency-Key"] == RECORD["idempotency_key"]
    assert headers["X-BulkOnboard-Event"] == "client_onboarded"
    assert headers["User-Agent"].startswith("bulk-onboard/")
    assert verify(SECRET.encode(), headers["X-BulkOnboard-Signature"], body, now=time.time())
    # undo's record names its own event, with a key of its own
    assert seen[1][0]["X-BulkOnboard-Event"] == "client_offboarded"
    assert seen[1][0]["Idempotency-Key"] == offboarded["idempotency_key"]
    assert offboarded["onboarding_key"] == idempotency_key("C-1", 7, "https://p.example")
    assert offboarded["idempotency_key"] != offboarded["onboarding_key"]
