"""The run's request rate: a mirror of the portal's sliding window, or pinned by `--rate`.

One `Pacer` for a whole run; every attempt (retries included) takes a permit from it.

The portal's sliding window (docspace-api.md section 7: 1,500 requests a minute per API user,
the limit set by the portal's admin, the window a server constant of 60 s) refuses a request
over its limit with 429, `X-RateLimit-Limit: L` and `X-RateLimit-Remaining: 0`, and no
Retry-After. The tool knows what it sent: it keeps the send times of the last window (an
answered request's answer time: the portal logged it no later), and once a refusal named L it
never sends a request that would make more than L less a margin in any window of W seconds
(60, or `--rate-window`). The window's edge is used, not a smoothed rate:
a freed place in the window goes at once.

What the pacer believes is a `Belief` in one of four named states; every change of it is a
pure function of the belief and what was seen (`start`, `after_window_refusal`,
`after_blind_refusal`, `after_quiet`), table-tested without an event loop:

growing    nothing refused yet: the rate starts at START_RATE a second and doubles every
           START_GROWTH_SECONDS, so on a portal without a limiter the in-flight caps bind
           within half a second; a 429 with Retry-After and no limit (some proxy) lowers it
           to BACKOFF of the last second's rate, and it grows again by GROWTH_AFTER_429 per
           GROWTH_SECONDS;
mirroring  a refusal named L while the run's own count in the window was near L: at most
           L - margin requests in any W seconds;
sharing    a refusal named L while the run's own count was well under it (below SHARED_BELOW
           of L): another client spends the same API user's budget. The run keeps to what it
           had sent (less BACKOFF), and after each quiet spell tries a little more;
pinned     `--rate N`: a plain throttle of N a second; 429s are still waited out.

No estimate sticks: after a quiet spell (no refusal, and the window held requests back) a
mirrored or shared allowance grows by a step (additive increase), even past L; a refusal
brings it back, and the next try waits twice as long. So a limit raised by the admin, or a
sharer that went away, costs a few windows, not the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import structlog

from bulk_onboard.backoff import Clock, Sleep

log = structlog.get_logger("bulk_onboard.api")

GROWING, MIRRORING, SHARING, PINNED = "growing", "mirroring", "sharing", "pinned"
SERVER_WINDOW = 60.0  # seconds: TimeSpan.FromMinutes(1) in the server's BaseStartup.cs
START_RATE = 20.0  # requests a second before anything is known: under 1,500 a minute
MAX_RATE = 1000.0
GROWTH = 2.0  # per START_GROWTH_SECONDS without a refusal, until the first 429
START_GROWTH_SECONDS = 0.1
GROWTH_SECONDS = 0.5  # after a 429 without a limit
GROWTH_AFTER_429 = 1.05  # per GROWTH_SECONDS without a refusal, after a 429 without a limit
BACKOFF = 0.7  # of the last second's rate (or of the shared count) after such a 429
BURST_SECONDS = 0.1  # a paced caller may catch up this much lost time at once
MARGIN = 0.01  # of the limit kept unused (at least one request)
SHARED_BELOW = 0.8  # refused while our own count was under this share of L: a sharer
SHARE_LAG = 0.05  # of the window (at least 0.25 s): sends counted before it, as the way to
# the portal (a busy machine) may bring them to the portal that much later
SHARE_STEP = 0.05  # of L, added to a shared allowance per quiet spell
SHARE_QUIET = 0.25  # of the window: a shared allowance's quiet spell
PROBE_QUIET = 1.0  # seconds (at most a window) held back before the first probe
SLACK = 0.02  # seconds past the window's edge: the way to the portal
WINDOW_BACK = 1.25  # a window found too short grows by this (up to the configured one)


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


# ---------------------------------------------------------------------- the belief (pure)


@dataclass(frozen=True, slots=True)
class Belief:
    """What the pacer holds true about the portal's window at one moment."""

    state: str  # GROWING, MIRRORING, SHARING or PINNED
    rate: float  # permits a second while growing or pinned
    window: float  # seconds the portal's window is taken to last
    configured: float = SERVER_WINDOW  # the window it may not be longer than
    limit: int | None = None  # X-RateLimit-Limit of the last window refusal
    allowance: int = 0  # requests let through per window once a limit is known
    changed_at: float = 0.0  # when it last changed
    quiet: float = START_GROWTH_SECONDS  # seconds without a refusal before it tries more
    growth: float = GROWTH  # the rate's factor per quiet spell while growing
    strikes: int = 0  # refusals at this very belief, put down to the way to the portal
    probe: bool = False  # the window may fill to one past the limit: is it shorter?

    @property
    def keeps_window(self) -> bool:
        return self.limit is not None and self.state != GROWING

    @property
    def permitted(self) -> int:
        """Requests the next one may join in the window: the allowance, or up to one past
        the limit while a probe is due."""
        return (self.limit or 0) + 1 if self.probe else self.allowance


