"""The run's time series: per second, merged into wider buckets for a long run, with the
most writes in flight, 429s, retries, phases and the time each step spent on the wire."""

from __future__ import annotations

import json

from structlog.contextvars import bound_contextvars

from bulk_onboard.api import metering
from bulk_onboard.runs.timeline import MAX_BUCKETS, Timeline
from tests.helpers import FakeClock


def test_seconds_count_attempts_writes_in_flight_429s_and_retries() -> None:
    clock = FakeClock(100.0)
    line = Timeline(clock=clock)
    line.phase("people")
    with metering.watching(line), bound_contextvars(row="client:C-1", step="room"):
        for _ in range(3):
            line.attempt_started("POST")
        clock.now += 0.5
        line.attempt_ended("POST", 201, 0.5)
        line.attempt_ended("POST", 429, 0.4)
        line.retried()
        clock.now += 1.0  # second 1: one write still in flight, nothing else
        line.phase("clients")
        clock.now += 1.0  # second 2
        line.attempt_started("GET")
        line.attempt_ended("GET", 200, 2.0)
        line.attempt_ended("POST", None, 2.5)  # no answer: an error
    data = line.as_dict()
    assert data["bucket_seconds"] == 1
    assert data["requests_per_second"] == [3.0, 0.0, 1.0]
    assert data["writes_in_flight"] == [3, 3, 1]
    assert data["rate_limited"] == [1, 0, 0]
    assert data["retries"] == [1, 0, 0]
    assert data["errors"] == [0, 0, 1]
    assert data["phases"] == [
        {"name": "people", "start_s": 0.0, "end_s": 1.5},
        {"name": "clients", "start_s": 1.5, "end_s": 2.5},
    ]
    assert data["steps"][0] == {
        "step": "room",
        "attempts": 4,
        "seconds": 5.4,
        "mean_s": 1.35,
        "slowest_s": 2.5,
        "slowest_row": "client:C-1",
    }


def test_a_long_run_stays_small() -> None:
    clock = FakeClock(100.0)
    line = Timeline(clock=clock)
    for _ in range(7200):  # two hours, a request every second
        line.attempt_started("GET")
        line.attempt_ended("GET", 200, 0.05)
        clock.now += 1.0
    data = line.as_dict()
    assert data["bucket_seconds"] == 13
    assert len(data["requests_per_second"]) <= MAX_BUCKETS
    assert abs(sum(data["requests_per_second"]) * 13 - 7200) < 10  # rates to 2 decimals
    assert len(json.dumps(data)) < 20_000
