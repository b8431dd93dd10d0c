"""Shared limits of one run: the pause gate a 429 closes for everyone, and the run counters.

The pacer (pacing.py), the in-flight caps (inflight.py) and the outage gate (outage.py) live
on the transport; the gate here is the "resume at" time every attempt checks before it is
sent, so a 429 that says "wait" stops all callers, not just the one that received it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from bulk_onboard.backoff import Clock, Sleep

log = structlog.get_logger("bulk_onboard.api")


class Throttle(Protocol):
    """What the transport needs from a rate limiter (pacing.Pacer is the run's own)."""

    async def acquire(self) -> float | None: ...


@dataclass(slots=True)
class ClientStats:
    """Counters for the run summary. `requests` counts calls by 'METHOD action'."""

    requests: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    answers: int = 0  # attempts the portal answered (any HTTP status)
    retries: int = 0
    rate_limited: int = 0  # 429 answers
    concurrency_refusals: int = 0  # of them from the concurrency limiter (or without headers)
    window_refusals: int = 0  # of them from the sliding window the pacer keeps to
    pauses: int = 0  # times the whole run was paused by a 429
    paused_seconds: float = 0.0
    ambiguous_writes: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # final errors by class name
    bytes_sent: int = 0
    bytes_received: int = 0
    limits: Callable[[], dict[str, object]] | None = None  # the transport's limits, at the end

    def as_dict(self) -> dict[str, object]:
        return {
            "total": sum(self.requests.values()),  # calls made, retries not counted
            "by_call": dict(sorted(self.requests.items())),
            "attempts": self.attempts,
            "answers": self.answers,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "concurrency_refusals": self.concurrency_refusals,
            "window_refusals": self.window_refusals,
            "pauses": self.pauses,
            "paused_seconds": round(self.paused_seconds, 3),
            "ambiguous_writes": self.ambiguous_writes,
            "failures": dict(sorted(self.failures.items())),
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            **({"limits": self.limits()} if self.limits is not None else {}),
        }


class PauseGate:
    """'Resume at' time shared by every request of a run.

    `pause(seconds)` moves the resume time later (never earlier); `wait()` returns once the
    resume time has passed. Pausing an open gate is logged once as `run_paused`, and the first
    caller through afterwards logs `run_resumed`.
    """

    def __init__(self, *, clock: Clock, sleep: Sleep, stats: ClientStats) -> None:
        self._clock = clock
        self._sleep = sleep
        self._stats = stats
        self._resume_at = -math.inf
        self._announced = False
        self.epoch = 0  # bumped whenever a pause starts or is extended

    @property
    def paused(self) -> bool:
        return self._clock() < self._resume_at

    def remaining(self) -> float:
        return max(0.0, self._resume_at - self._clock())

    def pause(self, seconds: float, *, reason: str) -> None:
        now = self._clock()
        target = now + max(0.0, seconds)
        if target <= self._resume_at:
            return
        self.epoch += 1
        if now >= self._resume_at:
            self._stats.pauses += 1
            self._stats.paused_seconds += target - now
            self._announced = True
            log.warning("run_paused", resume_in=round(target - now, 3), reason=reason)
        else:
            self._stats.paused_seconds += target - self._resume_at
        self._resume_at = target

    async def wait(self) -> None:
        while True:
            target = self._resume_at
            delay = target - self._clock()
            if delay <= 0:
                break
            await self._sleep(delay)
            if self._resume_at <= target:  # not extended meanwhile: done
                break
        if self._announced:
            self._announced = False
            log.info("run_resumed")