def margin(limit: int) -> int:
    return max(1, math.ceil(limit * MARGIN))


def full(limit: int) -> int:
    """The allowance a known limit leaves: the limit less the margin."""
    return max(1, limit - margin(limit))


def start(now: float, *, window: float = SERVER_WINDOW, pinned: float | None = None) -> Belief:
    if pinned is not None:
        return Belief(PINNED, pinned, window, window, changed_at=now)
    return Belief(GROWING, START_RATE, window, window, changed_at=now)


def after_window_refusal(
    belief: Belief, limit: int, ours: int, span: float | None, now: float, probe: bool = False
) -> Belief:
    """A sliding-window 429 named `limit`, when the run had sent `ours` requests (answered or
    in flight, none refused) in the believed window and, if more than `limit` of them were
    accepted there, the last limit + 1 accepted within `span` seconds. `probe`: the refused
    request was a probe past the limit. Mirror the window, or share it (well under it)."""
    if ours < SHARED_BELOW * limit:
        return _shared(belief, limit, ours, now)
    if probe and belief.limit == limit:  # the window is as believed: probe half as often
        return replace(belief, changed_at=now, quiet=min(belief.window, belief.quiet * 2))
    window = belief.window if belief.limit == limit else belief.configured
    if span is not None:
        window = min(window, span)  # more than the limit passed in it: the window is shorter
    if belief.keeps_window and belief.limit == limit and window == belief.window:
        if belief.strikes < margin(limit):
            return replace(belief, strikes=belief.strikes + 1)  # the way to the portal
        window = min(belief.configured, window * WINDOW_BACK)  # again and again: longer
    state = PINNED if belief.state == PINNED else MIRRORING
    return replace(
        belief, state=state, window=window, limit=limit, allowance=full(limit),
        changed_at=now, quiet=min(window, PROBE_QUIET), strikes=0, probe=False,
    )  # fmt: skip


def _shared(belief: Belief, limit: int, ours: int, now: float) -> Belief:
    allowance = max(1, min(full(limit), math.floor(ours * BACKOFF)))
    state = PINNED if belief.state == PINNED else SHARING
    window = belief.window if belief.limit == limit else belief.configured
    return replace(
        belief, state=state, window=window, limit=limit, allowance=allowance, changed_at=now,
        quiet=SHARE_QUIET * window, strikes=0, probe=False,
    )  # fmt: skip


def after_blind_refusal(belief: Belief, last_second: int, now: float) -> Belief:
    """A 429 with Retry-After and no limit (a proxy's limiter): slow down while growing."""
    if belief.state != GROWING:
        return belief
    rate = max(1.0, min(belief.rate, BACKOFF * max(last_second, 1)))
    return replace(belief, rate=rate, changed_at=now, quiet=GROWTH_SECONDS, growth=GROWTH_AFTER_429)


def after_quiet(belief: Belief, now: float, held_back: bool) -> Belief:
    """Nothing refused for a quiet spell: try more. Growing, the rate doubles; sharing, the
    allowance grows by a step of the limit; mirroring a window that held requests back, the
    next request is a probe one past the limit (accepted, the window is shorter)."""
    if now - belief.changed_at < belief.quiet or belief.probe:
        return belief
    if belief.state == GROWING:
        return replace(belief, rate=min(MAX_RATE, belief.rate * belief.growth), changed_at=now)
    limit = belief.limit
    if limit is None or not held_back:
        return belief
    if belief.allowance < full(limit):  # shared: a step of the limit at a time
        allowance = min(full(limit), belief.allowance + max(1, math.ceil(limit * SHARE_STEP)))
        state = belief.state if allowance < full(limit) or belief.state == PINNED else MIRRORING
        return replace(belief, state=state, allowance=allowance, changed_at=now)
    return replace(belief, probe=True)


