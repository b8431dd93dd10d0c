"""The portal's lease: one run writes to a portal at a time, whatever machine it runs on.

The lease lives on the portal, where every runner sees it: a marker folder in the API user's
"My documents", titled `bulk-onboard-lease run=<id> host=<host> pid=<pid> since=<start> beat=<n>`.

    take     create our marker, then list the markers: the lowest folder id among the live
             ones holds the portal (ids come from the portal's one sequence, so two runners
             that both create, then list, agree on who came first). Listed again after a
             short settle, so that a lower id whose insert had not committed yet at the first
             listing is seen. A loser removes its marker and gets RunLocked naming the holder.
    hold     while the run works, a task renames the marker every `refresh_every` s (a new
             beat: the server stamps `updated` only when the title changes). Its own client,
             so the run's pacing never holds a beat back.
    stale    a marker whose `updated` is more than `stale_after` s older than our own
             marker's `created` (both the server's clock, never the runners') belongs to a run
             that died: it is taken over (ended and deleted) and the take-over logged. So is at
             once a marker of this host whose process is gone (a run killed here, then resumed).
    lost     a beat answered 404 (our marker was taken over), or no beat got through for
             `stale_after - refresh_every` s (another runner may take over now): `on_lost` is
             called and the run stops at once.
    release  the marker is renamed `beat=end`, then deleted, when the run ends. The portal
             deletes in a file operation, so a deleted marker may be listed a moment longer:
             an ended one is never counted. A loser's marker and a stale one end the same way.

"My documents" is per user: runners with different users' API keys see different markers and
do not exclude each other (docs/how-it-works.md says so: give one portal's runners one key).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

import structlog

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.limits import ClientStats
from bulk_onboard.api.models import DatedFolder, Item, MyDocuments
from bulk_onboard.api.user_limits import UserLimits
from bulk_onboard.config import Settings
from bulk_onboard.errors import BulkOnboardError, PermanentError, RunLocked

log = structlog.get_logger("bulk_onboard")

PREFIX = "bulk-onboard-lease"
END = "end"  # the beat of a marker whose run ended: never counted
_TITLE = re.compile(
    rf"^{PREFIX} run=(?P<run>\S+) host=(?P<host>\S+) pid=(?P<pid>\d+) since=(?P<since>\S+) beat=(?P<beat>\d+|end)$"
)
_HOST_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Leased:
    """What the run takes from its lease's client: its counters (summary.json's
    `lease_requests`) and its limits, which the run's client shares (api/user_limits.py): the
    portal counts one API user's requests together, in its window and in flight."""

    stats: ClientStats
    shared: UserLimits


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    refresh_every: float = 30.0  # seconds between beats
    stale_after: float = 180.0  # a marker with no beat for this long is taken over
    settle: float = 0.05  # before the second listing: an insert commits within milliseconds


TIMING = LeaseTiming()


