"""The generic pool: concurrency bound, every item accounted for, graceful and hard stops."""

from __future__ import annotations

import asyncio

import pytest

from bulk_onboard.engine.pool import Pool, Stop


class Ledger:
    def __init__(self) -> None:
        self.done: list[int] = []
        self.skipped: list[int] = []
        self.cancelled: list[int] = []

    def pool(self, work, concurrency: int, stop: Stop) -> Pool[int, int]:  # type: ignore[no-untyped-def]
        return Pool(
            work,
            concurrency=concurrency,
            stop=stop,
            on_done=lambda item, _: self.done.append(item),
            on_skipped=self.skipped.append,
            on_cancelled=self.cancelled.append,
        )

    def all(self) -> list[int]:
        return sorted(self.done + self.skipped + self.cancelled)


async def test_runs_every_item_with_bounded_concurrency() -> None:
    running = 0
    peak = 0

    async def work(item: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return item * 2

    ledger = Ledger()
    await ledger.pool(work, 4, Stop()).run(range(50))
    assert sorted(ledger.done) == list(range(50))
    assert peak == 4
    assert ledger.skipped == [] and ledger.cancelled == []


async def test_first_stop_drains_in_flight_and_skips_the_rest() -> None:
    stop = Stop()
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        if item == 5:
            stop.request("test")
        await asyncio.sleep(0.01)
        return item

    ledger = Ledger()
    await ledger.pool(work, 3, stop).run(range(100))
    assert ledger.all() == list(range(100))
    assert sorted(ledger.done) == sorted(started)  # every started item finished
    assert ledger.cancelled == []
    assert len(ledger.done) < 20


async def test_second_stop_cancels_in_flight_items() -> None:
    stop = Stop()
    release = asyncio.Event()

    async def work(item: int) -> int:
        if item == 2:
            stop.request("first")
            stop.request("second")
        await release.wait()
        return item

    ledger = Ledger()
    await asyncio.wait_for(ledger.pool(work, 3, stop).run(range(30)), timeout=5)
    assert ledger.all() == list(range(30))
    assert sorted(ledger.cancelled) == [0, 1, 2]
    assert ledger.done == []


async def test_a_bug_in_work_propagates() -> None:
    async def work(item: int) -> int:
        if item == 3:
            raise ZeroDivisionError("boom")
        return item

    ledger = Ledger()
    with pytest.raises(ExceptionGroup):
        await ledger.pool(work, 2, Stop()).run(range(10))
