"""An item that waits lends its worker: the item waits, the pool does not. Unit tests of the
pool, then a run whose first room create loses its answer while the other rows go on."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from bulk_onboard.cli.output import exit_code
from bulk_onboard.engine import modes
from bulk_onboard.engine.phases import Progress
from bulk_onboard.engine.pool import Pool, Stop, idle
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import MARIA, portal_state, rooms_of, write_clients
from tests.helpers import admin, assert_clean, settings_for


def _pool(work, done: list[int], concurrency: int = 1) -> Pool[int, None]:  # type: ignore[no-untyped-def]
    return Pool(
        work,
        concurrency=concurrency,
        stop=Stop(),
        on_done=lambda item, _: done.append(item),
        on_skipped=lambda item: None,
        on_cancelled=lambda item: None,
    )


async def test_an_idle_item_lends_its_worker_to_the_next_items() -> None:
    done: list[int] = []
    busy, peak = 0, 0

    async def work(item: int) -> None:
        nonlocal busy, peak
        if item == 0:
            await idle(0.3)  # e.g. waiting to look again for a write whose answer was lost
        busy += 1
        peak = max(peak, busy)
        await asyncio.sleep(0.01)
        busy -= 1

    pool = _pool(work, done)
    await pool.run(range(6))
    assert done == [1, 2, 3, 4, 5, 0]  # the others did not wait for it
    assert pool.lent == 1
    assert peak == 1  # still one item at work at a time


async def test_without_a_pool_idle_is_a_plain_wait() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    await idle(0.05)
    assert loop.time() - start >= 0.04


async def test_a_lent_worker_goes_when_the_item_is_back() -> None:
    done: list[int] = []
    started: list[int] = []

    async def work(item: int) -> None:
        started.append(item)
        if item == 0:
            await idle(0.05)
        else:
            await asyncio.sleep(0.04)

    pool = _pool(work, done)
    await pool.run(range(5))
    assert sorted(done) == [0, 1, 2, 3, 4]
    # item 0 was back after the lent worker's first or second item: from then on one worker
    assert pool.lent == 1 and done.index(0) <= 2


@pytest.mark.e2e
async def test_a_row_looking_again_does_not_hold_up_the_other_rows(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """One row at a time: the first room's create is dropped (nothing made), so that row
    looks again over the request timeout (4 s); meanwhile the other rows are done."""
    script = [{"fault": "drop", "method": "POST", "path": "/api/2.0/files/rooms", "times": 1}]
    await admin(sandbox, "POST", "/sandbox/faults", {"script": script})
    rows = [(f"K-{n}", f"Client {n}", f"c{n}@x.example", MARIA) for n in range(1, 6)]
    intake = load_intake([write_clients(tmp_path / "clients.csv", rows)], load_playbook(None))
    settings = replace(
        settings_for(sandbox, tmp_path / "reports", concurrency=1), request_timeout=4.0
    )
    outcome = await modes.start(settings, intake, progress=Progress(), stop=Stop())
    assert exit_code(outcome) == 0
    assert {r.status.value for r in outcome.results} == {"created"}
    journal = (outcome.run_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    rooms = [line["row"] for line in map(json.loads, journal) if line["step"] == "room"]
    assert rooms == ["client:K-2", "client:K-3", "client:K-4", "client:K-5", "client:K-1"]
    await assert_clean(sandbox)
    state = await portal_state(sandbox)
    assert [len(rooms_of(state, f"K-{n}")) for n in range(1, 6)] == [1, 1, 1, 1, 1]
