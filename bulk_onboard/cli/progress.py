"""How a run shows its progress: a live bar on a terminal, plain periodic log lines otherwise."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import (
    Progress as RichProgressBar,
)

from bulk_onboard.engine.pool import Stop
from bulk_onboard.runs.progress import Progress
from bulk_onboard.runs.report import OK_STATUSES, Status

log = structlog.get_logger("bulk_onboard")

# The statuses counted apart, as the run's summary line names them.
NOT_OK = (Status.FAILED, Status.INVALID, Status.INTERRUPTED, Status.DEFERRED, Status.SKIPPED)


def not_ok_counts(counts: Counter[str]) -> dict[str, int]:
    return {status.value: counts[status.value] for status in NOT_OK}


class Work:
    """Rows done plus the people phase of user rows, for an ETA that is sensible from the
    start: user rows finish only after their memberships, late in the run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.total = 0
        self.done = 0
        self.started = clock()

    def start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, self.clock()

    def eta(self) -> float | None:
        elapsed = self.clock() - self.started
        if self.done <= 0 or elapsed <= 0:
            return None
        return max(self.total - self.done, 0) / (self.done / elapsed)


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def counts_text(counts: Counter[str]) -> str:
    """ "2 failed, 1 invalid" (only those that happened), or "0 failed"."""
    parts = [f"{n} {status}" for status, n in not_ok_counts(counts).items() if n]
    return ", ".join(parts) or "0 failed"


class BarProgress:
    """rich progress bar: rows done, rate, ETA, and the rows failed, invalid, interrupted and
    deferred, each counted apart as the summary counts them."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._bar = RichProgressBar(
            TextColumn("[bold]onboarding"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:.1f} rows/s"),
            TextColumn("[red]{task.fields[problems]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("[yellow]{task.fields[note]}"),
            console=self._console,
            transient=False,
        )
        self._task: Any = None
        self._counts: Counter[str] = Counter()
        self._done = 0
        self._started = time.monotonic()
        self._work = Work()

    def start(self, total: int, extra_work: int = 0) -> None:
        self._started = time.monotonic()
        self._work.start(total + extra_work)
        self._bar.start()
        self._task = self._bar.add_task(
            "rows", total=total, problems="0 failed", rate=0.0, eta=eta_text(None), note=""
        )

    def work_done(self) -> None:
        self._work.done += 1
        self._bar.update(self._task, eta=eta_text(self._work.eta()))

    def row_done(self, status: Status) -> None:
        self._done += 1
        self._work.done += 1
        self._counts[status.value] += 1
        rate = self._done / max(time.monotonic() - self._started, 1e-6)
        self._bar.update(
            self._task,
            advance=1,
            problems=counts_text(self._counts),
            rate=rate,
            eta=eta_text(self._work.eta()),
        )

    def row_changed(self, old: Status, new: Status) -> None:
        self._counts[old.value] -= 1
        self._counts[new.value] += 1
        self._bar.update(self._task, problems=counts_text(self._counts))

    def stopping(self, writes: int, seconds: float) -> None:
        """A stop waits for `writes` uncertain writes, `seconds` at most: said on the bar."""
        if self._task is not None:
            self._bar.update(self._task, note=waiting_text(writes, seconds) if writes else "")

    def close(self) -> None:
        self._bar.stop()


class LogProgress:
    """A `progress` log line at most every `every` seconds, and one at the end."""

    def __init__(self, every: float = 5.0, clock: Any = time.monotonic) -> None:
        self._every = every
        self._clock = clock
        self._total = 0
        self._counts: Counter[str] = Counter()
        self._started = clock()
        self._last = self._started
        self._work = Work(clock)
        self._waiting, self._waiting_said = 0, self._started  # what a stop waits for, said when

    def start(self, total: int, extra_work: int = 0) -> None:
        self._total = total
        self._started = self._last = self._clock()
        self._work.start(total + extra_work)

    def work_done(self) -> None:
        self._work.done += 1

    def row_changed(self, old: Status, new: Status) -> None:
        self._counts[old.value] -= 1
        self._counts[new.value] += 1

    def row_done(self, status: Status) -> None:
        self._counts[status.value] += 1
        self._work.done += 1
        now = self._clock()
        if now - self._last >= self._every:
            self._last = now
            self._emit(now)

    def _emit(self, now: float) -> None:
        done = sum(self._counts.values())
        elapsed = max(now - self._started, 1e-6)
        rate = done / elapsed
        eta = self._work.eta() if done < self._total else 0.0
        log.info(
            "progress",
            done=done,
            total=self._total,
            rows_per_second=round(rate, 2),
            eta_seconds=round(eta, 1) if eta is not None else None,
            ok=sum(n for s, n in self._counts.items() if Status(s) in OK_STATUSES),
            **not_ok_counts(self._counts),
        )

    def stopping(self, writes: int, seconds: float) -> None:
        """A stop waits for `writes` uncertain writes, `seconds` at most: a `stop_waiting`
        line when the count changes, and every `every` seconds while it waits."""
        now = self._clock()
        if writes == self._waiting and (not writes or now - self._waiting_said < self._every):
            return
        self._waiting, self._waiting_said = writes, now
        log.info(
            "stop_waiting",
            writes=writes,
            waits_s=math.ceil(seconds) if writes else 0,
            message=waiting_text(writes, seconds) if writes else "no write left to wait for",
        )

    def close(self) -> None:
        self._emit(self._clock())


def waiting_text(writes: int, seconds: float) -> str:
    """ "waiting up to 58 s to see whether 3 writes landed; Ctrl-C again to stop now" """
    noun = "write" if writes == 1 else "writes"
    return (
        f"waiting up to {math.ceil(seconds)} s to see whether {writes} {noun} landed; "
        "Ctrl-C again to stop now"
    )


async def show_stop_waits(
    stop: Stop,
    display: BarProgress | LogProgress,
    every: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """While a first stop lets the rows waiting on uncertain writes see whether they landed:
    how many writes, and until the last of them may land, counted down every `every` s."""
    while stop.requests < 2:
        now = clock()
        deadlines = stop.uncertain()
        display.stopping(len(deadlines), max((d - now for d in deadlines), default=0.0))
        await asyncio.sleep(every)
    if isinstance(display, BarProgress):
        display.stopping(0, 0.0)  # stopped now: the second request's line says what happens


@contextmanager
def stop_waits_shown(stop: Stop, progress: Progress) -> Iterator[None]:
    """From the first Ctrl-C (or SIGTERM) on, the writes the stop waits for are shown on
    `progress` (a bar, or log lines) until the block ends."""
    tasks: list[asyncio.Task[None]] = []

    def started(stop: Stop, reason: str) -> None:
        display = progress if isinstance(progress, BarProgress | LogProgress) else None
        if display is not None and not tasks and reason.startswith("signal"):
            tasks.append(asyncio.get_running_loop().create_task(show_stop_waits(stop, display)))

    stop.on_request(started)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
