"""Runs at once in one process keep apart what is theirs: each run's summary.json counts its
own requests (totals and timeline, the invitation batches' included), each run's repeated
warnings are counted apart, and a signal reaches every run that is listening."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import signal
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard import logs
from bulk_onboard.api import metering
from bulk_onboard.cli.options import read_intake
from bulk_onboard.cli.signals import stop_on_signals
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.runs.progress import NoProgress
from bulk_onboard.sandbox import Sandbox
from tests.helpers import CASES, SAMPLES, admin, seeded_sandbox, settings_for


async def _onboard(sb: Sandbox, files: tuple[Path, ...], where: Path) -> dict[str, Any]:
    settings = settings_for(sb, where / "reports", state_dir=where / "state")
    intake = read_intake(files, None, None)
    with logs.own_repeats():
        summary = await modes.start(
            settings, intake, progress=NoProgress(), stop=Stop(), sources=files
        )
    document: dict[str, Any] = json.loads((summary.run_dir / "summary.json").read_text())
    return document


def _timeline_attempts(timeline: dict[str, Any]) -> int:
    return round(sum(timeline["requests_per_second"]) * timeline["bucket_seconds"])


async def test_two_runs_at_once_each_count_only_their_own_requests(tmp_path: Path) -> None:
    async with seeded_sandbox() as one, seeded_sandbox() as two:
        first, second = await asyncio.gather(
            _onboard(one, (SAMPLES / "onboarding.xlsx",), tmp_path / "one"),
            _onboard(two, (CASES / "clients_utf8.csv",), tmp_path / "two"),
        )
        seen = [await admin(sb, "GET", "/sandbox/requests") for sb in (one, two)]
    received = [portal["total"] for portal in seen]
    assert received[0] != received[1]  # so a run counting the other's requests would show
    for document, total in zip((first, second), received, strict=True):
        assert document["requests"]["total"] == total
        timeline = document["timeline"]
        assert _timeline_attempts(timeline) == total
        assert sum(step["attempts"] for step in timeline["steps"]) == total
    # the sample's invitation batches are sent in a context of their own: still counted
    invited = seen[0]["byRoute"]["POST /api/2.0/people/invite"]
    assert invited >= 1
    assert first["requests"]["by_call"]["POST invite_users"] == invited


async def test_each_run_counts_its_repeated_warnings_apart() -> None:
    lines: list[str] = []

    class Sink:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    logs.configure(fmt="json", level="info", stream=Sink())  # type: ignore[arg-type]
    log = structlog.get_logger("bulk_onboard")

    async def run(name: str, times: int) -> None:
        with logs.own_repeats():
            for _ in range(times):
                log.warning("rate_limited", method="POST", error=name)
                await asyncio.sleep(0)

    await asyncio.gather(run("a", 3), run("b", 5))
    events = [json.loads(line) for line in "".join(lines).splitlines()]
    repeated = {e["error"]: e["repeated"] for e in events if "repeated" in e}
    assert repeated == {"a": 2, "b": 4}
    assert sum(1 for e in events if e["level"] == "warning") == 2


async def test_a_signal_reaches_every_run_listening_and_the_handler_goes_with_the_last() -> None:
    first, second = Stop(), Stop()
    loop = asyncio.get_running_loop()
    with stop_on_signals(first):
        with stop_on_signals(second):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):
                if first.requested and second.requested:
                    break
                await asyncio.sleep(0.01)
        assert (first.reason, second.reason) == ("signal SIGTERM", "signal SIGTERM")
        # the first run still listens once the second has ended
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):
            if first.requests == 2:
                break
            await asyncio.sleep(0.01)
        assert (first.requests, second.requests) == (2, 1)
    assert not loop.remove_signal_handler(signal.SIGTERM)  # none left installed


class _Counting:
    def __init__(self) -> None:
        self.started = 0

    def attempt_started(self, method: str) -> None:
        self.started += 1

    def attempt_ended(self, method: str, status: int | None, seconds: float) -> None:
        pass

    def retried(self) -> None:
        pass


async def test_a_task_started_in_a_context_of_its_own_is_still_the_runs() -> None:
    """As the invitation batches are: their requests count for the run that started them,
    and for no other run."""

    async def send() -> None:
        with metering.sending("POST"):
            await asyncio.sleep(0)

    async def one_run(watcher: _Counting) -> None:
        with metering.watching(watcher):
            loop = asyncio.get_running_loop()
            await loop.create_task(send(), context=contextvars.Context())

    mine, other = _Counting(), _Counting()
    await asyncio.gather(one_run(mine), one_run(other))
    assert (mine.started, other.started) == (1, 1)
    await asyncio.get_running_loop().create_task(send(), context=contextvars.Context())
    assert (mine.started, other.started) == (1, 1)
