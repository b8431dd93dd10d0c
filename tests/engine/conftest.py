"""Fixtures for engine tests: an in-process sandbox portal and settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.api.retry import RetryPolicy
from bulk_onboard.config import Settings, build_settings
from bulk_onboard.demo import EXISTING_MANAGERS
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with start_sandbox(SandboxConfig(db=":memory:")) as sb:
        await admin(sb, "POST", "/sandbox/people", EXISTING_MANAGERS)
        yield sb


async def admin(sb: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """Call a sandbox-only endpoint and return its JSON."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{sb.url}{path}", json=body) as reply,
    ):
        assert reply.status == 200, await reply.text()
        return await reply.json()


def settings_for(sb: Sandbox, report_dir: Path, rate: float = 2000.0, **options: Any) -> Settings:
    """Settings for the sandbox; its limiter is off unless a test turns it on, so the
    client's own throttle is raised too (a portal without a limiter allows that)."""
    settings = build_settings(
        {"DOCSPACE_TOKEN": sb.token},
        portal=sb.url,
        report_dir=report_dir,
        retry=RetryPolicy.immediate(max_attempts=6),
        **options,
    )
    return replace(settings, requests_per_second=rate)
