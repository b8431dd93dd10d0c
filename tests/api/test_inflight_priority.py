"""Requests of background work (nothing waits for it yet) take a free place in flight only
while no other request waits for one."""

from __future__ import annotations

import asyncio
import contextvars

from bulk_onboard.api.inflight import BACKGROUND, InflightCap


async def test_a_waiting_request_goes_before_the_background() -> None:
    cap = InflightCap("writes", start=1, ceiling=1)
    order: list[str] = []

    async def take(name: str, background: bool) -> None:
        BACKGROUND.set(background)
        await cap.acquire()
        order.append(name)
        await cap.release()

    await cap.acquire()
    late = asyncio.create_task(take("background", True), context=contextvars.copy_context())
    await asyncio.sleep(0)
    first = asyncio.create_task(take("first", False), context=contextvars.copy_context())
    await asyncio.sleep(0)
    await cap.release()
    await asyncio.gather(late, first)
    assert order == ["first", "background"]


async def test_the_background_takes_a_free_place_when_nobody_waits() -> None:
    cap = InflightCap("writes", start=2, ceiling=2)
    BACKGROUND.set(True)
    slot = await asyncio.wait_for(cap.acquire(), 1)
    assert slot.held == 1
