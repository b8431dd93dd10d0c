"""The portal's lease (engine/lease.py): who holds a portal is decided on the portal, so two
runners with their own clients agree every time; a stale or dead holder is taken over; a
holder whose marker was taken over learns it at its next beat."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.models import DatedFolder, api_time
from bulk_onboard.cli.output import EXIT_ABORTED, exit_code
from bulk_onboard.config import PORTAL_LEASE_ENV, Settings, lease_wanted
from bulk_onboard.engine import lease, modes
from bulk_onboard.engine.lease import (
    LeaseTiming,
    Marker,
    PortalLease,
    judge,
    marker_title,
    process_gone,
    read_marker,
)
from bulk_onboard.engine.pool import Stop
from bulk_onboard.errors import RunLocked
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.engine.conftest import write_population
from tests.helpers import admin, seeded_sandbox, settings_for

FAST = LeaseTiming(refresh_every=0.05, stale_after=60.0, settle=0.0)


@pytest.fixture(autouse=True)
def portal_lease_on(portal_lease_off: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """These runs take the portal's lease, as runs do outside the tests."""
    monkeypatch.setenv(PORTAL_LEASE_ENV, "on")


def _marker(folder_id: int, updated: float, beat: int | str = 1, pid: int = 7) -> Marker:
    title = marker_title(f"run{folder_id}", "host-a", pid, "20261206T220000Z", beat)
    found = read_marker(DatedFolder(folder_id, title, updated - 1, updated))
    assert found is not None
    return found


def test_a_marker_title_reads_back() -> None:
    title = marker_title("20261206-220000-123ab", "cron.example", 4242, "20261206T220000Z", 3)
    assert len(title) <= 165 and ":" not in title  # the portal would replace a ':'
    marker = read_marker(DatedFolder(9, title, 1.0, 2.0))
    assert marker is not None and (marker.run_id, marker.host, marker.pid) == (
        "20261206-220000-123ab",
        "cron.example",
        4242,
    )
    assert marker.describe() == (
        "run 20261206-220000-123ab, pid 4242 on cron.example, started 2026-12-06 22:00:00 UTC"
    )
    assert read_marker(DatedFolder(9, "Invoices", 1.0, 2.0)) is None
    ended = read_marker(DatedFolder(9, marker.ended_title, 1.0, 2.0))
    assert ended is not None and ended.ended


def test_the_lowest_live_marker_holds_and_stale_ones_are_taken_over() -> None:
    now = 1000.0
    markers = [_marker(5, now - 200), _marker(7, now - 10), _marker(9, now)]
    verdict = judge(markers, own_id=9, now=now, stale_after=180)
    assert verdict.holder is not None and verdict.holder.folder.id == 7
    assert [m.folder.id for m in verdict.stale] == [5]
    # an ended marker never counts; ours is never stale; a dead one is taken over at once
    ended = judge([_marker(3, now, beat="end"), _marker(9, now - 500)], 9, now, 180)
    assert ended.holder is not None and ended.holder.folder.id == 9 and ended.stale == ()
    dead = judge(markers, 9, now, 180, dead=lambda m: m.folder.id == 7)
    assert dead.holder is not None and dead.holder.folder.id == 9
    assert [m.folder.id for m in dead.stale] == [5, 7]


@pytest.fixture
async def portal() -> AsyncIterator[Sandbox]:
    async with start_sandbox(SandboxConfig(db=":memory:", fileop_ms=0)) as sb:
        yield sb


async def _race(settings: Settings, clients: list[DocSpaceClient], round_: int) -> int:
    leases = [
        PortalLease(c, settings.portal_url, f"r{round_}-{i}", timing=FAST, host=f"h{i}")
        for i, c in enumerate(clients)
    ]
    results = await asyncio.gather(*(lease.take() for lease in leases), return_exceptions=True)
    winners = [lease for lease, result in zip(leases, results, strict=True) if result is None]
    assert len(winners) == 1, results
    for result in results:
        if isinstance(result, RunLocked):
            assert f"run {winners[0].run_id}," in str(result)
        else:
            assert result is None, result
    await winners[0].release()
    return len(winners)


