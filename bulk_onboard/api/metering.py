"""Per-task request meters: which row spent how many requests.

The caller opens `metered(Meter())` around a row's work; every request the client sends from
that task (and from tasks it starts) is counted on that meter, so the report can say what each
row cost without the client knowing what a row is.

Watchers (`watching(...)`) are told of every attempt: when it starts and ends, its status, and
each retry, for the run's time series (requests a second, writes in flight, 429s, retries).
They belong to the run that set them (a ContextVar), not to the process: runs at once in one
process each see their own requests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from bulk_onboard.logs import carry, follow


@dataclass
class Meter:
    requests: int = 0  # calls, as the caller made them
    attempts: int = 0  # what was sent on the wire, retries included


_current: ContextVar[Meter | None] = ContextVar("bulk_onboard_meter", default=None)


@contextmanager
def metered(meter: Meter) -> Iterator[Meter]:
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)


def count_request() -> None:
    meter = _current.get()
    if meter is not None:
        meter.requests += 1


def count_attempt() -> None:
    meter = _current.get()
    if meter is not None:
        meter.attempts += 1


# ---- watchers: the run's time series (runs/timeline.py) ----------------------------------


class Watcher(Protocol):
    """Told of every attempt the client sends, whichever task sends it."""

    def attempt_started(self, method: str) -> None: ...

    def attempt_ended(self, method: str, status: int | None, seconds: float) -> None: ...

    def retried(self) -> None: ...


# the run's watchers: tasks the run starts inherit them, another run's tasks do not see them
_watchers: ContextVar[tuple[Watcher, ...]] = carry(ContextVar("bulk_onboard_watchers"))


@contextmanager
def watching(watcher: Watcher) -> Iterator[Watcher]:
    """Tell `watcher` of every attempt sent from this context while the block runs (the tasks
    it starts included, those in a context of their own too: logs.carry)."""
    follow()
    token = _watchers.set((*_watchers.get(()), watcher))
    try:
        yield watcher
    finally:
        _watchers.reset(token)


@dataclass
class Sent:
    status: int | None = None  # the HTTP status, None when no answer came


@contextmanager
def sending(method: str) -> Iterator[Sent]:
    """Around one attempt on the wire: counted on the task's meter and told to the watchers."""
    count_attempt()
    sent = Sent()
    watchers = _watchers.get(())
    for watcher in watchers:
        watcher.attempt_started(method)
    started = time.monotonic()
    try:
        yield sent
    finally:
        for watcher in watchers:
            watcher.attempt_ended(method, sent.status, time.monotonic() - started)


def count_retry() -> None:
    for watcher in _watchers.get(()):
        watcher.retried()
