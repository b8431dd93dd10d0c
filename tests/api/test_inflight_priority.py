"""Requests of the run's longest chain (FIRST) take a free place in flight before the other
requests waiting for one; with nobody of a higher priority waiting, anyone takes it."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from bulk_onboard.api.inflight import FIRST, NORMAL, PRIORITY, InflightCap


@pytest.mark.parametrize(
    ("came_first", "came_later", "order"),
    [
        (NORMAL, FIRST, ["later", "first"]),  # the longest chain overtakes
        (FIRST, NORMAL, ["first", "later"]),
        (NORMAL, NORMAL, ["first", "later"]),  # within a priority: as they came
    ],
)
async def test_a_waiting_request_of_the_longest_chain_goes_first(
    came_first: int, came_later: int, order: list[str]
) -> None:
    cap = InflightCap("writes", start=1, ceiling=1)
    went: list[str] = []

    async def take(name: str, priority: int) -> None:
        PRIORITY.set(priority)
        await cap.acquire()
        went.append(name)
        await cap.release()

    await cap.acquire()
    first = asyncio.create_task(take("first", came_first), context=contextvars.copy_context())
    await asyncio.sleep(0)
    later = asyncio.create_task(take("later", came_later), context=contextvars.copy_context())
    await asyncio.sleep(0)
    await cap.release()
    await asyncio.gather(first, later)
    assert went == order


async def test_a_normal_request_takes_a_free_place_when_nobody_waits() -> None:
    cap = InflightCap("writes", start=2, ceiling=2)
    slot = await asyncio.wait_for(cap.acquire(), 1)
    assert slot.held == 1
