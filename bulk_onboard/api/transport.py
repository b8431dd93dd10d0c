"""The limits and the retry loop around every request of a run (the HTTP in session.py).

Per attempt: take a read or write slot (separate caps that adapt, inflight.py: the portal
rejects a 16th concurrent write), wait at the shared pause gate and the outage gate
(outage.py), take a permit from the run's one pacer (pacing.py: adaptive, or pinned by
--rate; retries included), send, classify the answer once in wire.py.

A 429 tells which limiter refused: without headers the concurrency limiter (the cap of that
kind is lowered, the request retried after a short jittered wait, nobody else paused); with
X-RateLimit-Limit the sliding window (the pacer learns it and holds the retry); with only
Retry-After something else (every request waits it out at the pause gate).

Retries: GETs on any transient failure; writes only when the request certainly had no effect
(a 429, or a connection that could not be opened). An ambiguous write (5xx, timeout or a
dropped connection after sending) is raised as AmbiguousWrite: the caller looks first. A
connection that cannot be opened to a portal that has answered before is an outage: the
request waits at the outage gate (up to --outage-wait) instead of using up its attempts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog

from bulk_onboard.api import metering, wire
from bulk_onboard.api.inflight import InflightCap, Slot
from bulk_onboard.api.limits import ClientStats, PauseGate, Throttle
from bulk_onboard.api.outage import OutageGate
from bulk_onboard.api.pacing import Pacer, refusal_of
from bulk_onboard.api.session import Params, PortalSession
from bulk_onboard.backoff import Clock
from bulk_onboard.config import (
    DEFAULT_WRITE_INFLIGHT,
    SERVER_WRITE_INFLIGHT,
    Settings,
)
from bulk_onboard.errors import (
    AmbiguousWrite,
    ApiError,
    BudgetExhausted,
    PermanentError,
    PortalUnreachable,
    RateLimited,
    TransientError,
)
from bulk_onboard.logs import register_secret

log = structlog.get_logger("bulk_onboard.api")
RETRY_AFTER_ROUNDING = 1.0
# Which limiter refused an attempt (a 429), as the transport tells them apart.
CONCURRENCY, WINDOW, PAUSE, BUDGET = "concurrency", "window", "pause", "budget"


class _Attempt:
    """What one attempt found out besides its answer: which limiter refused it."""

    __slots__ = ("limiter",)

    def __init__(self) -> None:
        self.limiter: str | None = None


class Transport:
    """Sends requests to `{portal}/api/2.0/` under the run's limits; returns wire.Reply."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        throttle: Throttle | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.settings = settings
        self.policy = settings.retry
        self.stats = ClientStats()
        self._token = settings.token.reveal()
        register_secret(self._token)
        self.pacer = Pacer(
            clock=clock, sleep=self.policy.sleep, pinned=settings.requests_per_second
        )
        self._throttle: Throttle = throttle or self.pacer
        self._clock = clock
        writes = settings.max_write_inflight
        self._reads = InflightCap(
            "reads", start=settings.max_read_inflight, ceiling=settings.max_read_inflight
        )
        self._writes = InflightCap(
            "writes",
            start=writes or DEFAULT_WRITE_INFLIGHT,
            ceiling=writes or SERVER_WRITE_INFLIGHT,
        )
        self.gate = PauseGate(clock=clock, sleep=self.policy.sleep, stats=self.stats)
        self.outage = OutageGate(
            clock=clock,
            sleep=self.policy.sleep,
            random=self.policy.random,
            max_wait=settings.outage_wait,
        )
        self.stats.limits = self.limits_state
        self._http = PortalSession(
            settings,
            self._token,
            self.stats,
            session=session,
            connections=self._reads.ceiling + self._writes.ceiling,
            on_answer=self.outage.answered,
        )
        self._write_budget_until = -float("inf")
        self._api_path = urlsplit(settings.api_url).path.rstrip("/")

    def limits_state(self) -> dict[str, object]:
        """The run's limits as they ended: rate, in-flight caps, outages (summary.json)."""
        return {
            "rate": self.pacer.state() if self._throttle is self.pacer else {"mode": "external"},
            "writes": self._writes.state(),
            "reads": self._reads.state(),
            "outage": self.outage.state(),
        }

    async def open(self) -> None:
        await self._http.open()

    async def close(self) -> None:
        log.info("limits_final", **self.limits_state())
        await self._http.close()

    async def request(
        self,
        method: str,
        action: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        expected: frozenset[int] = frozenset(),
        unread: bool = False,
    ) -> wire.Reply:
        """Send `method path` (relative to /api/2.0/) with retries; `action` names the call.

        `expected` lists statuses the caller turns into an answer (404 for "no such user"):
        they are still raised, but not logged or counted as failures."""
        method = method.upper()
        shown = f"{self._api_path}/{path}"
        self.stats.requests[f"{method} {action}"] += 1
        metering.count_request()
        started = self._clock()
        attempt = limited = refused = 0
        probing = False
        while True:
            attempt += 1
            seen = _Attempt()
            try:
                reply = await self._attempt(
                    method, path, shown, params, body, seen, probing, unread
                )
            except PortalUnreachable as err:
                if self.stats.answers == 0:  # never answered: a wrong address fails at once
                    delay = self._retry_delay(err, method, attempt - limited, started)
                else:
                    waited_from = self._clock()
                    probing = await self.outage.ride(probing)
                    delay = None if self.outage.spent else 0.0
                    started += self._clock() - waited_from  # an outage uses up no budget
                    attempt -= 1
                if delay is None:
                    self._count_failure(err, method, attempt)
                    raise
                await self._retry_wait(err, method, shown, attempt, delay)
                continue
            except ApiError as err:
                if probing:
                    self.outage.resign()
                    probing = False
                if isinstance(err, RateLimited):
                    limited += 1
                    refused += seen.limiter == CONCURRENCY
                    delay = self._limited_delay(err, method, seen.limiter, limited, refused)
                else:
                    delay = self._retry_delay(err, method, attempt - limited, started)
                if delay is not None and self._clock() - started + delay > (
                    self.policy.max_total_seconds
                ):
                    delay = None
                if delay is None:
                    if err.status not in expected:
                        self._count_failure(err, method, attempt)
                    raise
                await self._retry_wait(err, method, shown, attempt, delay)
                continue
            return reply

    async def _retry_wait(
        self, err: ApiError, method: str, shown: str, attempt: int, delay: float
    ) -> None:
        self.stats.retries += 1
        metering.count_retry()
        log.debug(
            "request_retrying",
            method=method,
            path=shown,
            attempt=attempt,
            delay=round(delay, 3),
            reason=_reason(err),
        )
        if delay > 0:
            await self.policy.sleep(delay)

    def _limited_delay(
        self, err: RateLimited, method: str, limiter: str | None, limited: int, refused: int
    ) -> float | None:
        """Seconds before the next attempt after a 429, or None to give up.

        A 429 certainly had no effect, so it has its own allowance (max_rate_limited)
        instead of using up max_attempts. The concurrency limiter's: a short jittered wait of
        this request's own (the cap was lowered for everyone); the sliding window's, once the
        pacer knows it: none (the pacer holds the retry); anything else: the whole run waits
        Retry-After (or a backoff) at the pause gate."""
        self.stats.rate_limited += 1
        if limited >= self.policy.max_rate_limited:
            log.warning("rate_limited", method=method, path=err.path, retry_after=err.retry_after)
            return None
        if limiter == CONCURRENCY:
            self.stats.concurrency_refusals += 1
            return max(0.05, self.policy.backoff(refused))
        if limiter == WINDOW:
            self.stats.window_refusals += 1
            return 0.0
        if err.retry_after is not None:
            # The portal truncates Retry-After to whole seconds ("0" while up to a second
            # remains), so wait out the fraction it dropped too.
            delay = err.retry_after + RETRY_AFTER_ROUNDING
        else:
            delay = max(self.policy.base_delay, self.policy.backoff(limited))
        log.warning("rate_limited", method=method, path=err.path, retry_after=err.retry_after)
        self.gate.pause(delay, reason="429")
        return self.gate.remaining()

    def _retry_delay(
        self, err: ApiError, method: str, failures: int, started: float
    ) -> float | None:
        """Seconds before the next attempt after a failure other than a 429, or None to
        give up and raise `err`. `failures` counts the attempts that failed other than by a
        429."""
        if isinstance(err, BudgetExhausted):
            if err.status == 429:
                self.stats.rate_limited += 1
            if method not in wire.SAFE_METHODS and err.retry_after is not None:
                if self._clock() >= self._write_budget_until:
                    log.warning("budget_exhausted", method=method, retry_after=err.retry_after)
                self._write_budget_until = self._clock() + err.retry_after
            return None
        if isinstance(err, AmbiguousWrite) or not isinstance(err, TransientError):
            return None
        if failures >= self.policy.max_attempts:
            return None
        delay = self.policy.backoff(failures)
        if self._clock() - started + delay > self.policy.max_total_seconds:
            return None
        return delay

    def _count_failure(self, err: ApiError, method: str, attempt: int) -> None:
        self.stats.failures[type(err).__name__] += 1
        if isinstance(err, AmbiguousWrite):
            self.stats.ambiguous_writes += 1
        # A refusal is the row's business (reported there); giving up on a retryable failure,
        # an unknown write outcome or a refused token concern the whole run.
        level = logging.DEBUG if type(err) is PermanentError else logging.WARNING
        log.log(
            level,
            "request_failed",
            method=method,
            path=err.path,
            status=err.status,
            attempts=attempt,
            error=type(err).__name__,
            reason=err.message,
        )

    async def _attempt(
        self,
        method: str,
        path: str,
        shown: str,
        params: Params | None,
        body: Any,
        seen: _Attempt,
        probing: bool = False,
        unread: bool = False,
    ) -> wire.Reply:
        self._check_budget(method, shown)
        data = json.dumps(body).encode() if body is not None else None
        cap = self._reads if method in wire.SAFE_METHODS else self._writes
        if not probing:  # before taking a slot: the probe must find one free
            await self.outage.wait()
        slot = await cap.acquire()
        try:
            while True:  # a pause that starts while we wait for the throttle counts too
                await self.gate.wait()
                epoch = self.gate.epoch
                await self._throttle.acquire()
                if self.gate.epoch == epoch:
                    break
            self._check_budget(method, shown)  # spent while this one waited for its turn
            sent_epoch = self.pacer.epoch
            self.stats.attempts += 1
            with metering.sending(method) as sent:
                status, raw, headers = await self._http.send(method, path, shown, params, data)
                sent.status = status
            self._observe(cap, slot, status, headers, sent_epoch, seen)
        finally:
            await cap.release()
        return wire.read_reply(
            method,
            shown,
            status,
            raw,
            headers,
            max_retry_after=self.policy.max_retry_after,
            secrets=(self._token,),
            unread=unread,
        )

    def _check_budget(self, method: str, shown: str) -> None:
        if method not in wire.SAFE_METHODS and self._clock() < self._write_budget_until:
            wait = self._write_budget_until - self._clock()
            raise BudgetExhausted(
                f"the portal's write budget is spent; not sending more writes for {wait:.0f}s",
                method=method,
                path=shown,
                retry_after=wait,
            )

    def _observe(
        self,
        cap: InflightCap,
        slot: Slot,
        status: int,
        headers: Mapping[str, str],
        sent_epoch: int,
        seen: _Attempt,
    ) -> None:
        """Tell the limits what the portal answered."""
        if status != 429:
            cap.succeeded()
            return
        refusal = refusal_of(headers)
        if refusal.retry_after is None and refusal.limit is None:
            seen.limiter = CONCURRENCY
            cap.refused(slot)
        elif refusal.reset or (refusal.retry_after or 0.0) > self.policy.max_retry_after:
            seen.limiter = BUDGET
        elif self._throttle is self.pacer and self.pacer.refused(refusal, sent_epoch):
            seen.limiter = WINDOW
        else:
            seen.limiter = PAUSE


def _reason(err: ApiError) -> str:
    if isinstance(err, RateLimited):
        return "rate_limited"
    return f"HTTP {err.status}" if err.status is not None else err.message
