"""Fixtures every suite may use. Helpers that are not fixtures live in tests/helpers.py."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog

from bulk_onboard import config
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.sandbox import Sandbox

# The shared helpers assert too: their failures are explained like a test's own.
pytest.register_assert_rewrite("tests.helpers", "tests.processes", "tests.engine.portal_checks")


@pytest.fixture(autouse=True)
def state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Per-portal state (the CRM ledger) goes to a fresh folder of each test, never to the real
    home: for commands run in this process or in a child ($BULK_ONBOARD_STATE_DIR), and for
    settings built without that variable."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv(config.STATE_DIR_ENV, str(folder))
    monkeypatch.setattr(config, "user_state_path", lambda *a, **k: folder / "default")
    yield folder


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """A command run in this process configures structlog for the process (a level of
    `warning` filters out the info events another test captures): each test starts from
    structlog's defaults."""
    yield
    structlog.reset_defaults()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """An in-process sandbox portal with the company's account managers."""
    from tests.helpers import seeded_sandbox

    async with seeded_sandbox() as sb:
        yield sb


@pytest.fixture(autouse=True)
def portal_lease_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs take no lease on the portal (its marker writes and settle) unless a test of the
    lease turns it on (tests/engine/test_lease*.py): the other suites count writes and time."""
    monkeypatch.setenv(config.PORTAL_LEASE_ENV, "off")


@pytest.fixture
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in this process retry after at most 0.05 s instead of the default backoff
    (0.5 s doubled each time): for tests of what failed or lost answers lead to, where the
    waits between attempts are not what is tested. The attempts and other bounds are the
    defaults."""
    fast = functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.05)
    monkeypatch.setattr(config, "RetryPolicy", fast)
