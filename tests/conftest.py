"""Fixtures every suite may use. Helpers that are not fixtures live in tests/helpers.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.helpers import seeded_sandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """An in-process sandbox portal with the company's account managers."""
    async with seeded_sandbox() as sb:
        yield sb
