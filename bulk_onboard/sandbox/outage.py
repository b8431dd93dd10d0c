"""A real outage of the sandbox portal: the listening socket closed for a while.

POST /sandbox/outage {"seconds": S, "delay": D} answers at once, then after D seconds
closes the listening socket and aborts every open connection (requests being handled lose
their answer, as when a server goes down mid-request), so new connections are refused
(ECONNREFUSED, what a client sees of a portal that is down); after S more seconds it
listens again on the same address and port. GET /sandbox/outage says whether one is
under way and how many there were.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

MAX_SECONDS = 600.0


class OutageSwitch:
    """Stops and restarts the site of a running sandbox."""

    def __init__(self) -> None:
        self.runner: web.AppRunner | None = None
        self.site: web.TCPSite | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.down = False
        self.outages = 0
        self.aborted = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def bind(self, runner: web.AppRunner, site: web.TCPSite, host: str, port: int) -> None:
        self.runner, self.site, self.host, self.port = runner, site, host, port

    def schedule(self, seconds: float, delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._run(seconds, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, seconds: float, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.runner is None or self.site is None or self.down:
            return
        self.down = True
        self.outages += 1
        await self.site.stop()
        server = self.runner.server
        for handler in server.connections if server is not None else []:
            transport = handler.transport
            if transport is not None:
                transport.abort()
                self.aborted += 1
        try:
            await asyncio.sleep(seconds)
        finally:
            site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
            await site.start()
            self.site = site
            self.down = False

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, RuntimeError):
                await task

    def as_json(self) -> dict[str, Any]:
        return {"down": self.down, "outages": self.outages, "abortedConnections": self.aborted}


OUTAGE = web.AppKey("outage", OutageSwitch)


def _number(body: Any, name: str, default: float) -> float:
    value = body.get(name, default) if isinstance(body, dict) else default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of seconds")
    if not 0 <= value <= MAX_SECONDS:
        raise ValueError(f"{name} must be from 0 to {MAX_SECONDS:g} seconds")
    return float(value)


async def outage(request: web.Request) -> web.Response:
    switch = request.app[OUTAGE]
    if request.method == "POST":
        try:
            body = await request.json() if request.can_read_body else {}
            seconds = _number(body, "seconds", 0.0)
            delay = _number(body, "delay", 0.0)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if switch.down:
            return web.json_response({"error": "an outage is under way"}, status=409)
        switch.schedule(seconds, delay)
    return web.json_response(switch.as_json())


def add_routes(app: web.Application) -> None:
    app[OUTAGE] = OutageSwitch()
    app.router.add_route("GET", "/sandbox/outage", outage)
    app.router.add_route("POST", "/sandbox/outage", outage)
