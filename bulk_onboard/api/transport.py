"""The limits and the retry loop around every request of a run (the HTTP in session.py).

Per attempt: take a read or write slot (separate caps that adapt, inflight.py: the portal
rejects a 16th concurrent write), wait at the shared pause gate and the outage gate
(outage.py), take a permit from the run's one pacer (pacing.py: adaptive, or pinned by
--rate; retries included), send, classify the answer once in wire.py.

A 429 tells which limiter refused (retrying.limiter_of, docspace-api.md section 7): the
concurrency limiter names the lane's cap (the cap is set to it at once, the request retried
after a short jittered wait, nobody else paused); the sliding window names its limit (the
pacer mirrors it and holds the retry); the daily window and other limiters send Retry-After
(every request waits it out at the pause gate, or the writes stop for the day). Window and
concurrency refusals never use up a request's attempts.

After each failed attempt the loop in `request` asks retrying.next_step what to do: retry
after a delay, ride out an outage, pause the run, or raise. GETs are retried on any transient
failure; writes only when the request certainly had no effect (a 429, or a connection that
could not be opened: PortalUnreachable, never ambiguous). An ambiguous write (5xx, timeout or
a dropped connection after sending) is raised as AmbiguousWrite: the caller looks first. A
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

from bulk_onboard.api import metering, retrying, wire
from bulk_onboard.api.inflight import InflightCap, Slot
from bulk_onboard.api.limits import ClientStats, PauseGate, Throttle
from bulk_onboard.api.outage import OutageGate
from bulk_onboard.api.pacing import Pacer, refusal_of
from bulk_onboard.api.session import Params, PortalSession
from bulk_onboard.api.user_limits import UserLimits
from bulk_onboard.backoff import Clock
from bulk_onboard.config import SERVER_READ_INFLIGHT, SERVER_WRITE_INFLIGHT, Settings
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


class _Attempt:
    """What one attempt found out besides its answer: which limiter refused it, and when it
    was sent (an ambiguous write carries that time: engine/exactly_once.py)."""

    __slots__ = ("limiter", "sent_at")

    def __init__(self) -> None:
        self.limiter: str | None = None
        self.sent_at: float | None = None


def user_limits_for(settings: Settings, clock: Clock) -> UserLimits:
    """The limits the settings give: the pacer (`--rate`, `--rate-window`), reads in flight
    as set, writes as set or the server's."""
    writes = settings.max_write_inflight or SERVER_WRITE_INFLIGHT
    reads = settings.max_read_inflight
    pacer = Pacer(
        clock=clock,
        sleep=settings.retry.sleep,
        pinned=settings.requests_per_second,
        window=settings.rate_window,
    )
    return UserLimits(
        pacer,
        InflightCap("reads", start=reads, ceiling=reads),
        InflightCap("writes", start=writes, ceiling=writes),
    )


