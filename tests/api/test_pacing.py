"""The pacer and the in-flight caps: the pure decisions as tables (no event loop, no
sandbox), then the Pacer on a fake clock."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace
from typing import Any

import pytest

from bulk_onboard.api import pacing
from bulk_onboard.api.inflight import PROBE_ROUNDS, InflightCap
from bulk_onboard.api.pacing import (
    MIRRORING,
    PINNED,
    SHARING,
    START_RATE,
    Belief,
    Pacer,
    Refusal,
    after_probe_accepted,
    after_quiet,
    after_window_refusal,
    refusal_of,
    window_wait,
)
from bulk_onboard.cli.output import limits_lines

from .conftest import FakeTime


def mirroring(limit: int = 1500, window: float = 60.0, **changes: Any) -> Belief:
    return replace(
        Belief(MIRRORING, START_RATE, window, 60.0, limit, pacing.full(limit), 0.0, 1.0),
        **changes,
    )


GROWING_AT_0 = pacing.start(0.0)

# (name, belief before, limit named, ours in the window, span of the last limit + 1
#  accepted, probe?) -> (state, limit, allowance, window, quiet)
REFUSALS: list[tuple[str, Belief, int, int, float | None, bool, tuple[Any, ...]]] = [
    (
        "the first wall: mirrored at the limit less 1 %, the server's 60 s",
        GROWING_AT_0, 1500, 1500, None, False, (MIRRORING, 1500, 1485, 60.0, 1.0),
    ),
    (
        "refused while we sent a third of it: another client shares the budget",
        GROWING_AT_0, 1500, 500, None, False, (SHARING, 1500, 350, 60.0, 15.0),
    ),
    (
        "more than the limit was accepted within 1.2 s: the window is no longer",
        GROWING_AT_0, 40, 90, 1.2, False, (MIRRORING, 40, 39, 1.2, 1.0),
    ),
    (
        "a probe past the limit refused: the belief holds, the next probe waits twice as long",
        mirroring(quiet=4.0), 1500, 1500, None, True, (MIRRORING, 1500, 1485, 60.0, 8.0),
    ),
    (
        "a new limit (the admin lowered it): mirrored from the configured window again",
        mirroring(window=30.0), 600, 1400, None, False, (MIRRORING, 600, 594, 60.0, 1.0),
    ),
    (
        "pinned: the rate stays, the window is kept to as well",
        pacing.start(0.0, pinned=5.0), 100, 100, None, False, (PINNED, 100, 99, 60.0, 1.0),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "limit", "ours", "span", "probe", "after"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_what_a_window_refusal_changes(
    before: Belief, limit: int, ours: int, span: float | None, probe: bool, after: tuple[Any, ...]
) -> None:
    new = after_window_refusal(before, limit, ours, span, 10.0, probe)
    assert (new.state, new.limit, new.allowance, new.window, new.quiet) == after
    assert new.changed_at == 10.0


def test_refusals_at_a_held_belief_are_the_way_to_the_portal_then_a_longer_window() -> None:
    belief = mirroring(limit=200, window=20.0)  # margin 2: two refusals are let be
    for strikes in (1, 2):
        belief = after_window_refusal(belief, 200, 199, None, 5.0)
        assert (belief.window, belief.strikes) == (20.0, strikes)
    belief = after_window_refusal(belief, 200, 199, None, 5.0)
    assert (belief.window, belief.strikes) == (25.0, 0)  # x 1.25, at most the configured 60


# (name, belief, seconds since it changed, held back?) -> what changed
QUIET: list[tuple[str, Belief, float, bool, dict[str, Any]]] = [
    ("growing: the rate doubles", GROWING_AT_0, 0.1, False, {"rate": 2 * START_RATE}),
    ("growing, too soon", GROWING_AT_0, 0.05, False, {}),
    ("mirroring, held back for a quiet spell: a probe is due", mirroring(), 1.0, True,
     {"probe": True}),
    ("mirroring, never held back: nothing to try", mirroring(), 5.0, False, {}),
    ("sharing: a step of 5 % of the limit", mirroring(state=SHARING, allowance=350), 1.0, True,
     {"allowance": 425}),
    ("sharing, the step reaches the whole: mirroring again",
     mirroring(state=SHARING, allowance=1480), 1.0, True, {"allowance": 1485,
                                                          "state": MIRRORING}),
    ("pinned without a limit: nothing", pacing.start(0.0, pinned=5.0), 9.0, True, {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after_s", "held", "changed"),
    [case[1:] for case in QUIET],
    ids=[case[0] for case in QUIET],
)
def test_what_a_quiet_spell_changes(
    before: Belief, after_s: float, held: bool, changed: dict[str, Any]
) -> None:
    new = after_quiet(before, before.changed_at + after_s, held)
    assert {k: getattr(new, k) for k in changed} == changed
    unchanged = {"state", "rate", "allowance", "probe", "window"} - set(changed)
    assert {k: getattr(new, k) for k in unchanged} == {k: getattr(before, k) for k in unchanged}


def test_an_accepted_probe_shortens_the_window() -> None:
    """A wrong belief (60 s where the portal counts 1 s) costs one quiet spell."""
    belief = mirroring(limit=40, probe=False)
    assert after_probe_accepted(belief, 1.3, 7.0).window == 1.3
    assert after_probe_accepted(belief, None, 7.0) == belief
    assert after_probe_accepted(belief, 75.0, 7.0) == belief  # no shorter than believed


def test_the_window_waits_for_the_oldest_of_the_allowance_to_leave() -> None:
    belief = mirroring(limit=4)  # allowance 3
    sent = deque([0.0, 1.0, 2.0])
    assert window_wait(belief, sent, 2.5) == pytest.approx(60.02 - 2.5)
    assert window_wait(belief, deque([1.0, 2.0]), 2.5) == 0.0
    probing = replace(belief, probe=True)  # up to one past the limit: 5
    assert window_wait(probing, sent, 2.5) == 0.0
    assert window_wait(GROWING_AT_0, sent, 2.5) == 0.0


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


async def test_a_pinned_rate_is_held_after_a_window_refusal(fake_time: FakeTime) -> None:
    """--rate 2 against a window of 120 (100 of ours in it when refused): the refusal adds
    the window, it does not lift the pinned rate (eight more requests take about 4 s, not
    none, though the window has room for them)."""
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep, pinned=2.0)
    for _ in range(100):
        pacer.answered(await pacer.acquire())
    pacer.refused(120, await pacer.acquire())
    start = fake_time.now
    for _ in range(8):
        await pacer.acquire()
    assert fake_time.now - start == pytest.approx(4.0, abs=0.6)
    assert (pacer.state()["mode"], pacer.state()["limit"]) == ("pinned", 120)


async def test_a_lowered_limit_keeps_the_minute_window(fake_time: FakeTime) -> None:
    """A portal whose admin lowers the limit (1,500 to 1,000 a minute): what passed under
    1,500 is no sign that the window is shorter than 60 s."""
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep)
    times = [await pacer.acquire() for _ in range(1501)]
    for sent in times[:1500]:
        pacer.answered(sent)
    pacer.refused(1500, times[-1])
    pacer.refused(1000, await pacer.acquire())
    state = pacer.state()
    assert (state["limit"], state["allowance"], state["window_s"]) == (1000, 990, 60.0)


async def test_the_rate_doubles_while_nothing_is_refused(fake_time: FakeTime) -> None:
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep)
    assert pacer.rate == START_RATE
    for _ in range(200):
        await pacer.acquire()
    assert pacer.rate >= 8 * START_RATE


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


async def test_a_minute_window_is_mirrored_from_one_refusal(fake_time: FakeTime) -> None:
    """1,500 a minute (docspace-api.md 7): the refusal names 1500 and says nothing of time;
    the pacer keeps to 1,485 in any 60 s of its own send times."""
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep)
    first = fake_time.now
    times = [await pacer.acquire() for _ in range(1501)]
    for sent in times[:1500]:
        pacer.answered(sent)
    pacer.refused(1500, times[-1])
    state = pacer.state()
    assert (state["mode"], state["limit"], state["allowance"], state["window_s"]) == (
        MIRRORING,
        1500,
        1485,
        60.0,
    )
    # held back, it probes one past the limit after 1 s, 2 s, 4 s... (each refused: the
    # belief holds); any other request waits for the 1,486th most recent to leave the window
    probes = []
    while (sent := await pacer.acquire()) < times[15] + 60.0:
        assert pacer.probes == len(probes) + 1
        probes.append(round(sent - times[-1], 1))
        pacer.refused(1500, sent)
    assert probes == [1.0, 3.0, 7.0, 15.0, 31.0]
    assert sent - first > 60.0


async def test_a_wrong_window_is_corrected_by_a_probe(fake_time: FakeTime) -> None:
    """The portal counts 40 a second; the pacer believes 60 s: after a quiet spell held
    back, one request goes past the limit, is accepted, and the window shrinks to what the
    accepted requests show."""
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep)
    times = [await pacer.acquire() for _ in range(41)]
    for sent in times[:40]:
        pacer.answered(sent)
    pacer.refused(40, times[-1])
    assert pacer.state()["window_s"] == 60.0
    while not pacer.probes:  # held back, then the probe
        pacer.answered(await pacer.acquire())
    assert pacer.state()["window_s"] < 3.0
    before = fake_time.now
    for _ in range(40):
        pacer.answered(await pacer.acquire())
    assert fake_time.now - before < 10.0  # tens a second again, not 40 a minute


async def test_a_shared_budget_is_learned_and_grows_back(fake_time: FakeTime) -> None:
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep, window=10.0)
    times = [await pacer.acquire() for _ in range(30)]
    pacer.refused(100, times[-1])  # 29 of ours, a limit of 100: someone else spent the rest
    state = pacer.state()
    assert (state["mode"], state["allowance"], state["shared_refusals"]) == (SHARING, 20, 1)
    for _ in range(400):
        pacer.answered(await pacer.acquire())
    assert pacer.state()["mode"] == MIRRORING  # nobody refused: back to the whole, step by step


@pytest.mark.parametrize(
    ("rate", "line"),
    [
        ({"mode": "growing", "rate": 640.0}, "rate up to 640/s, the portal refused none"),
        ({"mode": "pinned", "rate": 25.0}, "rate pinned at 25/s"),
        (
            {"mode": "mirroring", "limit": 1500, "allowance": 1485, "window_s": 60.0},
            "at most 1485 requests per 60 s, under the portal's 1500",
        ),
        (
            {"mode": "sharing", "limit": 1500, "allowance": 600, "share": 0.4, "window_s": 60},
            "the portal's 1500 requests per 60 s are shared with another client of the same "
            "user: this run kept to 600 (40%)",
        ),
    ],
)
def test_the_limits_line_says_how_the_run_kept_to_the_window(
    rate: dict[str, Any], line: str
) -> None:
    assert limits_lines({"rate": rate}) == [f"limits: {line}"]


async def test_a_request_answered_late_leaves_the_window_from_its_answer(
    fake_time: FakeTime,
) -> None:
    """The portal logs a request somewhere between its send and its answer: the mirrored
    window counts it from the answer, so its place frees no earlier than the portal's (from
    the send, a request that reached the portal late freed a place the portal still held)."""
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep, window=10.0)
    sent = await pacer.acquire()
    fake_time.now = sent + 3.0
    pacer.answered(sent)
    fake_time.now = sent + 11.0  # past its send's window, within its answer's
    assert pacer.ours_in_window() == 1
    fake_time.now = sent + 13.1
    assert pacer.ours_in_window() == 0


async def test_a_refusal_counts_what_was_sent_before_it_whenever_that_was_answered(
    fake_time: FakeTime,
) -> None:
    """A refusal is read against what the run had sent when the refused request went out
    (near the limit: mirror the window; well under it: another client shares it), whenever
    those requests were answered: 30 sent, the 31st refused, the 30 answered after it."""
    pacer = Pacer(clock=fake_time.clock, sleep=fake_time.sleep, window=60.0)
    sent = [await pacer.acquire() for _ in range(30)]
    refused = await pacer.acquire()
    fake_time.now = refused + 0.2
    for at in sent:
        pacer.answered(at)
    pacer.refused(30, refused)
    assert pacer.state()["mode"] == MIRRORING, pacer.state()