def after_probe_sent(belief: Belief, now: float) -> Belief:
    return replace(belief, probe=False, changed_at=now)


def after_probe_accepted(belief: Belief, span: float | None, now: float) -> Belief:
    """A probe past the limit was accepted: more than the limit passed within `span`
    seconds, so the window is at most that long (or the limit was raised: the same gain)."""
    if span is None or span >= belief.window:
        return belief
    quiet = min(span, PROBE_QUIET)
    return replace(belief, window=span, changed_at=now, quiet=quiet, strikes=0)


def window_wait(belief: Belief, sent: deque[float], now: float) -> float:
    """Seconds until one more request keeps the last window within what is permitted."""
    permitted = belief.permitted
    if not belief.keeps_window or len(sent) < permitted:
        return 0.0
    return max(0.0, sent[-permitted] + belief.window + SLACK - now)


def count_since(sent: deque[float], since: float) -> int:
    """How many of the (ascending) send times are later than `since`."""
    n = 0
    for when in reversed(sent):
        if when <= since:
            break
        n += 1
    return n


def evidence(accepted: deque[float], limit: int, since: float) -> float | None:
    """More than `limit` accepted since `since`: the span of the last limit + 1 of them
    (the window is no longer than that); else None."""
    recent = sorted(t for t in accepted if t > since)
    return recent[-1] - recent[-limit - 1] if len(recent) > limit else None


# ---------------------------------------------------------------------- the pacer


