"""Riding out an outage: one gate every request waits at while the portal cannot be reached.

When an attempt cannot reach a portal that has answered before (connection refused, DNS,
connect timeout, TLS handshake), the gate closes. The request that found it becomes the
probe: it waits a backoff (PROBE_BASE doubling to PROBE_MAX, half of it jittered) and sends
itself again, which certainly had no effect before (nothing was sent). Every other request
waits at the gate, sending nothing. The first answer of any kind opens the gate and all go
on. When the gate has been closed for `max_wait` seconds, the outage is spent: waiting and
later requests fail with the connect error, so the rows fail as the run-level outage of
engine/outage.py (exit code 6), and the first answer opens the gate again.

A portal that never answered is not waited for: a wrong address should fail at once.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import structlog

from bulk_onboard.backoff import Clock, Random, Sleep

log = structlog.get_logger("bulk_onboard.api")

PROBE_BASE = 0.25
PROBE_MAX = 2.0


class OutageGate:
    def __init__(self, *, clock: Clock, sleep: Sleep, random: Random, max_wait: float) -> None:
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self.max_wait = max_wait
        self.down_since: float | None = None
        self.spent = False
        self.outages = 0
        self.down_seconds = 0.0
        self.probes = 0
        self._prober = False
        self._probed_at = -math.inf
        self._probe_number = 0
        self._open = asyncio.Event()
        self._open.set()
        self._ended_outage_started: float | None = None  # the last outage that ended

    @property
    def closed(self) -> bool:
        return self.down_since is not None and not self.spent

    async def wait(self) -> None:
        """Return when requests may be sent (at once while the portal is reachable)."""
        if self.closed:
            await self._open.wait()

    def answered(self) -> None:
        """Any answer from the portal (or a request it received): the outage is over."""
        if self.down_since is None:
            return
        lasted = self._clock() - self.down_since
        self.down_seconds += lasted
        self._ended_outage_started = self.down_since
        log.warning("outage_ended", seconds=round(lasted, 3), probes=self._probe_number)
        self.down_since = None
        self.spent = False
        self._prober = False
        self._probe_number = 0
        self._open.set()

    async def ride(self, probing: bool) -> bool:
        """The caller's attempt could not reach the portal: wait.

        True: the caller is the probe and sends its next attempt past the gate. False: the
        gate opened (send again through it), or the wait is spent (`spent`: give up)."""
        now = self._clock()
        if self.down_since is None:
            self.down_since = now
            self.spent = False
            self.outages += 1
            self._open.clear()
            log.warning("outage_started", max_wait_s=self.max_wait)
        while True:
            if self.down_since is None:
                return False  # the gate opened as this request's wait timed out: send again
            if self._spend(now):
                return False
            stale = now - self._probed_at > 2 * PROBE_MAX + 1.0
            if probing or not self._prober or stale:
                await self._probe(now)
                return True
            if await self._opened(PROBE_MAX + 1.0):
                return False
            now = self._clock()

    async def _opened(self, seconds: float) -> bool:
        """Wait for the gate to open, for at most `seconds`; False when it did not."""
        try:
            await asyncio.wait_for(self._open.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    def restarted_since(self, at: float) -> bool:
        """An outage began after `at` (monotonic) and has ended: the portal did not listen
        after `at`, and listens again."""
        started = self._ended_outage_started
        return self.down_since is None and started is not None and started >= at

    def resign(self) -> None:
        """The probe's attempt ended otherwise than unreachable: another request probes."""
        self._prober = False
        self._probed_at = -math.inf

    def _spend(self, now: float) -> bool:
        if self.down_since is None:
            return False
        if not self.spent and now - self.down_since >= self.max_wait:
            self.spent = True
            log.error("outage_spent", seconds=round(now - self.down_since, 3))
            self._open.set()  # every waiting request gives up
        return self.spent

    async def _probe(self, now: float) -> None:
        assert self.down_since is not None
        self._prober = True
        self._probed_at = now
        self._probe_number += 1
        self.probes += 1
        ceiling = min(PROBE_MAX, PROBE_BASE * 2.0 ** min(self._probe_number - 1, 30))
        delay = ceiling / 2 + self._random() * ceiling / 2
        remaining = self.max_wait - (now - self.down_since)
        await self._sleep(max(0.0, min(delay, remaining)))
        self._probed_at = self._clock()

    def state(self) -> dict[str, Any]:
        down = self.down_seconds
        if self.down_since is not None:
            down += self._clock() - self.down_since
        return {
            "outages": self.outages,
            "seconds_unreachable": round(down, 3),
            "probes": self.probes,
            "max_wait_s": self.max_wait if math.isfinite(self.max_wait) else None,
        }