async def test_two_runners_racing_agree_on_one_holder_every_time(
    portal: Sandbox, tmp_path: Path
) -> None:
    settings = settings_for(portal, tmp_path)
    async with DocSpaceClient(settings) as first, DocSpaceClient(settings) as second:
        wins = [await _race(settings, [first, second], n) for n in range(100)]
        assert wins == [1] * 100
        left = await first.my_documents()
    assert [f.title for f in left.folders if "beat=end" not in f.title] == []


async def test_a_stale_holder_is_taken_over_and_learns_it_at_its_next_beat(
    portal: Sandbox, tmp_path: Path
) -> None:
    settings = settings_for(portal, tmp_path)
    quick = LeaseTiming(refresh_every=0.1, stale_after=0.4, settle=0.0)
    async with DocSpaceClient(settings) as old_client, DocSpaceClient(settings) as new_client:
        old = PortalLease(old_client, settings.portal_url, "old-run", timing=quick, host="cron")
        await old.take()
        await asyncio.sleep(0.5)  # no beat: stale by the portal's clock
        new = PortalLease(new_client, settings.portal_url, "new-run", timing=quick, host="laptop")
        await new.take()
        lost: list[str] = []
        await asyncio.wait_for(old.keep(lost.append), 5)
        assert lost == ["portal lease lost: another run took the portal over"]
        held = [f.title for f in (await new_client.my_documents()).folders]
        assert held == [new.title]
        await new.release()


async def test_a_holder_that_beats_stays_held(portal: Sandbox, tmp_path: Path) -> None:
    settings = settings_for(portal, tmp_path)
    quick = LeaseTiming(refresh_every=0.1, stale_after=0.6, settle=0.0)
    async with DocSpaceClient(settings) as one, DocSpaceClient(settings) as other:
        holder = PortalLease(one, settings.portal_url, "holder", timing=quick, host="cron")
        await holder.take()
        lost: list[str] = []
        beats = asyncio.create_task(holder.keep(lost.append))
        await asyncio.sleep(0.8)  # longer than stale_after: only the beats keep it fresh
        second = PortalLease(other, settings.portal_url, "second", timing=quick, host="laptop")
        with pytest.raises(RunLocked, match="run holder, pid"):
            await second.take()
        beats.cancel()
        assert lost == [] and holder.beat >= 4
        await holder.release()


def test_the_portals_times_read_in_any_zone() -> None:
    assert api_time("2026-12-06T22:43:02.7857590Z") == pytest.approx(1796596982.785759)
    assert api_time("2026-12-07T01:43:02.7857590+03:00") == pytest.approx(1796596982.785759)
    assert api_time("2026-12-06T22:43:02") is None  # no zone: not the portal's
    assert api_time("yesterday") is None and api_time(None) is None


async def test_a_run_whose_lease_is_taken_over_stops_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease, "TIMING", LeaseTiming(refresh_every=0.1, stale_after=30.0))
    files = write_population(tmp_path / "in", 40, 0)
    intake = load_intake(list(files[:1]), load_playbook(None))
    async with seeded_sandbox(SandboxConfig(db=":memory:", latency_ms=20, fileop_ms=0)) as sb:
        settings = settings_for(sb, tmp_path / "reports", rate=60.0)
        stop = Stop()
        running = asyncio.create_task(
            modes.start(settings, intake, progress=NoProgress(), stop=stop)
        )
        async with DocSpaceClient(settings) as other:  # another runner takes the marker over
            for _ in range(200):
                markers = [f for f in (await other.my_documents()).folders if read_marker(f)]
                if markers and (await admin(sb, "GET", "/sandbox/audit"))["counts"]["rooms"] > 2:
                    break
                await asyncio.sleep(0.02)
            assert await other.remove_folder(markers[0].id)
        summary = await asyncio.wait_for(running, 30)
    assert stop.reason == "portal lease lost: another run took the portal over"
    assert exit_code(summary) == EXIT_ABORTED
    statuses = summary.statuses
    assert statuses["interrupted"] > 0 and statuses["created"] < 40 and statuses["failed"] == 0


