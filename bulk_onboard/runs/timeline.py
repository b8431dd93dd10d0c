"""The run over time: what summary.json keeps and report.html draws.

A Timeline watches every attempt the portal client sends (api/metering.py `watching`) and
counts, per second since the run started: attempts sent, the most writes in flight at once,
429 answers and retries. The run marks its phases (guard, people, clients, memberships,
announcements). Each attempt's time on the wire is added to the step that sent it (the
step the structlog context names, as every log line does), so the report can say which steps
were slowest without keeping anything per row: memory grows with the run's seconds and its
step names, not with its rows.

`as_dict()` merges seconds into wider buckets so a long run stays small: at most
MAX_BUCKETS buckets (a 100,000-row run of two hours: buckets of 12 s, about 600 of them).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

MAX_BUCKETS = 600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_STEP = "(between steps)"  # listings shared by many rows, invitation batches


@dataclass
class _Second:
    attempts: int = 0
    writes_peak: int = 0
    rate_limited: int = 0
    retries: int = 0
    errors: int = 0  # attempts without an answer or answered 5xx


@dataclass
class _StepTime:
    attempts: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_row: str = ""


@dataclass
class Timeline:
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    seconds: dict[int, _Second] = field(default_factory=dict)
    phases: list[list[Any]] = field(default_factory=list)  # [name, start_s, end_s | None]
    steps: dict[str, _StepTime] = field(default_factory=dict)
    writes_now: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def _now(self) -> float:
        return self.clock() - self.started

    def _second(self) -> _Second:
        index = int(self._now())
        second = self.seconds.get(index)
        if second is None:
            second = self.seconds[index] = _Second(writes_peak=self.writes_now)
        return second

    # ---- metering.Watcher

    def attempt_started(self, method: str) -> None:
        second = self._second()
        second.attempts += 1
        if method not in SAFE_METHODS:
            self.writes_now += 1
            second.writes_peak = max(second.writes_peak, self.writes_now)

    def attempt_ended(self, method: str, status: int | None, seconds: float) -> None:
        if method not in SAFE_METHODS:
            self.writes_now = max(0, self.writes_now - 1)
        second = self._second()
        if status == 429:
            second.rate_limited += 1
        elif status is None or status >= 500:
            second.errors += 1
        bound = structlog.contextvars.get_contextvars()
        step = self.steps.setdefault(str(bound.get("step") or NO_STEP), _StepTime())
        step.attempts += 1
        step.seconds += seconds
        if seconds > step.slowest:
            step.slowest = seconds
            rows = bound.get("rows")
            step.slowest_row = str(bound.get("row") or (f"{rows} rows" if rows else ""))

    def retried(self) -> None:
        self._second().retries += 1

    # ---- the run's phases

    def phase(self, name: str) -> None:
        """`name` starts now; the phase before it ends."""
        now = round(self._now(), 3)
        if self.phases and self.phases[-1][2] is None:
            self.phases[-1][2] = now
        self.phases.append([name, now, None])

    def close(self) -> None:
        if self.phases and self.phases[-1][2] is None:
            self.phases[-1][2] = round(self._now(), 3)

    # ---- for summary.json

    def as_dict(self) -> dict[str, Any]:
        self.close()
        length = max([int(self._now()) + 1, *(i + 1 for i in self.seconds)])
        width = max(1, math.ceil(length / MAX_BUCKETS))
        return {
            "bucket_seconds": width,
            **self._buckets(length, width),
            "phases": [
                {"name": name, "start_s": start, "end_s": end} for name, start, end in self.phases
            ],
            "steps": self._steps_slowest_first(),
        }

    def _buckets(self, length: int, width: int) -> dict[str, list[Any]]:
        """The counts of the run's `length` seconds merged into buckets of `width` seconds."""
        buckets = math.ceil(length / width)
        attempts = [0] * buckets
        writes = [0] * buckets
        limited = [0] * buckets
        retries = [0] * buckets
        errors = [0] * buckets
        level = 0  # writes in flight carried over seconds without an attempt
        for index in range(length):
            second = self.seconds.get(index)
            b = index // width
            if second is None:
                writes[b] = max(writes[b], level)
                continue
            attempts[b] += second.attempts
            writes[b] = max(writes[b], second.writes_peak)
            limited[b] += second.rate_limited
            retries[b] += second.retries
            errors[b] += second.errors
            level = second.writes_peak
        return {
            "requests_per_second": [round(n / width, 2) for n in attempts],
            "writes_in_flight": writes,
            "rate_limited": limited,
            "retries": retries,
            "errors": errors,
        }

    def _steps_slowest_first(self) -> list[dict[str, Any]]:
        """Each step's attempts and time on the wire, the step with the slowest attempt first."""
        slowest = sorted(self.steps.items(), key=lambda item: -item[1].slowest)
        return [
            {
                "step": name,
                "attempts": t.attempts,
                "seconds": round(t.seconds, 3),
                "mean_s": round(t.seconds / t.attempts, 4) if t.attempts else 0.0,
                "slowest_s": round(t.slowest, 4),
                "slowest_row": t.slowest_row,
            }
            for name, t in slowest
        ]
