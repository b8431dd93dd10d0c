"""The HTTP side of the transport: one aiohttp session, one attempt sent, its failure named.

Sends an attempt as it is (no retries here: transport.py decides those), counts what was
answered and received, and turns aiohttp's exceptions into the classified errors of
wire.transport_error. aiohttp's own silent resend is switched off (forbid_silent_resend).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import aiohttp
import structlog

from bulk_onboard import __version__
from bulk_onboard.api import wire
from bulk_onboard.api.limits import ClientStats
from bulk_onboard.config import Settings

log = structlog.get_logger("bulk_onboard.api")
Params = dict[str, str | int]


class PortalSession:
    """`send()` one attempt to `{portal}/api/2.0/{path}`: (status, body, headers)."""

    def __init__(
        self,
        settings: Settings,
        token: str,
        stats: ClientStats,
        *,
        session: aiohttp.ClientSession | None,
        connections: int,
        on_answer: Callable[[], None],
    ) -> None:
        self.settings = settings
        self._token = token
        self._stats = stats
        self._session = session
        self._owns_session = session is None
        self._connections = connections
        self._on_answer = on_answer

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self.settings.request_timeout, connect=self.settings.connect_timeout
                ),
                connector=aiohttp.TCPConnector(limit=self._connections),
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

    async def send(
        self, method: str, path: str, shown: str, params: Params | None, data: bytes | None
    ) -> tuple[int, bytes, Mapping[str, str]]:
        if self._session is None:
            raise RuntimeError("the client is not open: use `async with DocSpaceClient(...)`")
        url = f"{self.settings.api_url}/{path}"
        query = {k: str(v) for k, v in (params or {}).items()}
        started = time.monotonic()
        stats = self._stats
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
                stats.answers += 1
                self._on_answer()
        except aiohttp.ClientSSLError as exc:
            # A portal that answered before and now fails its handshake is an outage (a
            # proxy restarting); one that never answered has an address or certificate
            # problem.
            failure: wire.TransportFailure = "connect" if stats.answers else "tls"
            raise wire.transport_error(method, shown, failure, _detail(exc)) from None
        except aiohttp.ClientConnectorError as exc:
            raise wire.transport_error(method, shown, "connect", _detail(exc)) from None
        except aiohttp.ConnectionTimeoutError as exc:
            raise wire.transport_error(method, shown, "connect_timeout", _detail(exc)) from None
        except TimeoutError as exc:
            raise wire.transport_error(method, shown, "timeout", _detail(exc)) from None
        except aiohttp.ClientError as exc:
            raise wire.transport_error(method, shown, "disconnect", _detail(exc)) from None
        stats.bytes_sent += len(data or b"")
        stats.bytes_received += len(raw)
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