class Pacer:
    """Permits for attempts: a mirror of the portal's window (or a pinned rate)."""

    def __init__(
        self,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        pinned: float | None = None,
        window: float = SERVER_WINDOW,
    ) -> None:
        if pinned is not None and pinned <= 0:
            raise ValueError("a pinned rate must be positive")
        if window <= 0:
            raise ValueError("a window must last longer than 0 seconds")
        self._clock = clock
        self._sleep = sleep
        self.belief = start(clock(), window=window, pinned=pinned)
        self.pinned = pinned
        self._next_at = -math.inf
        self._sent: deque[float] = deque()  # send times of the last window, none refused
        # the same requests where the portal's window holds them no later: an answered one
        # from its answer (what the window's places are counted by; `_sent` says what was
        # sent when, for reading a refusal)
        self._held: deque[float] = deque()
        self._accepted: deque[float] = deque()  # of them, those answered (in answer order)
        self._probe_at: float | None = None  # send time of the probe past the limit
        self._held_back = False  # the window held a request back since the belief changed
        self.refusals = 0  # window refusals seen (a burst counts each)
        self.shared = 0  # refusals that showed another client spends the budget
        self.probes = 0
        self._lock = asyncio.Lock()

    @property
    def rate(self) -> float:
        return self.belief.rate

    @property
    def limit(self) -> int | None:
        return self.belief.limit

    def allowance(self) -> int:
        return self.belief.allowance

    async def acquire(self) -> float:
        """Wait for a permit; returns its send time (the attempt counts as sent then)."""
        async with self._lock:
            while True:
                now = self._clock()
                self._change(after_quiet(self.belief, now, self._held_back))
                # a pinned rate (--rate) holds beside a mirrored window, as does the growing one
                paced = self.belief.state == PINNED or not self.belief.keeps_window
                rate_wait = self._next_at - now if paced else 0.0
                wait = max(rate_wait, window_wait(self.belief, self._held, now))
                if wait <= 0:
                    break
                if self.belief.keeps_window:  # wake when the quiet spell ends: a probe is due
                    wait = min(wait, max(0.001, self.belief.changed_at + self.belief.quiet - now))
                self._held_back = self._held_back or self.belief.keeps_window
                await self._sleep(wait)
            self._next_at = max(self._next_at, now - BURST_SECONDS) + 1.0 / self.belief.rate
            if self.belief.probe and self.ours_in_window() >= (self.belief.limit or 0):
                self._probe_at, self.probes = now, self.probes + 1  # this one is past the limit
                self._change(after_probe_sent(self.belief, now))
            self._forget(now)
            self._sent.append(now)
            self._held.append(now)
            return now

    def ours_in_window(self) -> int:
        return count_since(self._held, self._clock() - self.belief.window)

    def answered(self, sent_at: float | None) -> None:
        """The request sent at `sent_at` was answered, not refused. It stays in the mirrored
        window from its answer on: the portal logged it somewhere between the send and the
        answer, so a window counted from the answer ends no earlier than the portal's. Counted
        from the send, a request that reached the portal a little late (a busy machine, a slow
        connection) left the portal's window later than ours, and the request sent into the
        place it seemed to free was refused."""
        if sent_at is None:
            return
        with contextlib.suppress(ValueError):
            self._held.remove(sent_at)
            self._held.append(self._clock())  # the latest time there is: still in order
        self._accepted.append(sent_at)
        if sent_at == self._probe_at and self.belief.limit is not None:
            self._probe_at = None
            now = self._clock()
            span = evidence(self._accepted, self.belief.limit, now - self.belief.window)
            self._change(after_probe_accepted(self.belief, span, now))

    def refused(self, limit: int | None, sent_at: float | None) -> None:
        """A 429 of the sliding window (limit named) or of a proxy (None): learn from it.
        The refused request is not in the portal's window: its send time is forgotten."""
        now = self._clock()
        if sent_at is not None:
            with contextlib.suppress(ValueError):
                self._sent.remove(sent_at)
            with contextlib.suppress(ValueError):
                self._held.remove(sent_at)
        if limit is None:
            last_second = count_since(self._sent, now - 1.0)
            self._change(after_blind_refusal(self.belief, last_second, now))
            return
        self.refusals += 1
        probe = sent_at is not None and sent_at == self._probe_at
        self._probe_at = None if probe else self._probe_at
        # what the portal counted when the request reached it: ours in the window before it
        # (and a little earlier: a request may reach the portal later than it was stamped)
        at = sent_at if sent_at is not None else now
        lag = max(0.25, SHARE_LAG * self.belief.window)
        ours = count_since(self._sent, at - self.belief.window - lag) - count_since(self._sent, at)
        # what passed under an earlier, higher limit says nothing of this window's length
        same = self.belief.limit in (None, limit)
        span = evidence(self._accepted, limit, now - self.belief.configured) if same else None
        new = after_window_refusal(self.belief, limit, ours, span, now, probe)
        if new.allowance < full(limit) and new.changed_at == now:
            self.shared += 1
            log.info("rate_limit_shared", limit=limit, ours=ours, allowance=new.allowance)
        self._change(new)

    def _change(self, new: Belief) -> None:
        if new == self.belief:
            return
        old, self.belief = self.belief, new
        if new.changed_at != old.changed_at:
            self._held_back = False
        if (new.state, new.limit, new.window) != (old.state, old.limit, old.window):
            log.info(
                "rate_limit_learned",
                state=new.state,
                limit=new.limit,
                allowance=new.allowance,
                window_s=round(new.window, 3),
            )

    def _forget(self, now: float) -> None:
        edge = now - self.belief.configured - SLACK
        for times in (self._sent, self._held, self._accepted):
            while times and times[0] <= edge:
                times.popleft()

    def state(self) -> dict[str, Any]:
        """For summary.json and the log: how the pacer ended."""
        b = self.belief
        found: dict[str, Any] = {"mode": b.state, "window_s": round(b.window, 3)}
        if b.state in (GROWING, PINNED):
            found["rate"] = round(b.rate, 2)
        if b.keeps_window and b.limit is not None:
            share = round(b.allowance / b.limit, 3)
            found.update(limit=b.limit, allowance=b.allowance, share=share)
        found.update(window_refusals=self.refusals, shared_refusals=self.shared, probes=self.probes)
        return found