class LeasePortal(Protocol):
    """The portal calls the lease makes (api/portal.py)."""

    async def my_documents(self) -> MyDocuments: ...
    async def new_folder(self, parent_id: int, title: str) -> Item: ...
    async def retitle_folder(self, folder_id: int, title: str) -> DatedFolder: ...
    async def remove_folder(self, folder_id: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class Marker:
    """A lease marker read back from its folder."""

    folder: DatedFolder
    run_id: str
    host: str
    pid: int
    since: str
    ended: bool = False

    @property
    def ended_title(self) -> str:
        return marker_title(self.run_id, self.host, self.pid, self.since, END)

    def describe(self) -> str:
        return f"run {self.run_id}, pid {self.pid} on {self.host}, started {_readable(self.since)}"


@dataclass(frozen=True, slots=True)
class Verdict:
    holder: Marker | None  # the live marker with the lowest id
    stale: tuple[Marker, ...]  # others' markers with no beat for too long


def host_name() -> str:
    return _HOST_CHARS.sub("-", socket.gethostname())[:40] or "unknown"


def since_text(moment: datetime | None = None) -> str:
    """A start time with no character the portal would replace in a title (no `:`)."""
    return f"{moment or datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def _readable(since: str) -> str:
    try:
        return f"{datetime.strptime(since, '%Y%m%dT%H%M%SZ'):%Y-%m-%d %H:%M:%S} UTC"
    except ValueError:
        return since


def marker_title(run_id: str, host: str, pid: int, since: str, beat: int | str) -> str:
    return f"{PREFIX} run={run_id} host={host} pid={pid} since={since} beat={beat}"


def read_marker(folder: DatedFolder) -> Marker | None:
    found = _TITLE.match(folder.title)
    if found is None:
        return None
    ended = found["beat"] == END
    return Marker(folder, found["run"], found["host"], int(found["pid"]), found["since"], ended)


def process_gone(pid: int) -> bool:
    """True when no process of this machine has the id (one we may not signal exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def judge(
    markers: list[Marker],
    own_id: int,
    now: float,
    stale_after: float,
    dead: Callable[[Marker], bool] = lambda marker: False,
) -> Verdict:
    """Who holds the portal among `markers` (ours, `own_id`, is always live), and which of
    the others are stale at `now` (the server's time of our marker) or `dead`."""
    live: list[Marker] = []
    stale: list[Marker] = []
    for marker in markers:
        if marker.ended:
            continue
        seen = marker.folder.updated or marker.folder.created
        silent = seen is not None and now - seen > stale_after
        if marker.folder.id != own_id and (silent or dead(marker)):
            stale.append(marker)
        else:
            live.append(marker)
    holder = min(live, key=lambda m: m.folder.id, default=None)
    return Verdict(holder, tuple(stale))


class PortalLease:
    """One run's lease on one portal (see the module's description)."""

    def __init__(
        self,
        portal: LeasePortal,
        portal_url: str,
        run_id: str,
        *,
        timing: LeaseTiming = LeaseTiming(),
        host: str | None = None,
    ) -> None:
        self.portal = portal
        self.portal_url = portal_url
        self.run_id = run_id
        self.timing = timing
        self.host = host or host_name()
        self.since = since_text()
        self.pid = os.getpid()
        self.marker_id: int | None = None
        self.beat = 0

    @property
    def title(self) -> str:
        return marker_title(self.run_id, self.host, self.pid, self.since, self.beat)

    async def take(self) -> None:
        """Hold the portal, or RunLocked naming the run that does (our marker removed)."""
        my = await self.portal.my_documents()
        self.marker_id = (await self.portal.new_folder(my.folder_id, self.title)).id
        try:
            await self._check()
            await asyncio.sleep(self.timing.settle)
            await self._check()
        except BaseException:
            await self.release()
            raise
        log.info("portal_lease_taken", portal=self.portal_url, marker=self.marker_id)

    async def _check(self) -> None:
        markers = [m for f in (await self.portal.my_documents()).folders if (m := read_marker(f))]
        own = next((m for m in markers if m.folder.id == self.marker_id), None)
        now = own.folder.created if own is not None else None
        if now is None:  # not listed (yet): judge by the newest time the portal shows
            now = max((m.folder.updated or 0.0 for m in markers), default=0.0)
        verdict = judge(markers, self.marker_id or 0, now, self.timing.stale_after, self._dead)
        for marker in verdict.stale:
            await self._take_over(marker, now)
        holder = verdict.holder
        if holder is not None and holder.folder.id != self.marker_id:
            raise RunLocked(
                f"another bulk-onboard run ({holder.describe()}) holds {self.portal_url}: its "
                f'lease is the folder "{holder.folder.title}" in the API user\'s My documents; '
                "wait for it to finish: two runs at once on one portal would create rooms and "
                "send invitations twice (a run that died is taken over "
                f"{self.timing.stale_after:g} s after its last sign of life)"
            )

    def _dead(self, marker: Marker) -> bool:
        """A marker of this machine whose process is gone (the host names agree)."""
        return marker.host == self.host and process_gone(marker.pid)

    async def _take_over(self, marker: Marker, now: float) -> None:
        silent = now - (marker.folder.updated or marker.folder.created or now)
        log.warning(
            "portal_lease_taken_over",
            portal=self.portal_url,
            holder=marker.describe(),
            marker=marker.folder.id,
            silent_seconds=round(silent),
        )
        await self._end(marker.folder.id, marker.ended_title)

    async def _end(self, folder_id: int, ended_title: str) -> None:
        """Mark a marker ended (at once, for whoever lists next), then delete it."""
        with suppress(PermanentError):  # gone already: 404
            await self.portal.retitle_folder(folder_id, ended_title)
        await self.portal.remove_folder(folder_id)

    async def keep(self, on_lost: Callable[[str], None]) -> None:
        """Beat until cancelled; `on_lost(reason)` once the lease is gone (then return). The
        silence is measured on the wall clock, which runs on while the machine sleeps."""
        last_beat = time.time()
        limit = self.timing.stale_after - self.timing.refresh_every
        while True:
            await asyncio.sleep(self.timing.refresh_every)
            if time.time() - last_beat > limit:
                return self._lost(on_lost, f"no beat reached the portal for {limit:g} s")
            self.beat += 1
            try:
                await self.portal.retitle_folder(self.marker_id or 0, self.title)
                last_beat = time.time()
            except PermanentError as exc:
                if exc.status == 404:
                    return self._lost(on_lost, "another run took the portal over")
                log.warning("portal_lease_beat_failed", error=str(exc))
            except BulkOnboardError as exc:
                log.warning("portal_lease_beat_failed", error=str(exc))

    def _lost(self, on_lost: Callable[[str], None], reason: str) -> None:
        log.error("portal_lease_lost", portal=self.portal_url, reason=reason)
        on_lost(f"portal lease lost: {reason}")

    async def release(self) -> None:
        """Remove our marker (a marker left behind is taken over once stale)."""
        marker, self.marker_id = self.marker_id, None
        if marker is None:
            return
        try:
            await self._end(marker, marker_title(self.run_id, self.host, self.pid, self.since, END))
        except BulkOnboardError as exc:
            log.warning("portal_lease_not_released", marker=marker, error=str(exc))


@asynccontextmanager
async def portal_lease(
    settings: Settings,
    run_id: str,
    on_lost: Callable[[str], None],
    *,
    timing: LeaseTiming | None = None,
) -> AsyncIterator[Leased]:
    """Hold the settings' portal for the block (RunLocked when another run holds it). When
    the portal cannot be asked (unreachable, refused, no My documents) the block runs without
    the lease, with a warning: the run itself then meets the same portal. Gives the lease
    client's counters (its requests are not the run's: summary.json says `lease_requests`);
    its limits are not logged (`limits_final` is the run's client's line alone)."""
    own = replace(settings, outage_wait=0.0)  # a beat that fails is tried again next time
    async with DocSpaceClient(own, log_limits=False) as client:
        lease = PortalLease(client, settings.portal_url, run_id, timing=timing or TIMING)
        try:
            await lease.take()
        except RunLocked:
            raise
        except BulkOnboardError as exc:
            log.warning("portal_lease_unavailable", portal=settings.portal_url, error=str(exc))
            yield Leased(client.stats, client.shared)
            return
        beats = asyncio.create_task(lease.keep(on_lost), name="portal-lease")
        try:
            yield Leased(client.stats, client.shared)
        finally:
            beats.cancel()
            with suppress(asyncio.CancelledError):
                await beats
            await lease.release()
