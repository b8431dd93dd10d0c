"""The pacer and the in-flight caps on a fake clock: the arithmetic of learning a limit."""

from __future__ import annotations

import asyncio
import math

import pytest

from bulk_onboard.api.inflight import PROBE_ROUNDS, InflightCap
from bulk_onboard.api.pacing import START_RATE, Pacer, Refusal, refusal_of

from .conftest import FakeTime


def window_refusal(limit: int, retry_after: float) -> Refusal:
    return Refusal(retry_after=retry_after, limit=limit, remaining=0, reset=False)


def test_the_headers_of_a_429_are_read() -> None:
    headers = {"Retry-After": "6", "X-RateLimit-Limit": "1500", "X-RateLimit-Remaining": "0"}
    assert refusal_of(headers) == Refusal(6.0, 1500, 0, False)
    assert refusal_of({}) == Refusal(None, None, None, False)
    daily = refusal_of(
        {"Retry-After": "80000", "X-RateLimit-Limit": "10000", "X-RateLimit-Reset": "1"}
    )
    assert daily.reset


async def test_a_pinned_rate_is_held(fake_time: FakeTime) -> None:
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep, pinned=10.0)
    start = fake_time.now
    for _ in range(31):
        await pacer.acquire()
    assert fake_time.now - start == pytest.approx(2.9, abs=0.11)  # 10 a second, a small burst
    assert pacer.state()["mode"] == "pinned"


async def test_the_rate_doubles_while_nothing_is_refused(fake_time: FakeTime) -> None:
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep)
    assert pacer.rate == START_RATE
    for _ in range(200):
        await pacer.acquire()
    assert pacer.rate >= 8 * START_RATE


async def test_a_minute_window_is_learned_from_one_refusal(fake_time: FakeTime) -> None:
    """1,500 a minute (docspace-api.md 7): the window filled after 7.2 s; its oldest request
    leaves in 52.x s, which Retry-After truncates to 52."""
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep)
    first = fake_time.now
    while len(pacer._sent) < 1500:
        await pacer.acquire()
    elapsed = fake_time.now - first
    retry_after = float(int(60.0 - elapsed))
    epoch = pacer.epoch
    assert pacer.refused(window_refusal(1500, retry_after), epoch)
    assert pacer.refused(window_refusal(1500, retry_after), epoch)  # the same burst: held
    assert pacer.refusals == 1  # and counted once
    learned = pacer.state()["learned"]
    assert learned["limit"] == 1500 and learned["allowance"] == 1485
    low, high = learned["window_bounds_s"]
    assert low <= 60.0 < high <= 61.01
    assert learned["window_s"] == 60.0  # the whole second within the bounds: a minute
    assert pacer.refusals == 1
    # the next request waits until the oldest of the last 1,485 is a window old
    before = fake_time.now
    await pacer.acquire()
    assert fake_time.now - before > 10.0
    # refusals at that settled length are a slow way to the portal: one is let be, more
    # add slack; the window stays
    slack = learned["slack_s"]
    for _ in range(20):  # 2 % of at least 1,000 requests: put down to the way there
        assert pacer.refused(window_refusal(1500, 0.0), pacer.epoch)
    assert pacer.state()["learned"]["slack_s"] == slack
    assert pacer.refused(window_refusal(1500, 0.0), pacer.epoch)
    assert pacer.state()["learned"]["window_s"] == 60.0
    assert pacer.state()["learned"]["slack_s"] > slack


async def test_a_short_window_is_searched_up_from_its_lower_bound(fake_time: FakeTime) -> None:
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep)
    while len(pacer._sent) < 40:
        await pacer.acquire()
    assert pacer.refused(window_refusal(40, 0.0), pacer.epoch)
    first = pacer.window
    assert first == math.ceil(pacer.window_low) < pacer.window_high  # the whole second first
    for _ in range(5):
        await pacer.acquire()
    slack = pacer.state()["learned"]["slack_s"]
    for _ in range(3):  # 2 % of five windows' allowance (195): the way to the portal
        assert pacer.refused(window_refusal(40, 0.0), pacer.epoch)
    assert pacer.window == first and pacer.state()["learned"]["slack_s"] == slack
    await pacer.acquire()
    assert pacer.refused(window_refusal(40, 0.0), pacer.epoch)  # more: a little more slack
    assert pacer.window == first and pacer.state()["learned"]["slack_s"] > slack
    for _ in range(16):  # and more and more: the window is longer than that whole second
        await pacer.acquire()
        assert pacer.refused(window_refusal(40, 0.0), pacer.epoch)
    assert pacer.window > first
    assert pacer.window_low >= first


async def test_the_write_cap_halves_once_per_burst_and_grows_back() -> None:
    cap = InflightCap("writes", start=10, ceiling=15)
    slots = [await cap.acquire() for _ in range(5)]
    assert cap.refused(slots[-1])  # refused with 5 in flight: the portal allows 4
    assert not cap.refused(slots[-2])  # the same burst
    for _ in slots:
        await cap.release()
    assert (cap.limit, cap.known_good, cap.decreases) == (5, 4, 1)
    for _ in range(5):
        cap.succeeded()
    assert cap.limit == 5  # above the known level: slowly
    for _ in range(5 * PROBE_ROUNDS):
        cap.succeeded()
    assert cap.limit == 6
    assert cap.state()["lowest"] == 5


async def test_a_lowered_cap_holds_callers_back() -> None:
    cap = InflightCap("writes", start=2, ceiling=15)
    first, second = await cap.acquire(), await cap.acquire()
    assert cap.refused(second)  # cap 1
    await cap.release()
    waiting = asyncio.create_task(cap.acquire())
    await asyncio.sleep(0)
    assert not waiting.done()  # one is in flight, the cap is 1
    await cap.release()
    await asyncio.wait_for(waiting, 1)
    assert first.held == 1
