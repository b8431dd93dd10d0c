"""Per-task request meters: which row spent how many requests.

The caller opens `metered(Meter())` around a row's work; every request the client sends from
that task (and from tasks it starts) is counted on that meter, so the report can say what each
row cost without the client knowing what a row is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


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
