"""A stop that waits for uncertain writes says how many and for how long: on the progress bar,
and as `stop_waiting` log lines (JSON logs). Over real HTTP: a room create applied but answered
with a dropped connection, then Ctrl-C; the run waits for that write, then ends."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from bulk_onboard.cli.progress import BarProgress, LogProgress, show_stop_waits, waiting_text
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress
from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import MARIA, last_run, report_rows, write_clients
from tests.helpers import FakeClock, admin, assert_clean, settings_for

WINDOW = 2  # --request-timeout: how long the lost write may land


def test_the_waiting_text_counts_writes_and_whole_seconds() -> None:
    assert waiting_text(3, 57.2) == (
        "waiting up to 58 s to see whether 3 writes landed; Ctrl-C again to stop now"
    )
    assert waiting_text(1, 4.0).startswith("waiting up to 4 s to see whether 1 write landed")


async def test_the_countdown_reads_the_deadlines_the_run_holds() -> None:
    clock, stop = FakeClock(), Stop()
    deadlines = [clock.now + 10.0, clock.now + 30.0]
    stop.uncertain = lambda: list(deadlines)
    shown: list[tuple[int, float]] = []

    class Display(LogProgress):
        def stopping(self, writes: int, seconds: float) -> None:
            shown.append((writes, seconds))
            clock.advance(5.0)
            if len(shown) == 2:
                deadlines.pop(0)  # the first write settled
            if len(shown) == 3:
                stop.request("second")
                stop.request("second")

    stop.request("signal SIGINT")
    await asyncio.wait_for(show_stop_waits(stop, Display(), every=0, clock=clock), 1)
    assert shown == [(2, 30.0), (2, 25.0), (1, 20.0)]


def test_the_progress_bar_line_says_what_the_stop_waits_for() -> None:
    screen = StringIO()
    bar = BarProgress(Console(file=screen, force_terminal=True, width=240))
    bar.start(4)
    bar.stopping(3, 57.2)
    bar.close()
    assert waiting_text(3, 57.2) in screen.getvalue()


@pytest.mark.e2e
async def test_a_stop_waits_for_a_lost_write_and_says_so(sandbox: Sandbox, tmp_path: Path) -> None:
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    late = {"fault": "late_drop", "method": "POST", "regex": r"/api/2\.0/files/rooms$", "ms": 1000}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [late]})
    env = {**os.environ, "DOCSPACE_TOKEN": sandbox.token, "DOCSPACE_URL": sandbox.url}
    reports = tmp_path / "reports"
    args = ["--report-dir", str(reports), "--log-format", "json", "--request-timeout", str(WINDOW)]
    run = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bulk_onboard", "run", str(sheet), *args),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(300):  # the room's create went out and its answer was lost
        script = (await admin(sandbox, "GET", "/sandbox/faults"))["script"]
        if not script:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # the look at once found nothing: the row waits
    run.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(run.communicate(), 30)
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    waits = [line for line in lines if line["event"] == "stop_waiting"]
    assert waits, err.decode()
    assert waits[0]["writes"] == 1 and 0 < waits[0]["waits_s"] <= WINDOW, waits
    assert "to see whether 1 write landed; Ctrl-C again" in waits[0]["message"]
    assert run.returncode == 3, err.decode()  # stopped
    row = report_rows(last_run(reports))["K-1"]
    assert row["status"] == "created", row  # the room landed late and counts as this run's
    await assert_clean(sandbox)


@pytest.mark.e2e
async def test_a_second_stop_ends_the_waiting_rows_at_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sheet = write_clients(tmp_path / "clients.csv", [("K-1", "Acme", "it@acme.example", MARIA)])
    dropped = {"fault": "drop", "method": "POST", "regex": r"/api/2\.0/files/rooms$"}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [dropped]})
    stop, reports = Stop(), tmp_path / "reports"
    settings = settings_for(sandbox, reports, request_timeout=30.0)

    async def stop_twice() -> None:
        while not stop.uncertain():  # the room's create is lost and waits for its window
            await asyncio.sleep(0.02)
        stop.request("signal SIGINT")
        await asyncio.sleep(0.3)
        assert stop.uncertain(), "a first stop waits"
        stop.request("signal SIGINT")

    intake = load_intake([sheet], load_playbook(None))
    started = time.monotonic()
    asker = asyncio.create_task(stop_twice())
    summary = await modes.start(settings, intake, sources=[sheet], progress=NoProgress(), stop=stop)
    await asker
    assert time.monotonic() - started < 10  # not the 30 s window
    assert summary.stopped is not None
    assert report_rows(last_run(reports))["K-1"]["status"] == "interrupted"