def test_the_environment_may_switch_the_lease_off() -> None:
    assert lease_wanted({}) and lease_wanted({PORTAL_LEASE_ENV: "on"})
    assert not any(lease_wanted({PORTAL_LEASE_ENV: v}) for v in ("off", "OFF ", "no", "0"))


async def test_a_marker_of_a_process_gone_from_this_host_is_taken_over_at_once(
    portal: Sandbox, tmp_path: Path
) -> None:
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await child.wait()
    assert process_gone(child.pid) and not process_gone(os.getpid())
    settings = settings_for(portal, tmp_path)
    async with DocSpaceClient(settings) as client:
        far = PortalLease(client, settings.portal_url, "far-run", timing=FAST, host="far-host")
        far.pid = child.pid  # the same pid on another host says nothing of that run
        await far.take()
        with pytest.raises(RunLocked, match="run far-run, pid"):
            await PortalLease(client, settings.portal_url, "waits", timing=FAST).take()
        await far.release()
        killed = PortalLease(client, settings.portal_url, "killed", timing=FAST)
        killed.pid = child.pid  # a run of this host, killed
        await killed.take()
        resumed = PortalLease(client, settings.portal_url, "resumed", timing=FAST)
        await resumed.take()  # at once: no wait for the marker to go stale
        await resumed.release()


async def test_the_leases_beats_share_the_runs_places_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portal counts the run's writes and its lease's beats together (15 in flight per
    API user): a beat waits for one of the run's places instead of being refused while the
    run's writes fill them (each refusal also lowered the run's own cap)."""
    monkeypatch.setattr(lease, "TIMING", LeaseTiming(refresh_every=0.1, stale_after=60.0))
    files = write_population(tmp_path / "in", 30, 0)
    intake = load_intake(list(files[:1]), load_playbook(None))
    config = SandboxConfig(db=":memory:", latency_ms=150, fileop_ms=0, rate_limit=True)
    async with seeded_sandbox(config) as sb:
        settings = settings_for(sb, tmp_path / "reports", rate=None)
        summary = await modes.start(settings, intake, progress=NoProgress(), stop=Stop())
        counted = await admin(sb, "GET", "/sandbox/requests")
    assert exit_code(summary) == 0
    assert counted["peakInflight"]["write"] == 15  # the run's writes filled the places
    assert summary.document["requests"]["lease_requests"] >= 5  # beats all along
    assert counted["rejected"]["concurrency"] == 0, counted["rejected"]


async def test_the_leases_beats_spend_the_runs_window_not_behind_its_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portal's window counts the lease's beats with the run's requests: one pacer keeps
    both within it. With a pacer of its own, the lease's client grew its rate against a window
    the run's requests filled, and was refused again and again."""
    monkeypatch.setattr(lease, "TIMING", LeaseTiming(refresh_every=0.1, stale_after=60.0))
    files = write_population(tmp_path / "in", 30, 0)
    intake = load_intake(list(files[:1]), load_playbook(None))
    config = SandboxConfig(
        db=":memory:", latency_ms=5, fileop_ms=0, rate_limit=True, window_limit=60,
        window_seconds=1.0,
    )  # fmt: skip
    async with seeded_sandbox(config) as sb:
        settings = settings_for(sb, tmp_path / "reports", rate=None, rate_window=1.0)
        summary = await modes.start(settings, intake, progress=NoProgress(), stop=Stop())
        counted = await admin(sb, "GET", "/sandbox/requests")
    assert exit_code(summary) == 0
    assert summary.document["requests"]["lease_requests"] >= 5
    # the first wall and a probe or two (apart, the pacers refused 766 of 1,021)
    assert counted["rejected"]["window"] <= 0.1 * counted["total"], counted
