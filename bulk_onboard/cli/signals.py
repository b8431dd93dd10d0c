"""Ctrl-C and SIGTERM, routed to a run's graceful stop: once drains, twice cancels."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from bulk_onboard.engine.pool import Stop


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """Route SIGINT and SIGTERM to `stop` while the block runs (main thread only)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.request, f"signal {sig.name}")
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
