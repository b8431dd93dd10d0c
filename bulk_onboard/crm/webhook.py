"""The webhook sink: one signed JSON POST per record, retried on transient failures.

The HTTP edge of CRM delivery (the one aiohttp user outside api/ and sandbox/). Each attempt:

    POST <webhook_url>
    User-Agent: bulk-onboard/<version>
    Content-Type: application/json; charset=utf-8
    Idempotency-Key: <the record's idempotency_key>      same in every attempt and every run
    X-BulkOnboard-Event: client_onboarded (client_offboarded for a run's undo)
    X-BulkOnboard-Attempt: <1, 2, ...>
    X-BulkOnboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>   (see signing.py)

Any 2xx is delivered. Timeouts, connection failures, 408, 429 and 5xx are transient: retried
with exponential backoff and full jitter (a 429's Retry-After is waited instead), at most
`max_attempts` attempts in all. Any other answer (a 4xx, a redirect) is permanent. Redirects
are not followed, so a signed record never goes anywhere but the configured address. Errors
name the webhook by its origin only (a hook URL's path is often a credential) and never hold
the secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import structlog

from bulk_onboard import __version__
from bulk_onboard.api.wire import excerpt, parse_retry_after
from bulk_onboard.backoff import Clock, Random, RetryPolicy, Sleep
from bulk_onboard.crm.signing import SIGNATURE_HEADER, sign
from bulk_onboard.errors import CrmError

log = structlog.get_logger("bulk_onboard.crm")


EXCERPT_BYTES = 2048


# Waits between attempts: the run's backoff formula (full jitter); a Retry-After longer than
# max_retry_after is not waited out: the delivery fails as transient, for a later retry.
DEFAULT_BACKOFF = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one attempt came to: delivered, worth another try, or refused for good."""

    kind: Literal["delivered", "transient", "permanent"]
    reason: str
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivered record: the receiver's status and the attempts it took."""

    status: int
    attempts: int


def classify(status: int, retry_after: str | None = None, body: str = "") -> Verdict:
    """The verdict on one HTTP answer. Pure."""
    said = f": {body}" if body else ""
    if 200 <= status < 300:
        return Verdict("delivered", f"HTTP {status}", status)
    if status == 429:
        wait = parse_retry_after(retry_after)
        return Verdict("transient", f"HTTP 429 (too many requests){said}", status, wait)
    if status == 408 or status >= 500:
        return Verdict("transient", f"HTTP {status}{said}", status)
    if 300 <= status < 400:
        return Verdict(
            "permanent",
            f"HTTP {status}, a redirect, which is not followed; set crm.webhook_url to the "
            "final address",
            status,
        )
    return Verdict("permanent", f"HTTP {status}{said}", status)


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, without credentials, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}"


def encode(record: Mapping[str, Any]) -> bytes:
    """The exact body bytes that are signed and sent."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookSink:
    """POSTs records to one webhook. Open it once per run; `send` may run concurrently."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float,
        max_attempts: int,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        random: Random,
        clock: Clock,
        backoff: RetryPolicy = DEFAULT_BACKOFF,
        max_inflight: int = 4,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.url = url
        self.origin = origin(url)
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._session = session
        self._owns_session = session is None
        self._sleep = sleep
        self._random = random
        self._clock = clock
        self._backoff = backoff
        self._max_inflight = max_inflight

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_inflight)
            )

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def send(self, record: Mapping[str, Any]) -> Receipt:
        """Deliver one record; CrmError(transient=...) once it cannot be delivered."""
        key = str(record["idempotency_key"])
        body = encode(record)
        event = str(record.get("event") or "client_onboarded")
        for attempt in range(1, self._max_attempts + 1):
            verdict = await self._attempt(body, key, attempt, event)
            if verdict.kind == "delivered":
                log.debug("crm_delivered", sink="webhook", key=key, attempts=attempt)
                return Receipt(status=verdict.status or 200, attempts=attempt)
            where = f"the CRM webhook at {self.origin}"
            if verdict.kind == "permanent":
                raise CrmError(f"{where} refused the record: {verdict.reason}", transient=False)
            if attempt == self._max_attempts:
                raise CrmError(
                    f"{where} failed {attempt} time{'s' if attempt > 1 else ''}; last: "
                    f"{verdict.reason}",
                    transient=True,
                )
            delay = verdict.retry_after
            if delay is None:
                delay = self._backoff.delay(attempt, self._random())
            elif delay > self._backoff.max_retry_after:
                raise CrmError(
                    f"{where} asked to wait {delay:.0f} s before trying again (more than "
                    f"{self._backoff.max_retry_after:.0f} s); run bulk-onboard retry later",
                    transient=True,
                )
            log.warning(
                "crm_retrying",
                sink="webhook",
                key=key,
                attempt=attempt,
                delay=round(delay, 3),
                reason=verdict.reason,
            )
            await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _attempt(
        self, body: bytes, key: str, attempt: int, event: str = "client_onboarded"
    ) -> Verdict:
        if self._session is None:
            raise RuntimeError("the webhook sink is not open")
        headers = {
            "User-Agent": f"bulk-onboard/{__version__}",
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key,
            "X-BulkOnboard-Event": event,
            "X-BulkOnboard-Attempt": str(attempt),
            SIGNATURE_HEADER: sign(self._secret, int(self._clock()), body),
        }
        try:
            async with self._session.post(
                self.url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as reply:
                if 200 <= reply.status < 300:
                    return classify(reply.status)
                raw = await reply.content.read(EXCERPT_BYTES)
                return classify(reply.status, reply.headers.get("Retry-After"), self._said(raw))
        except TimeoutError:
            seconds = self._timeout.total or 0
            return Verdict("transient", f"no answer within {seconds:g} s")
        except (aiohttp.ClientSSLError, aiohttp.InvalidURL) as exc:
            return Verdict("permanent", self._said(f"{type(exc).__name__}: {exc}".encode()))
        except aiohttp.ClientError as exc:
            text = self._said(str(exc).encode())
            return Verdict("transient", f"{type(exc).__name__}" + (f" ({text})" if text else ""))

    def _said(self, raw: bytes) -> str:
        """A short one-line excerpt with the secret and the full URL masked."""
        text = raw.decode("utf-8", "replace")
        text = text.replace(self._secret.decode("utf-8", "replace"), "[redacted]")
        return excerpt(text.replace(self.url, self.origin))
