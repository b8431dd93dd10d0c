"""Retries, pauses and limits of DocSpaceClient, on mocked HTTP with a fake clock."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.api.client import NEW_ITEM_FIELDS, NEW_PERSON_FIELDS
from bulk_onboard.errors import (
    AmbiguousWrite,
    BudgetExhausted,
    FatalError,
    PermanentError,
    RateLimited,
    TransientError,
)

from .conftest import API, TOKEN, FakeTime, LogCapture, make_settings

ROOM = f"{API}/files/rooms/7"
FOLDER = f"{API}/files/folder/7?fields={NEW_ITEM_FIELDS}"
OK_ROOM = {"response": {"id": 7}, "status": 0}
OK_FOLDER = {"response": {"id": 8}, "status": 0}
BOOM = {"error": {"message": "Object reference not set"}, "status": 1, "statusCode": 500}


def client_for(fake: FakeTime, **changes: Any) -> DocSpaceClient:
    return DocSpaceClient(make_settings(fake, **changes), clock=fake.clock)


async def test_get_is_retried_on_5xx_with_backoff_and_logged(
    mock: aioresponses, fake_time: FakeTime, log_capture: LogCapture
) -> None:
    mock.get(ROOM, status=503, body=b"")
    mock.get(ROOM, status=502, payload={"error": {"message": "bad gateway"}})
    mock.get(ROOM, payload=OK_ROOM)
    async with client_for(fake_time) as client:
        assert await client.get_room(7) == {"id": 7}
        assert client.stats.attempts == 3
        assert client.stats.retries == 2
    # full jitter with random() = 0.5: 0.5 * 0.5, then 0.5 * 1.0
    assert fake_time.sleeps == [0.25, 0.5]
    retrying = log_capture.events("request_retrying")
    assert [(e["method"], e["path"], e["attempt"], e["delay"], e["reason"]) for e in retrying] == [
        ("GET", "/api/2.0/files/rooms/7", 1, 0.25, "HTTP 503"),
        ("GET", "/api/2.0/files/rooms/7", 2, 0.5, "HTTP 502"),
    ]


async def test_get_gives_up_after_max_attempts(
    mock: aioresponses, fake_time: FakeTime, log_capture: LogCapture
) -> None:
    mock.get(ROOM, status=503, repeat=True)
    async with client_for(fake_time) as client:
        with pytest.raises(TransientError) as info:
            await client.get_room(7)
        assert client.stats.attempts == 4
        assert client.stats.failures == {"TransientError": 1}
    assert info.value.status == 503
    (failed,) = log_capture.events("request_failed")
    assert failed["attempts"] == 4


async def test_get_gives_up_when_the_time_budget_would_be_exceeded(
    mock: aioresponses, fake_time: FakeTime
) -> None:
    from bulk_onboard.backoff import RetryPolicy

    policy = RetryPolicy(
        max_attempts=10,
        base_delay=4.0,
        max_total_seconds=1.0,
        sleep=fake_time.sleep,
        random=lambda: 0.5,
    )
    mock.get(ROOM, status=504, repeat=True)
    async with client_for(fake_time, retry=policy) as client:
        with pytest.raises(TransientError):
            await client.get_room(7)
        assert client.stats.attempts == 1  # the first backoff (2 s) would pass the 1 s budget
    assert fake_time.sleeps == []


async def test_get_is_retried_after_a_dropped_connection(
    mock: aioresponses, fake_time: FakeTime
) -> None:
    mock.get(ROOM, exception=aiohttp.ServerDisconnectedError())
    mock.get(ROOM, exception=TimeoutError())
    mock.get(ROOM, payload=OK_ROOM)
    async with client_for(fake_time) as client:
        assert await client.get_room(7) == {"id": 7}
        assert client.stats.retries == 2


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 500, "payload": BOOM},
        {"status": 503, "body": b""},
        {"status": 504, "body": b"<html>Gateway Timeout</html>"},
        {"exception": aiohttp.ServerDisconnectedError()},
        {"exception": TimeoutError()},
        {"exception": aiohttp.ClientPayloadError("truncated")},
    ],
    ids=["500", "503", "504", "disconnect", "timeout", "payload"],
)
async def test_ambiguous_write_is_raised_not_retried(
    mock: aioresponses, fake_time: FakeTime, log_capture: LogCapture, failure: dict[str, Any]
) -> None:
    mock.post(FOLDER, **failure)
    mock.post(FOLDER, payload=OK_FOLDER)  # must NOT be reached
    async with client_for(fake_time) as client:
        with pytest.raises(AmbiguousWrite) as info:
            await client.create_folder(7, "Contracts")
        assert client.stats.attempts == 1
        assert client.stats.ambiguous_writes == 1
    assert info.value.method == "POST"
    assert info.value.path == "/api/2.0/files/folder/7"
    assert "may or may not" in info.value.message
    assert log_capture.events("request_retrying") == []


async def test_write_is_retried_when_the_connection_could_not_be_opened(
    mock: aioresponses, fake_time: FakeTime
) -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("portal.test", 443, True, True, None, None, None),
        ConnectionRefusedError(111, "Connection refused"),
    )
    mock.post(FOLDER, exception=refused)
    mock.post(FOLDER, payload=OK_FOLDER)
    async with client_for(fake_time) as client:
        assert await client.create_folder(7, "Contracts") == {"id": 8}
        assert client.stats.attempts == 2


async def test_429_on_a_write_waits_retry_after_then_retries(
    mock: aioresponses, fake_time: FakeTime, log_capture: LogCapture
) -> None:
    mock.post(FOLDER, status=429, headers={"Retry-After": "7"}, body=b"")
    mock.post(FOLDER, payload=OK_FOLDER)
    async with client_for(fake_time) as client:
        assert await client.create_folder(7, "Contracts") == {"id": 8}
        assert client.stats.rate_limited == 1
        assert client.stats.pauses == 1
        assert client.stats.paused_seconds == 8.0
    assert fake_time.sleeps == [8.0]  # Retry-After is truncated to whole seconds: +1 s
    assert len(log_capture.events("run_paused")) == 1
    assert log_capture.events("rate_limited")[0]["retry_after"] == 7.0
    assert log_capture.events("request_retrying")[0]["reason"] == "rate_limited"


async def test_429_without_headers_lowers_the_cap_and_backs_off_alone(
    mock: aioresponses, fake_time: FakeTime, log_capture: LogCapture
) -> None:
    """No headers: the concurrency limiter (docspace-api.md 7). The reads in flight are
    halved for each refusal of a request sent after the last decrease; only the refused
    request waits (its own backoff, not the run's), nobody is paused."""
    mock.get(ROOM, status=429, repeat=3)
    mock.get(ROOM, payload=OK_ROOM)
    async with client_for(fake_time) as client:
        assert await client.get_room(7) == {"id": 7}
        limits = client.stats.as_dict()["limits"]
        assert client.stats.pauses == 0
        assert client.stats.concurrency_refusals == 3
    # jittered ceilings 0.5, 1.0, 2.0 with the draw 0.5
    assert fake_time.sleeps == [0.25, 0.5, 1.0]
    assert limits["reads"]["cap"] == 40 // 8  # type: ignore[index]
    assert [e["cap"] for e in log_capture.events("inflight_cap_lowered")] == [20, 10, 5]
    assert log_capture.events("run_paused") == []


async def test_a_429_pauses_every_caller_not_just_the_one_that_got_it(
    mock: aioresponses, log_capture: LogCapture
) -> None:
    fake = FakeTime()
    release = asyncio.Event()
    sent: list[tuple[str, float]] = []

    async def held_sleep(seconds: float) -> None:
        target = fake.now + seconds
        fake.sleeps.append(seconds)
        await release.wait()
        fake.now = max(fake.now, target)

    def record(url: Any, **_: Any) -> None:
        sent.append((str(url), fake.now))

    fake.sleep = held_sleep  # type: ignore[method-assign]
    mock.get(f"{API}/files/rooms/1", status=429, headers={"Retry-After": "5"}, callback=record)
    mock.get(f"{API}/files/rooms/1", payload=OK_ROOM, callback=record)
    mock.post(FOLDER, payload=OK_FOLDER, callback=record)
    async with client_for(fake) as client:
        first = asyncio.create_task(client.get_room(1))
        while not fake.sleeps:
            await asyncio.sleep(0)
        assert client.paused
        second = asyncio.create_task(client.create_folder(7, "Contracts"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert len(sent) == 1  # the write waits at the gate while the run is paused
        assert len(fake.sleeps) == 2
        release.set()
        assert await first == {"id": 7}
        assert await second == {"id": 8}
        assert client.stats.pauses == 1
    assert sent[0][1] == 1000.0
    assert all(when >= 1006.0 for _, when in sent[1:])  # Retry-After 5 + the rounding second
    assert len(log_capture.events("run_paused")) == 1
    assert len(log_capture.events("run_resumed")) == 1


async def test_long_retry_after_is_budget_exhausted_and_blocks_further_writes(
    mock: aioresponses, fake_time: FakeTime, log_capture: LogCapture
) -> None:
    mock.post(FOLDER, status=429, headers={"Retry-After": "86400"})
    mock.get(ROOM, payload=OK_ROOM)
    async with client_for(fake_time) as client:
        with pytest.raises(BudgetExhausted) as info:
            await client.create_folder(7, "A")
        assert info.value.retry_after == 86400.0
        with pytest.raises(BudgetExhausted):
            await client.create_folder(7, "B")  # refused locally, nothing sent
        assert await client.get_room(7) == {"id": 7}  # reads still go
        assert client.stats.attempts == 2
        assert not client.paused
    assert fake_time.sleeps == []
    (exhausted,) = log_capture.events("budget_exhausted")
    assert exhausted["retry_after"] == 86400.0


async def test_rate_limited_gives_up_after_max_rate_limited(
    mock: aioresponses, fake_time: FakeTime
) -> None:
    mock.get(ROOM, status=429, headers={"Retry-After": "1"}, repeat=True)
    async with client_for(fake_time) as client:
        with pytest.raises(RateLimited):
            await client.get_room(7)
        assert client.stats.attempts == 20  # RetryPolicy.max_rate_limited
        assert client.stats.failures == {"RateLimited": 1}


async def test_429s_do_not_use_up_the_attempts_for_other_failures(
    mock: aioresponses, fake_time: FakeTime
) -> None:
    for _ in range(2):
        mock.get(ROOM, status=429, headers={"Retry-After": "0"})
        mock.get(ROOM, status=503)
    mock.get(ROOM, status=429, headers={"Retry-After": "0"})
    mock.get(ROOM, status=503)
    mock.get(ROOM, payload=OK_ROOM)
    async with client_for(fake_time) as client:  # max_attempts=4: three 503s are allowed
        assert await client.get_room(7) == {"id": 7}
        assert client.stats.attempts == 7
        assert client.stats.rate_limited == 3


async def test_401_is_fatal_at_once_and_never_shows_the_token(
    mock: aioresponses, fake_time: FakeTime, log_capture: LogCapture
) -> None:
    mock.get(f"{API}/people/@self", status=401, body=b"")
    async with client_for(fake_time) as client:
        with pytest.raises(FatalError) as info:
            await client.self_profile()
        assert client.stats.attempts == 1
    text = f"{info.value} {info.value!r} {info.value.body_excerpt}"
    assert "DOCSPACE_TOKEN" in text
    assert TOKEN not in text
    assert TOKEN not in log_capture.text


async def test_permanent_errors_are_not_retried(mock: aioresponses, fake_time: FakeTime) -> None:
    body = {"error": {"message": "User with this email is already registered"}, "status": 1}
    mock.post(f"{API}/people?fields={NEW_PERSON_FIELDS}", status=400, payload=body)
    async with client_for(fake_time) as client:
        with pytest.raises(PermanentError, match="already registered") as info:
            await client.add_member("a@example.com", "A", "B", 4)
        assert client.stats.attempts == 1
    assert str(info.value) == (
        "POST /api/2.0/people (HTTP 400): User with this email is already registered"
    )


class CountingThrottle:
    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1


async def test_the_throttle_is_taken_for_every_attempt(
    mock: aioresponses, fake_time: FakeTime
) -> None:
    throttle = CountingThrottle()
    mock.get(ROOM, status=503)
    mock.get(ROOM, status=429, headers={"Retry-After": "1"})
    mock.get(ROOM, payload=OK_ROOM)
    settings = make_settings(fake_time)
    async with DocSpaceClient(settings, throttle=throttle, clock=fake_time.clock) as client:
        await client.get_room(7)
    assert throttle.acquired == 3


async def test_writes_and_reads_have_separate_in_flight_caps(mock: aioresponses) -> None:
    inflight = {"GET": 0, "POST": 0}
    peak = {"GET": 0, "POST": 0}

    def tracked(method: str, payload: dict[str, Any]) -> Any:
        async def callback(url: Any, **_: Any) -> CallbackResult:
            inflight[method] += 1
            peak[method] = max(peak[method], inflight[method])
            await asyncio.sleep(0.01)
            inflight[method] -= 1
            return CallbackResult(payload=payload)

        return callback

    mock.post(FOLDER, callback=tracked("POST", OK_FOLDER), repeat=True)
    mock.get(ROOM, callback=tracked("GET", OK_ROOM), repeat=True)
    settings = make_settings(max_write_inflight=3, max_read_inflight=5)
    async with DocSpaceClient(settings) as client:
        await asyncio.gather(
            *(client.create_folder(7, f"F{i}") for i in range(12)),
            *(client.get_room(7) for i in range(12)),
        )
    assert peak == {"GET": 5, "POST": 3}