class Transport:
    """Sends requests to `{portal}/api/2.0/` under the run's limits; returns wire.Reply."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        throttle: Throttle | None = None,
        clock: Clock = time.monotonic,
        log_limits: bool = True,
        shared: UserLimits | None = None,
    ) -> None:
        self.settings = settings
        self._log_limits = log_limits  # limits_final at close: the run's client alone says it
        self.policy = settings.retry
        self.stats = ClientStats()
        self._token = settings.token.reveal()
        register_secret(self._token)
        # the window and the places in flight, shared with the run's other client
        self.shared = shared or user_limits_for(settings, clock)
        self.pacer = self.shared.pacer
        self._throttle: Throttle = throttle or self.pacer
        self._clock = clock
        self._reads, self._writes = self.shared.reads, self.shared.writes
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

    def restarted_since(self, at: float) -> bool:
        """The portal could not be reached after `at` (monotonic) and answers again."""
        return self.outage.restarted_since(at)

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
        if self._log_limits:
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
        started, tried, probing, attempt = self._clock(), retrying.Tried(), False, 0
        while True:
            attempt += 1
            seen = _Attempt()
            try:
                return await self._attempt(method, path, shown, params, body, seen, probing, unread)
            except ApiError as err:
                if isinstance(err, AmbiguousWrite):
                    err.sent_at = seen.sent_at
                if probing and not isinstance(err, PortalUnreachable):
                    self.outage.resign()
                    probing = False
                failure = self._failure(err, method, seen)
                elapsed = self._clock() - started
                step, tried = retrying.next_step(
                    failure, tried, self.policy, elapsed, self.policy.random()
                )
                if step.action == retrying.RIDE:  # an outage uses up no attempt, no time
                    riding_from, attempt = self._clock(), attempt - 1
                    probing, step = await self._ride(probing)
                    started += self._clock() - riding_from
                if step.action == retrying.RAISE:
                    if err.status not in expected:
                        self._count_failure(err, method, attempt)
                    raise
                await self._retry_wait(err, method, shown, attempt, self._delay(step, err))

    async def _ride(self, probing: bool) -> tuple[bool, retrying.Step]:
        """Wait at the outage gate; then retry, or raise when --outage-wait is spent."""
        probing = await self.outage.ride(probing)
        return probing, retrying.Step(retrying.RAISE if self.outage.spent else retrying.RETRY)

    def _failure(self, err: ApiError, method: str, seen: _Attempt) -> retrying.Failure:
        """The failure as the retry decision needs it (and the run's counters told)."""
        if isinstance(err, PortalUnreachable):
            return retrying.Failure(retrying.UNREACHABLE, answered_before=self.stats.answers > 0)
        if isinstance(err, BudgetExhausted):
            self._budget_spent(err, method)
            return retrying.Failure(retrying.BUDGET)
        if isinstance(err, RateLimited):
            self._count_429(seen.limiter)
            return retrying.Failure(retrying.LIMITED, seen.limiter, err.retry_after)
        if isinstance(err, AmbiguousWrite) or not isinstance(err, TransientError):
            return retrying.Failure(retrying.FINAL)
        return retrying.Failure(retrying.RETRYABLE)

    def _count_429(self, limiter: str | None) -> None:
        self.stats.rate_limited += 1
        if limiter in (retrying.CONCURRENCY, retrying.HEADERLESS):
            self.stats.concurrency_refusals += 1
        elif limiter == retrying.WINDOW:
            self.stats.window_refusals += 1

    def _delay(self, step: retrying.Step, err: ApiError) -> float:
        """The wait before the next attempt; a pause holds every request of the run."""
        if step.action != retrying.PAUSE_RUN:
            return step.delay
        retry_after = err.retry_after if isinstance(err, RateLimited) else None
        log.warning("rate_limited", method=err.method, path=err.path, retry_after=retry_after)
        self.gate.pause(step.delay, reason="429")
        return self.gate.remaining()

    def _budget_spent(self, err: BudgetExhausted, method: str) -> None:
        """The daily write budget: no write is sent until it ends (reads still go)."""
        if err.status == 429:
            self.stats.rate_limited += 1
        if method not in wire.SAFE_METHODS and err.retry_after is not None:
            if self._clock() >= self._write_budget_until:
                log.warning("budget_exhausted", method=method, retry_after=err.retry_after)
            self._write_budget_until = self._clock() + err.retry_after

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

    def _count_failure(self, err: ApiError, method: str, attempt: int) -> None:
        self.stats.failures[type(err).__name__] += 1
        if isinstance(err, AmbiguousWrite):
            self.stats.ambiguous_writes += 1
        # A refusal is the row's business (reported there); giving up on a retryable failure,
        # an unknown write outcome or a refused token concern the whole run.
        level = logging.DEBUG if type(err) is PermanentError else logging.WARNING
        if isinstance(err, RateLimited):
            log.warning("rate_limited", method=method, path=err.path, retry_after=err.retry_after)
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
                sent_at = await self._throttle.acquire()
                if self.gate.epoch == epoch:
                    break
            self._check_budget(method, shown)  # spent while this one waited for its turn
            self.stats.attempts += 1
            seen.sent_at = self._clock()
            with metering.sending(method) as sent:
                status, raw, headers = await self._http.send(method, path, shown, params, data)
                sent.status = status
            self._observe(cap, slot, status, headers, sent_at, seen)
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
        sent_at: float | None,
        seen: _Attempt,
    ) -> None:
        """Tell the limits what the portal answered; a 429's limiter goes to `seen`."""
        if status != 429:
            cap.succeeded()
            self.pacer.answered(sent_at)
            return
        refusal = refusal_of(headers)
        lane = SERVER_READ_INFLIGHT if cap is self._reads else SERVER_WRITE_INFLIGHT
        limiter = retrying.limiter_of(refusal, slot.held, lane, cap.named_limit)
        if limiter == retrying.WINDOW and self._throttle is not self.pacer:
            limiter = retrying.PAUSE  # nothing here keeps to the window: the run waits
        seen.limiter = limiter
        if limiter == retrying.CONCURRENCY and refusal.limit is not None:
            cap.named(slot, refusal.limit)
        elif limiter == retrying.WINDOW:
            self.pacer.refused(refusal.limit, sent_at)
        elif limiter == retrying.PAUSE:
            self.pacer.refused(None, sent_at)
        elif limiter == retrying.HEADERLESS:
            cap.refused(slot)


def _reason(err: ApiError) -> str:
    if isinstance(err, RateLimited):
        return "rate_limited"
    return f"HTTP {err.status}" if err.status is not None else err.message
