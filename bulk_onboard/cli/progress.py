"""How a run shows its progress: a live bar on a terminal, plain periodic log lines otherwise."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as RichProgressBar,
)

from bulk_onboard.engine.phases import Progress
from bulk_onboard.runs.report import OK_STATUSES, Status

log = structlog.get_logger("bulk_onboard")


class BarProgress(Progress):
    """rich progress bar: rows done, rate, ETA, failures."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._bar = RichProgressBar(
            TextColumn("[bold]onboarding"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:.1f} rows/s"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._task: Any = None
        self._failed = 0
        self._done = 0
        self._started = time.monotonic()

    def start(self, total: int) -> None:
        self._started = time.monotonic()
        self._bar.start()
        self._task = self._bar.add_task("rows", total=total, failed=0, rate=0.0)

    def row_done(self, status: Status) -> None:
        self._done += 1
        if status not in OK_STATUSES:
            self._failed += 1
        rate = self._done / max(time.monotonic() - self._started, 1e-6)
        self._bar.update(self._task, advance=1, failed=self._failed, rate=rate)

    def close(self) -> None:
        self._bar.stop()


class LogProgress(Progress):
    """A `progress` log line at most every `every` seconds, and one at the end."""

    def __init__(self, every: float = 5.0, clock: Any = time.monotonic) -> None:
        self._every = every
        self._clock = clock
        self._total = 0
        self._counts: Counter[str] = Counter()
        self._started = clock()
        self._last = self._started

    def start(self, total: int) -> None:
        self._total = total
        self._started = self._last = self._clock()

    def row_done(self, status: Status) -> None:
        self._counts[status.value] += 1
        now = self._clock()
        if now - self._last >= self._every:
            self._last = now
            self._emit(now)

    def _emit(self, now: float) -> None:
        done = sum(self._counts.values())
        elapsed = max(now - self._started, 1e-6)
        rate = done / elapsed
        eta = (self._total - done) / rate if rate > 0 else None
        log.info(
            "progress",
            done=done,
            total=self._total,
            rows_per_second=round(rate, 2),
            eta_seconds=round(eta, 1) if eta is not None else None,
            failed=sum(n for s, n in self._counts.items() if Status(s) not in OK_STATUSES),
        )

    def close(self) -> None:
        self._emit(self._clock())
