"""How many requests of one kind (reads, writes) are in flight at once: a cap that adapts.

The portal's concurrency limiter (docspace-api.md section 7: 50 GETs and 15 other requests
in flight per API user, queue length 0) refuses one request too many with a 429 that names the
lane's cap: `X-RateLimit-Limit: 15` (or 50), `X-RateLimit-Remaining: 0`. Such a refusal sets
the cap to the named limit at once (`named`), and makes it the ceiling; refused with no more
of ours in flight than the limit, another client holds the rest: the cap goes to one below
what we had in flight and grows back by one per `cap` successes (additive increase).

A 429 without any header (no DocSpace limiter sends one; a proxy may) lowers the cap
(multiplicative decrease: halved, at least 1) and remembers how many were in flight; while
requests succeed the cap grows back by one per `cap` successes up to one below that number,
and above it only by one per PROBE_ROUNDS x `cap` successes, never above the ceiling (the
server's 15 writes, or what `--max-writes` says). Refusals of one burst count once: only a
request sent after the last decrease can cause the next one.

A request waiting for a place goes by its work's `PRIORITY` (a context variable, set by the
caller for everything it runs): work on the run's longest chain of requests (`FIRST`: the
people joining new rooms, invited, looked up, made, then added, one after the other) takes a
free place before any `NORMAL` request waiting. Within a priority, whoever the loop wakes
first goes.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger("bulk_onboard.api")

PROBE_ROUNDS = 8
FIRST, NORMAL = 1, 0  # priorities: the run's longest chain of requests, the rest
PRIORITY: ContextVar[int] = ContextVar("priority", default=NORMAL)


@dataclass(frozen=True, slots=True)
class Slot:
    """A held place in flight: the decrease epoch it was taken in and how many were in
    flight with it (itself included)."""

    epoch: int
    held: int


class InflightCap:
    """An asyncio semaphore whose size changes with the portal's answers."""

    def __init__(self, kind: str, *, start: int, ceiling: int) -> None:
        if not 1 <= start <= ceiling:
            raise ValueError("need 1 <= start <= ceiling")
        self.kind = kind
        self.limit = start
        self.ceiling = ceiling
        self.in_flight = 0
        self.peak = 0
        self.lowest = start
        self.known_good: int | None = None  # below the level of the last refusal
        self.named_limit: int | None = None  # the cap the portal's last concurrency 429 named
        self.decreases = 0
        self._epoch = 0
        self._successes = 0
        self._changed = asyncio.Condition()
        self._waiting = {FIRST: 0, NORMAL: 0}  # requests waiting for a place, by priority

    async def acquire(self) -> Slot:
        priority = PRIORITY.get()
        above = [level for level in self._waiting if level > priority]
        async with self._changed:
            self._waiting[priority] += 1
            try:
                await self._changed.wait_for(
                    lambda: (
                        self.in_flight < self.limit
                        and not any(self._waiting[level] for level in above)
                    )
                )
            finally:
                self._waiting[priority] -= 1
            self._changed.notify_all()  # a lower priority may go if places are left
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return Slot(self._epoch, self.in_flight)

    async def release(self) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()  # the cap may have grown too

    def succeeded(self) -> None:
        """The request of a slot was answered without a concurrency refusal."""
        self._successes += 1
        if self.limit >= self.ceiling:
            return
        below = self.known_good is None or self.limit < self.known_good
        needed = self.limit if below else self.limit * PROBE_ROUNDS
        if self._successes >= needed:
            self._successes = 0
            if self.known_good is not None and self.limit > self.known_good:
                self.known_good = self.limit  # it held for PROBE_ROUNDS rounds
            self.limit += 1

    def refused(self, slot: Slot) -> bool:
        """A 429 without headers for the request of `slot`; True when it lowered the cap."""
        if slot.epoch != self._epoch:
            return False  # part of a burst already answered
        self._epoch += 1
        self.decreases += 1
        self._successes = 0
        self.known_good = max(1, slot.held - 1)
        self.limit = max(1, self.limit // 2)
        self.lowest = min(self.lowest, self.limit)
        log.info(
            "inflight_cap_lowered",
            kind=self.kind,
            cap=self.limit,
            in_flight=slot.held,
            known_good=self.known_good,
        )
        return True

    def named(self, slot: Slot, limit: int) -> bool:
        """A 429 naming the lane's cap `limit` for the request of `slot`; True when it
        changed the cap. With more than `limit` in flight (this one included) the cap is
        `limit`; with fewer, another client holds the rest and the cap is one below what we
        held."""
        self.ceiling = min(self.ceiling, limit)
        self.named_limit = limit
        if slot.held <= limit and slot.epoch != self._epoch:
            return False  # a burst already answered
        target = limit if slot.held > limit else max(1, slot.held - 1)
        if target >= self.limit:
            return False  # the cap is there already
        self._epoch += 1
        self.decreases += 1
        self._successes = 0
        self.known_good = target
        self.limit = min(self.limit, target)
        self.lowest = min(self.lowest, self.limit)
        log.info(
            "inflight_cap_named", kind=self.kind, cap=self.limit, named=limit, in_flight=slot.held
        )
        return True

    def state(self) -> dict[str, Any]:
        return {
            "cap": self.limit,
            "ceiling": self.ceiling,
            "lowest": self.lowest,
            "peak_in_flight": self.peak,
            "decreases": self.decreases,
            "known_good": self.known_good,
        }
