"""The run's request rate: found by itself, or pinned by `--rate`.

One `Pacer` for a whole run; every attempt (retries included) takes a permit from it.

Adaptive (the default): start at START_RATE requests a second and double the rate every
START_GROWTH_SECONDS in which the portal refused nothing, up to MAX_RATE, so on a portal without
a limiter the rate stops mattering within half a second and the in-flight caps bind; under a
sliding window the first refusal comes as soon as the window is full, which is what tells its
allowance (a full window's allowance may go at once: nothing is gained by a slow start). The portal's sliding window
(docspace-api.md section 7: 1,500 requests a minute per user) answers a request over its
allowance with 429, `X-RateLimit-Limit` (the window's allowance L) and `Retry-After` (whole
seconds, truncated, until the oldest request in the window leaves it). From L and the
pacer's own record of when it sent what, the window's length W is bounded:

    the L-th most recent request we sent was sent at t_old; it leaves the window in
    [Retry-After, Retry-After + 1) seconds, so W lies in [now + RA - t_old, now + RA + 1 - t_old).

From then on the pacer keeps its own sliding window: at most L - margin requests in any W
seconds (plus a little slack for the way to the portal), which is the whole allowance and
never more: it sends up to the window's edge, not at a smoothed rate. The bounds are a second
apart and so always hold one whole number of seconds; the server's windows are configured as
whole seconds (a TimeSpan: "1,500 per minute", section 7), so that length is tried first.
If it holds (a full window saturated without a 429) it is the length. If the portal refuses
at it again and again, or the bounds hold no whole second, the pacer searches: upwards from
the lower bound in doubling steps while the portal refuses (a 429 at length w shows the window
is longer), and once a full window at length w was saturated without a 429 (so the window is
no longer than w), by halving the gap, until the bounds are within SETTLED; then it keeps to
the upper bound.
The time a request is stamped here and the time it reaches the portal differ a little, more
on a busy machine: so one refusal now and then (up to TOLERATED of the requests sent at a
length, judged over at least TOLERATED_OVER windows' allowance: a delayed batch of one window
comes back as a burst of refusals in the next) changes nothing, the retry just goes through
the pacer again; more than that at a settled length (or at the whole second being tried, a
few steps) adds JITTER_STEP of slack (up to JITTER_MAX of the window), and only then is the
window itself taken to be longer.

A 429 with Retry-After but no X-RateLimit-Limit (some proxy's limiter) lowers the rate to
BACKOFF times what was sent in the last second; growth then resumes by GROWTH_AFTER_429 per
half second. 429s of one burst (sent before the pacer reacted to the first) count once.

Pinned (`--rate N`): a plain throttle of N a second; 429s are still waited out.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import structlog

from bulk_onboard.backoff import Clock, Sleep

log = structlog.get_logger("bulk_onboard.api")

START_RATE = 20.0  # requests a second before anything is known: under 1,500 a minute
MAX_RATE = 1000.0
GROWTH = 2.0  # per START_GROWTH_SECONDS without a refusal, until the first 429
START_GROWTH_SECONDS = 0.1
GROWTH_SECONDS = 0.5  # after a 429 without a window
GROWTH_AFTER_429 = 1.05  # per GROWTH_SECONDS without a refusal, after a 429 without a window
BACKOFF = 0.7  # of the last second's rate, after a 429 without a window
BURST_SECONDS = 0.1  # a paced caller may catch up this much lost time at once
MARGIN = 0.01  # of the learned allowance kept unused (at least one request)
SETTLED = 0.02  # the window length is known well enough when its bounds are this close
STEP = 0.04  # the first step of the search above the lower bound, of that bound
JITTER_STEP = 0.005  # seconds of slack added per refusal at a length that held before
JITTER_MAX = 0.02  # of the window: more slack than that, and the window itself is longer
TOLERATED = 0.02  # refusals per request sent at a length that are put down to the way there
# ... judged over at least this many windows' allowance (up to TOLERATED_FLOOR requests): the
# refusals come in bursts (one delayed batch of the window before), not spread out
TOLERATED_OVER = 5
TOLERATED_FLOOR = 1000
HISTORY = 20_000  # send times kept (the real window holds 1,500)


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a 429 said: the headers of docspace-api.md section 7."""

    retry_after: float | None
    limit: int | None
    remaining: int | None
    reset: bool  # X-RateLimit-Reset: a fixed window (the daily budget), not the sliding one


