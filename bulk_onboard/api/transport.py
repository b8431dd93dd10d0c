"""One aiohttp session per run, with the limits and the retry loop around every request.

Per attempt: take a read or write slot (separate caps, the portal rejects a 16th concurrent
write), wait at the shared pause gate, take a throttle permit (one throttle for the whole run,
retries included), send, classify the answer once in wire.py.

Retries: GETs on any transient failure; writes only when the request certainly had no effect
(a 429, or a connection that could not be opened). An ambiguous write (5xx, timeout or a
dropped connection after sending) is raised as AmbiguousWrite: the caller looks first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog

from bulk_onboard import __version__
from bulk_onboard.api import metering, wire
from bulk_onboard.api.limits import ClientStats, PauseGate, Throttle, make_throttler
from bulk_onboard.backoff import Clock
from bulk_onboard.config import Settings
from bulk_onboard.errors import (
    AmbiguousWrite,
    ApiError,
    BudgetExhausted,
    PermanentError,
    RateLimited,
    TransientError,
)
from bulk_onboard.logs import register_secret

log = structlog.get_logger("bulk_onboard.api")
Params = dict[str, str | int]
RETRY_AFTER_ROUNDING = 1.0


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
        self._session = session
        self._owns_session = session is None
        self._throttle = throttle or make_throttler(settings.requests_per_second)
        self._clock = clock
        self._reads = asyncio.Semaphore(settings.max_read_inflight)
        self._writes = asyncio.Semaphore(settings.max_write_inflight)
        self.gate = PauseGate(clock=clock, sleep=self.policy.sleep, stats=self.stats)
        self._write_budget_until = -float("inf")
        self._api_path = urlsplit(settings.api_url).path.rstrip("/")

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self.settings.request_timeout, connect=self.settings.connect_timeout
                ),
                connector=aiohttp.TCPConnector(
                    limit=self.settings.max_read_inflight + self.settings.max_write_inflight
                ),
                raise_for_status=False,
            )
        forbid_silent_resend(self._session)

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": f"bulk-onboard/{__version__}",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    async def request(
        self,
        method: str,
        action: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        expected: frozenset[int] = frozenset(),
    ) -> wire.Reply:
        """Send `method path` (relative to /api/2.0/) with retries; `action` names the call.

        `expected` lists statuses the caller turns into an answer (404 for "no such user"):
        they are still raised, but not logged or counted as failures."""
        method = method.upper()
        shown = f"{self._api_path}/{path}"
        self.stats.requests[f"{method} {action}"] += 1
        metering.count_request()
        started = self._clock()
        attempt = limited = 0
        while True:
            attempt += 1
            try:
                reply = await self._attempt(method, path, shown, params, body)
            except ApiError as err:
                limited += isinstance(err, RateLimited)
                delay = self._retry_delay(err, method, attempt - limited, limited, started)
                if delay is None:
                    if err.status not in expected:
                        self._count_failure(err, method, attempt)
                    raise
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
                if not isinstance(err, RateLimited):
                    await self.policy.sleep(delay)
                continue
            self.gate.succeeded()
            return reply

    def _retry_delay(
        self, err: ApiError, method: str, failures: int, limited: int, started: float
    ) -> float | None:
        """Seconds before the next attempt, or None to give up and raise `err`.

        `failures` counts the attempts that failed other than by a 429, `limited` the 429s:
        a 429 certainly had no effect and the whole run waits it out, so it has its own,
        larger allowance (max_rate_limited) instead of using up max_attempts."""
        if err.status == 429:
            self.stats.rate_limited += 1
        if isinstance(err, BudgetExhausted):
            if method not in wire.SAFE_METHODS and err.retry_after is not None:
                if self._clock() >= self._write_budget_until:
                    log.warning("budget_exhausted", method=method, retry_after=err.retry_after)
                self._write_budget_until = self._clock() + err.retry_after
            return None
        if isinstance(err, AmbiguousWrite) or not isinstance(err, TransientError):
            return None
        if isinstance(err, RateLimited):
            self.gate.strikes += 1
            if err.retry_after is not None:
                # The portal truncates Retry-After to whole seconds ("0" while up to a second
                # remains), so wait out the fraction it dropped too.
                delay = err.retry_after + RETRY_AFTER_ROUNDING
            else:
                delay = max(self.policy.base_delay, self.policy.backoff(self.gate.strikes))
            log.warning("rate_limited", method=method, path=err.path, retry_after=err.retry_after)
            self.gate.pause(delay, reason="429")
            delay = self.gate.remaining()
            if limited >= self.policy.max_rate_limited:
                return None
        else:
            delay = self.policy.backoff(failures)
            if failures >= self.policy.max_attempts:
                return None
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
        self, method: str, path: str, shown: str, params: Params | None, body: Any
    ) -> wire.Reply:
        if method not in wire.SAFE_METHODS and self._clock() < self._write_budget_until:
            wait = self._write_budget_until - self._clock()
            raise BudgetExhausted(
                f"the portal's write budget is spent; not sending more writes for {wait:.0f}s",
                method=method,
                path=shown,
                retry_after=wait,
            )
        data = json.dumps(body).encode() if body is not None else None
        slots = self._reads if method in wire.SAFE_METHODS else self._writes
        async with slots:
            while True:  # a pause that starts while we wait for the throttle counts too
                await self.gate.wait()
                epoch = self.gate.epoch
                await self._throttle.acquire()
                if self.gate.epoch == epoch:
                    break
            self.stats.attempts += 1
            with metering.sending(method) as sent:
                status, raw, headers = await self._send(method, path, shown, params, data)
                sent.status = status
        return wire.read_reply(
            method,
            shown,
            status,
            raw,
            headers,
            max_retry_after=self.policy.max_retry_after,
            secrets=(self._token,),
        )

    async def _send(
        self, method: str, path: str, shown: str, params: Params | None, data: bytes | None
    ) -> tuple[int, bytes, Mapping[str, str]]:
        if self._session is None:
            raise RuntimeError("the client is not open: use `async with DocSpaceClient(...)`")
        url = f"{self.settings.api_url}/{path}"
        query = {k: str(v) for k, v in (params or {}).items()}
        started = time.monotonic()
        try:
            async with self._session.request(
                method,
                url,
                params=query or None,
                data=data,
                headers=self._headers(data is not None),
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                headers = response.headers
                status = response.status
                self.stats.answers += 1
        except aiohttp.ClientSSLError as exc:
            raise wire.transport_error(method, shown, "tls", _detail(exc)) from None
        except aiohttp.ClientConnectorError as exc:
            raise wire.transport_error(method, shown, "connect", _detail(exc)) from None
        except aiohttp.ConnectionTimeoutError as exc:
            raise wire.transport_error(method, shown, "connect_timeout", _detail(exc)) from None
        except TimeoutError as exc:
            raise wire.transport_error(method, shown, "timeout", _detail(exc)) from None
        except aiohttp.ClientError as exc:
            raise wire.transport_error(method, shown, "disconnect", _detail(exc)) from None
        self.stats.bytes_sent += len(data or b"")
        self.stats.bytes_received += len(raw)
        log.debug(
            "request_finished",
            method=method,
            path=shown,
            status=status,
            ms=round((time.monotonic() - started) * 1000),
        )
        return status, raw, headers


def forbid_silent_resend(session: aiohttp.ClientSession) -> None:
    """Stop aiohttp from resending a request by itself.

    aiohttp resends a PUT (an "idempotent" method in HTTP terms) once when a reused keep-alive
    connection drops before the answer. For the portal a PUT is not idempotent: a second
    `PUT rooms/{id}/links` makes a second link or fails with "The maximum number of links may
    not exceed 1", a second share mails a pending guest again. Every resend must go through
    our own look-before-retry path, so the automatic one is switched off (the same switch
    aiohttp's own test client uses; it has no public option for it).
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


def _detail(exc: BaseException) -> str:
    text = str(exc).split("?")[0].strip()  # never echo a query string
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _reason(err: ApiError) -> str:
    if isinstance(err, RateLimited):
        return "rate_limited"
    return f"HTTP {err.status}" if err.status is not None else err.message
