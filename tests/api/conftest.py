"""Shared fixtures for the API client tests: fake time, settings, a JSON-lines log capture."""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import aiohttp
import aioresponses.core as aioresponses_core
import pytest
import structlog
from aioresponses import aioresponses

from bulk_onboard import logs
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.config import Secret, Settings

TOKEN = "sk-0123456789abcdef0123456789abcdef"
PORTAL = "https://portal.test"
API = f"{PORTAL}/api/2.0"


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_settings(fake: FakeTime | None = None, **changes: Any) -> Settings:
    policy = RetryPolicy(
        max_attempts=4,
        base_delay=0.5,
        max_delay=8.0,
        max_total_seconds=60.0,
        max_retry_after=120.0,
        sleep=fake.sleep if fake else RetryPolicy.immediate().sleep,
        random=lambda: 0.5,
    )
    base = Settings(
        portal_url=PORTAL,
        token=Secret(TOKEN),
        requests_per_second=1000.0,
        retry=policy,
    )
    return replace(base, **changes)


class LogCapture:
    """The JSON lines written by the real logs.configure pipeline (redaction included)."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.text.splitlines() if line.strip()]
        return [e for e in lines if name is None or e.get("event") == name]


@pytest.fixture
def log_capture() -> Iterator[LogCapture]:
    stream = io.StringIO()
    logs.configure(fmt="json", level="debug", stream=stream)
    try:
        yield LogCapture(stream)
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the `stream_writer` that aiohttp 3.13+
    requires; supply a finished writer so mocked responses construct."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, patched for the installed aiohttp when needed."""
    if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:
        monkeypatch.setattr(aioresponses_core, "ClientResponse", _CompatResponse)
    with aioresponses() as m:
        yield m
