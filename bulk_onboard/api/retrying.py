"""What the transport does after a failed attempt: one pure decision, table-tested.

`limiter_of` tells which of the portal's limiters refused a 429 (docspace-api.md section 7):

- `X-RateLimit-Limit` and no Retry-After: the sliding window or the concurrency limiter, both
  saying "Remaining 0". The concurrency limiter names the lane's cap (15 writes, 50 reads):
  the lane's server cap itself is the concurrency limiter's (a window's limit is never as
  low as 15 or 50 on a real portal), and so is a limit below the requests of that lane we
  had in flight (the refused one included: the server refuses the one past its cap), and so
  is a limit a concurrency refusal of the run named before (our cap is down to it: we never
  hold more again). Anything else is the window's;
- Retry-After with X-RateLimit-Reset or a limit: the fixed (daily) window;
- Retry-After alone: some other limiter (a proxy's): the whole run waits it out;
- no header at all: no DocSpace limiter sends that; taken as a proxy's concurrency refusal.

`next_step` turns a failure and what the request's attempts came to so far (`Tried`) into the
next `Step`: retry after a delay, ride out an outage, pause the whole run, or raise. A window
or concurrency refusal never fails a request: it is retried (the pacer or the lowered cap holds
it) without using up the request's attempts or time, up to MAX_REFUSALS. Only a request that
certainly had no effect is retried: never an ambiguous write (the caller looks first), and a
write that could not be sent at all (connection refused) is not ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bulk_onboard.api.pacing import Refusal
from bulk_onboard.backoff import RetryPolicy

# Which limiter refused an attempt (a 429).
WINDOW, CONCURRENCY, DAILY, PAUSE, HEADERLESS = (
    "window",
    "concurrency",
    "daily",
    "pause",
    "headerless",
)
# What kind of failure an attempt met (from the error's class, see Failure).
UNREACHABLE, LIMITED, BUDGET, RETRYABLE, FINAL = (
    "unreachable",
    "limited",
    "budget",
    "retryable",
    "final",
)
# What to do next.
RETRY, RIDE, PAUSE_RUN, RAISE = "retry", "ride", "pause", "raise"
RETRY_AFTER_ROUNDING = 1.0  # the portal truncates Retry-After to whole seconds
MAX_REFUSALS = 1000  # window and concurrency 429s one request may meet (each waited out)
CONCURRENCY_BACKOFF_STEPS = 3  # a concurrency refusal waits at most the third backoff
# attempts of a request to a portal that has refused every connection of the run: a wrong
# address or a portal that is down says so in about a second, not after the full backoff
FIRST_CONTACT_ATTEMPTS = 3


def limiter_of(refusal: Refusal, held: int, lane_cap: int = 0, named_cap: int | None = None) -> str:
    """The limiter that refused a 429 with these headers; `held` is how many requests of its
    lane were in flight with it (itself included), `lane_cap` the server's cap of that lane
    (section 7: 15 writes, 50 reads), `named_cap` the cap a concurrency refusal of this run
    named for it (an admin-lowered cap: once our in-flight cap is down to it, we never hold
    more, and a refusal naming it again is still the concurrency limiter's, not a window of
    that size)."""
    limit = refusal.limit
    if refusal.reset or (refusal.retry_after is not None and limit is not None):
        return DAILY
    if limit is None:
        return HEADERLESS if refusal.retry_after is None else PAUSE
    if limit in (lane_cap, named_cap) or limit < held:
        return CONCURRENCY
    return WINDOW


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed attempt met, as the decision needs it."""

    kind: str  # UNREACHABLE, LIMITED, BUDGET, RETRYABLE or FINAL
    limiter: str | None = None  # for LIMITED
    retry_after: float | None = None
    answered_before: bool = True  # the portal answered some attempt of the run


@dataclass(frozen=True, slots=True)
class Tried:
    """What one request's attempts came to so far."""

    failures: int = 0  # attempts that failed other than by a 429 or an outage
    limited: int = 0  # 429s of a limiter the run does not keep to (proxy, daily, header-less)
    headerless: int = 0  # of them without any header
    refusals: int = 0  # window and concurrency 429s


@dataclass(frozen=True, slots=True)
class Step:
    action: str  # RETRY, RIDE, PAUSE_RUN or RAISE
    delay: float = 0.0


def next_step(
    failure: Failure, tried: Tried, policy: RetryPolicy, elapsed: float, draw: float
) -> tuple[Step, Tried]:
    """The next step after `failure`; `elapsed` seconds since the first attempt (outages not
    counted), `draw` the jitter in [0, 1)."""
    if failure.kind == UNREACHABLE and failure.answered_before:
        return Step(RIDE), tried  # an outage: waited at the outage gate, no attempt used
    if failure.kind in (BUDGET, FINAL):
        return Step(RAISE), tried
    if failure.kind == LIMITED:
        return _after_429(failure, tried, policy, elapsed, draw)
    tried = replace(tried, failures=tried.failures + 1)
    attempts = policy.max_attempts
    if failure.kind == UNREACHABLE:  # never answered (an outage is ridden out above)
        attempts = min(attempts, FIRST_CONTACT_ATTEMPTS)
    if tried.failures >= attempts:
        return Step(RAISE), tried
    return _in_time(Step(RETRY, policy.delay(tried.failures, draw)), policy, elapsed), tried


def _after_429(
    failure: Failure, tried: Tried, policy: RetryPolicy, elapsed: float, draw: float
) -> tuple[Step, Tried]:
    if failure.limiter in (WINDOW, CONCURRENCY):
        tried = replace(tried, refusals=tried.refusals + 1)
        if tried.refusals > MAX_REFUSALS:
            return Step(RAISE), tried
        if failure.limiter == WINDOW:
            return Step(RETRY), tried  # the pacer holds the retry until the window has room
        steps = min(tried.refusals, CONCURRENCY_BACKOFF_STEPS)
        return Step(RETRY, policy.delay(steps, draw)), tried
    headerless = tried.headerless + (failure.limiter == HEADERLESS)
    tried = replace(tried, limited=tried.limited + 1, headerless=headerless)
    if tried.limited >= policy.max_rate_limited:
        return Step(RAISE), tried
    if failure.limiter == HEADERLESS:
        step = Step(RETRY, max(0.05, policy.delay(headerless, draw)))
    elif failure.retry_after is not None:
        step = Step(PAUSE_RUN, failure.retry_after + RETRY_AFTER_ROUNDING)
    else:
        step = Step(PAUSE_RUN, max(policy.base_delay, policy.delay(tried.limited, draw)))
    return _in_time(step, policy, elapsed), tried


def _in_time(step: Step, policy: RetryPolicy, elapsed: float) -> Step:
    """No retry is started that would end later than max_total_seconds after the first try."""
    return Step(RAISE) if elapsed + step.delay > policy.max_total_seconds else step
