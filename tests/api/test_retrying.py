"""The transport's decisions as tables: which limiter refused a 429, and what the retry
loop does next. Pure functions: no event loop, no sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from bulk_onboard.api.pacing import Refusal
from bulk_onboard.api.retrying import (
    BUDGET,
    CONCURRENCY,
    DAILY,
    FINAL,
    HEADERLESS,
    LIMITED,
    MAX_REFUSALS,
    PAUSE,
    PAUSE_RUN,
    RAISE,
    RETRY,
    RETRYABLE,
    RIDE,
    UNREACHABLE,
    WINDOW,
    Failure,
    Tried,
    limiter_of,
    next_step,
)
from bulk_onboard.backoff import RetryPolicy


def refusal(
    limit: int | None = None, retry_after: float | None = None, reset: bool = False
) -> Refusal:
    return Refusal(retry_after, limit, 0 if limit else None, reset)


# (name, headers, in flight of the lane with it, the lane's server cap) -> limiter
LIMITERS: list[tuple[str, Refusal, int, int, str]] = [
    ("the cloud's window: 1500 named, 12 writes in flight", refusal(1500), 12, 15, WINDOW),
    ("the write lane's cap named, 16 in flight", refusal(15), 16, 15, CONCURRENCY),
    ("the write lane's cap named, 9 of ours in flight: a sharer holds the rest",
     refusal(15), 9, 15, CONCURRENCY),
    ("a cap of 3 named with 12 in flight (an admin's lower cap)", refusal(3), 12, 15,
     CONCURRENCY),
    ("a limit of 3 with 3 in flight: the server refuses the one past its cap, so a window",
     refusal(3), 3, 15, WINDOW),
    ("a window of 30 with 20 reads in flight", refusal(30), 20, 50, WINDOW),
    ("the daily window: Retry-After and Reset", refusal(10_000, 3600.0, True), 1, 15, DAILY),
    ("Retry-After alone: a proxy's limiter", refusal(None, 5.0), 1, 15, PAUSE),
    ("no header at all", refusal(), 4, 15, HEADERLESS),
]  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "held", "lane", "expected"),
    [case[1:] for case in LIMITERS],
    ids=[case[0] for case in LIMITERS],
)
def test_which_limiter_refused(headers: Refusal, held: int, lane: int, expected: str) -> None:
    assert limiter_of(headers, held, lane) == expected


POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, max_total_seconds=60.0)

# (name, failure, tried before, seconds elapsed) -> (action, delay, tried after)
STEPS: list[tuple[str, Failure, Tried, float, tuple[Any, ...]]] = [
    ("a window refusal: again at once, the pacer holds it; no attempt used",
     Failure(LIMITED, WINDOW), Tried(failures=3), 59.9, (RETRY, 0.0, Tried(3, refusals=1))),
    ("a concurrency refusal: a short jittered wait of its own",
     Failure(LIMITED, CONCURRENCY), Tried(), 0.0, (RETRY, 0.25, Tried(refusals=1))),
    ("... at most the third backoff, however many came before",
     Failure(LIMITED, CONCURRENCY), Tried(refusals=40), 500.0,
     (RETRY, 1.0, Tried(refusals=41))),
    ("window refusals are bounded, not by time but by count",
     Failure(LIMITED, WINDOW), Tried(refusals=MAX_REFUSALS), 0.0,
     (RAISE, 0.0, Tried(refusals=MAX_REFUSALS + 1))),
    ("a proxy's Retry-After 7: the whole run pauses 8 s (truncated seconds)",
     Failure(LIMITED, PAUSE, 7.0), Tried(), 0.0, (PAUSE_RUN, 8.0, Tried(limited=1))),
    ("the 20th such 429: given up", Failure(LIMITED, PAUSE, 1.0), Tried(limited=19), 0.0,
     (RAISE, 0.0, Tried(limited=20))),
    ("a header-less 429: its own backoff", Failure(LIMITED, HEADERLESS), Tried(headerless=1,
     limited=1), 0.0, (RETRY, 0.5, Tried(limited=2, headerless=2))),
    ("a pause past the request's time: given up", Failure(LIMITED, DAILY, 30.0), Tried(),
     40.0, (RAISE, 0.0, Tried(limited=1))),
    ("the daily budget spent: raised at once", Failure(BUDGET), Tried(), 0.0,
     (RAISE, 0.0, Tried())),
    ("a 503 on a read: backoff", Failure(RETRYABLE), Tried(), 0.0,
     (RETRY, 0.25, Tried(failures=1))),
    ("the 4th failure: given up", Failure(RETRYABLE), Tried(failures=3), 0.0,
     (RAISE, 0.0, Tried(failures=4))),
    ("an ambiguous write or a refusal: raised", Failure(FINAL), Tried(), 0.0,
     (RAISE, 0.0, Tried())),
    ("connection refused by a portal that answered before: an outage, ridden out",
     Failure(UNREACHABLE), Tried(failures=3), 0.0, (RIDE, 0.0, Tried(failures=3))),
    ("connection refused by a portal that never answered: a failure like any",
     Failure(UNREACHABLE, answered_before=False), Tried(), 0.0,
     (RETRY, 0.25, Tried(failures=1))),
    ("... but given up at its third attempt, sooner than other failures",
     Failure(UNREACHABLE, answered_before=False), Tried(failures=2), 0.0,
     (RAISE, 0.0, Tried(failures=3))),
    ("... a 503 from a portal that never answered is given the request's attempts",
     Failure(RETRYABLE, answered_before=False), Tried(failures=2), 0.0,
     (RETRY, 1.0, Tried(failures=3))),
]  # fmt: skip


@pytest.mark.parametrize(
    ("failure", "tried", "elapsed", "expected"),
    [case[1:] for case in STEPS],
    ids=[case[0] for case in STEPS],
)
def test_what_next(
    failure: Failure, tried: Tried, elapsed: float, expected: tuple[Any, ...]
) -> None:
    step, after = next_step(failure, tried, POLICY, elapsed, draw=0.5)
    assert (step.action, step.delay, after) == expected