def refusal_of(headers: Any) -> Refusal:
    """The rate-limit headers of a 429 answer (a Mapping of header names to values)."""

    def number(name: str) -> float | None:
        raw = headers.get(name)
        try:
            return float(raw) if raw is not None and str(raw).strip() else None
        except ValueError:
            return None

    limit, remaining = number("X-RateLimit-Limit"), number("X-RateLimit-Remaining")
    return Refusal(
        retry_after=number("Retry-After"),
        limit=int(limit) if limit is not None and limit >= 1 else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=headers.get("X-RateLimit-Reset") is not None,
    )


class Pacer:
    """Permits for attempts at an adaptive (or pinned) rate; see the module docstring."""

    def __init__(
        self, *, clock: Clock, sleep: Sleep = asyncio.sleep, pinned: float | None = None
    ) -> None:
        if pinned is not None and pinned <= 0:
            raise ValueError("a pinned rate must be positive")
        self._clock = clock
        self._sleep = sleep
        self.pinned = pinned
        self.rate = pinned if pinned is not None else START_RATE
        self._growth = GROWTH
        self._growth_seconds = START_GROWTH_SECONDS
        self._next_at = -math.inf
        self._sent: deque[float] = deque(maxlen=HISTORY)  # send times the window counts
        self._epoch = 0  # bumped when the pacer reacts to a refusal
        now = clock()
        self._grown_at = now
        self._last_refusal = -math.inf
        self.refusals = 0  # 429s that changed something (one per burst)
        self.limit: int | None = None  # the window's allowance, from X-RateLimit-Limit
        self.window_low = 0.0  # bounds on the window's length, seconds
        self.window_high = math.inf
        self.window = math.inf  # the length in use
        self._probe_from: float | None = None  # when the window in use was last changed
        self._confirmed = False  # a length held: the upper bound is tested, not only derived
        self._whole: float | None = None  # the whole second tried first, while it is tried
        self._step = 0.0
        self._jitter = 0.0  # extra slack learned from refusals at a settled length
        self._sent_here = 0  # requests sent, and refused, at the window length in use
        self._refused_here = 0
        self._saturated = 0  # callers the window held back since then
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ permits

    @property
    def epoch(self) -> int:
        return self._epoch

    async def acquire(self) -> None:
        """Wait for a permit; returns when the attempt may be sent (counts it as sent)."""
        async with self._lock:
            while True:
                now = self._clock()
                wait = max(self._rate_wait(now), self._window_wait(now))
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._grow(now)
            self._next_at = max(self._next_at, now - BURST_SECONDS) + 1.0 / self.rate
            self._sent.append(now)
            self._sent_here += 1

    def _rate_wait(self, now: float) -> float:
        return self._next_at - now if self.limit is None else 0.0

    def _window_wait(self, now: float) -> float:
        if self.limit is None or not math.isfinite(self.window):
            return 0.0
        allowed = self.allowance()
        if len(self._sent) < allowed:
            return 0.0
        leaves = self._sent[-allowed] + self.window + self._slack()
        if leaves > now:
            self._saturated += 1
            return leaves - now
        return 0.0

    def allowance(self) -> int:
        """Requests the pacer lets through per window (the learned limit minus the margin)."""
        if self.limit is None:
            return 0
        return max(1, self.limit - max(1, math.ceil(self.limit * MARGIN)))

    def _slack(self) -> float:
        return min(0.25, 0.005 * self.window) + 0.002 + self._jitter

    def _grow(self, now: float) -> None:
        if self.pinned is not None:
            return
        if self.limit is not None:
            self._probe(now)
            return
        if now - self._grown_at >= self._growth_seconds and now - self._last_refusal >= 1.0:
            self.rate = min(MAX_RATE, self.rate * self._growth)
            self._grown_at = now

    def _probe(self, now: float) -> None:
        """A full window at the length in use was saturated and refused nothing: the real
        window is no longer; try halfway down to the lower bound."""
        if self._probe_from is None or (self._settled() and self._whole is None):
            return
        if now - self._probe_from < self.window or self._saturated < 2:
            return
        if self._whole is not None:  # the whole second held: that is the window's length
            self.window_high = self._whole
            self.window_low = max(self.window_low, self._whole * (1 - SETTLED / 2))
            self._whole = None
            self._log_learned()
            return
        self.window_high = min(self.window_high, self.window)
        self._confirmed = True
        self._use_window(self._next_window(), now)

    def _jitter_cap(self) -> float:
        """How much slack refusals at the length in use may add before it is taken as too
        short: up to JITTER_MAX of a length found to hold; a few steps at a whole second
        still being tried; none while searching."""
        if self._whole is not None:
            return min(JITTER_MAX * self.window, 4 * JITTER_STEP)
        return JITTER_MAX * self.window if self._settled() else 0.0

    def _settled(self) -> bool:
        return self.window_high - self.window_low <= SETTLED * self.window_high

    def _next_window(self) -> float:
        """Within the bounds: the upper one once they are close; else search upwards from
        the lower one in doubling steps until a length held, then halve the gap."""
        if self._settled():
            return self.window_high
        if not self._confirmed:
            return min(self.window_high, self.window_low + self._step)
        return (self.window_low + self.window_high) / 2

    def _use_window(self, seconds: float, now: float) -> None:
        self.window = seconds
        self._sent_here = self._refused_here = 0
        self.rate = self.allowance() / seconds if seconds > 0 else MAX_RATE
        self._probe_from = now
        self._saturated = 0

    # ------------------------------------------------------------------ answers

    def refused(self, refusal: Refusal, sent_epoch: int) -> bool:
        """A 429 that carried Retry-After (the sliding window or a proxy): adjust.

        Returns True when the refusal came from the window the pacer now keeps to, so the
        caller may retry through the pacer at once instead of pausing the run."""
        now = self._clock()
        if self._sent:  # a request the window refused is not in it: forget one send time
            self._sent.pop()
        counted = sent_epoch == self._epoch
        if self.pinned is not None:
            return False
        if refusal.limit is not None and not refusal.reset and self._learn(refusal, now, counted):
            return True
        if counted:
            recent = sum(1 for t in self._sent if t > now - 1.0)
            self.rate = max(1.0, min(self.rate, BACKOFF * max(recent, 1)))
            self._growth = GROWTH_AFTER_429
            self._growth_seconds = GROWTH_SECONDS
            self._grown_at = now
            self._count(now)
        return False

    def _learn(self, refusal: Refusal, now: float, counted: bool) -> bool:
        limit = refusal.limit
        assert limit is not None
        if self.limit != limit:
            return self._first_learned(refusal, now)
        if not counted:
            return True  # a burst the pacer already reacted to
        self._refused_here += 1
        judged = max(self._sent_here, min(TOLERATED_OVER * self.allowance(), TOLERATED_FLOOR))
        if self._refused_here <= max(1.0, TOLERATED * judged):
            return True  # now and then: a slow way to the portal, not a longer window
        if self._jitter < self._jitter_cap():
            # Refused at a length already found to hold: requests took longer to reach the
            # portal than they used to (a busy machine or network). More slack, a little.
            self._jitter = min(JITTER_MAX * self.window, self._jitter + JITTER_STEP)
            self._sent_here = self._refused_here = 0
            self._count(now)
            return True
        # refused again and again at this length: the window is longer
        self._whole = None
        self.window_low = max(self.window_low, self.window)
        self._step *= 2
        if self.window_high <= self.window_low:
            self.window_high = self.window_low * (1 + SETTLED)
        self._use_window(self._next_window(), now)
        self._count(now)
        self._log_learned()
        return True

    def _first_learned(self, refusal: Refusal, now: float) -> bool:
        limit = refusal.limit
        assert limit is not None
        if len(self._sent) < limit - 1:
            # We have not sent that many: another client shares the window, or it is a
            # per-endpoint policy (5 per 15 minutes); nothing to learn about the run's pace.
            return False
        retry = refusal.retry_after or 0.0
        oldest = self._sent[-min(limit, len(self._sent))]
        self.limit = limit
        self.window_low = max(0.001, now + retry - oldest)
        self.window_high = now + retry + 1.0 - oldest
        self._confirmed = False
        self._step = STEP * self.window_low
        whole = float(math.ceil(self.window_low))
        self._whole = whole if whole < self.window_high else None
        self._use_window(self._whole or self._next_window(), now)
        self._count(now)
        self._log_learned()
        return True

    def _log_learned(self) -> None:
        log.info(
            "rate_limit_learned",
            limit=self.limit,
            window_s=round(self.window, 3),
            window_low_s=round(self.window_low, 3),
            rate=round(self.rate, 2),
        )

    def _count(self, now: float) -> None:
        self.refusals += 1
        self._epoch += 1
        self._last_refusal = now

    # ------------------------------------------------------------------ report

    def state(self) -> dict[str, Any]:
        """For summary.json and the log: how the pacer ended."""
        learned: dict[str, Any] | None = None
        if self.limit is not None:
            learned = {
                "limit": self.limit,
                "window_s": round(self.window, 3) if math.isfinite(self.window) else None,
                "window_bounds_s": [
                    round(self.window_low, 3),
                    round(self.window_high, 3) if math.isfinite(self.window_high) else None,
                ],
                "allowance": self.allowance(),
                "slack_s": round(self._slack(), 4),
            }
        return {
            "mode": "pinned" if self.pinned is not None else "adaptive",
            "rate": round(self.rate, 2),
            "learned": learned,
            "refusals_counted": self.refusals,
        }
