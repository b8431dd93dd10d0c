"""Ctrl-C and SIGTERM, routed to a run's graceful stop: once drains, twice cancels.

Several runs at once in one loop (a fleet) each register their stop: a signal goes to every
run registered, and the handlers stay until the last of them ends.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bulk_onboard.engine.pool import Stop


@dataclass
class _Route:
    stops: list[Stop] = field(default_factory=list)
    installed: list[signal.Signals] = field(default_factory=list)

    def deliver(self, sig: signal.Signals) -> None:
        for stop in list(self.stops):
            stop.request(f"signal {sig.name}")


_routes: dict[asyncio.AbstractEventLoop, _Route] = {}


def _install(loop: asyncio.AbstractEventLoop, route: _Route) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, route.deliver, sig)
            route.installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """Route SIGINT and SIGTERM to `stop` while the block runs (main thread only)."""
    loop = asyncio.get_running_loop()
    route = _routes.get(loop)
    if route is None:
        route = _routes[loop] = _Route()
        _install(loop, route)
    route.stops.append(stop)
    try:
        yield
    finally:
        route.stops.remove(stop)
        if not route.stops:
            for sig in route.installed:
                loop.remove_signal_handler(sig)
            del _routes[loop]
