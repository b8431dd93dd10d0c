"""Fleets of sandbox portals, all in this test process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.helpers import SAMPLES, seeded_sandbox


def write_fleet(
    folder: Path,
    portals: dict[str, Sandbox],
    extra: str = "",
    fleet: str = "",
    own: dict[str, str] | None = None,
) -> Path:
    """A fleet file in `folder` naming each sandbox by its id, the token of each in
    tokens/<id>.token (read by file:), the sample workbook as every portal's input; `extra`
    lines in every [[portal]], `own[id]` in that one's alone."""
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    entries = []
    for portal_id, sb in portals.items():
        token = tokens / f"{portal_id}.token"
        token.write_text(sb.token + "\n")
        token.chmod(0o600)
        lines = (extra, (own or {}).get(portal_id, ""))
        entries.append(
            f'[[portal]]\nid = "{portal_id}"\nurl = "{sb.url}"\n' + "\n".join(lines) + "\n"
        )
    path = folder / "fleet.toml"
    path.write_text(
        f'[fleet]\nreports = "reports"\nconcurrency = 3\n{fleet}\n'
        f'[defaults]\ntoken = "file:tokens/{{id}}.token"\n'
        f'input = ["{SAMPLES / "onboarding.xlsx"}"]\nrate = 1000\n\n' + "\n".join(entries)
    )
    return path


@pytest.fixture
async def three_portals() -> AsyncIterator[dict[str, Sandbox]]:
    """Three sandbox portals with the company's account managers."""
    async with AsyncExitStack() as stack:
        yield {
            name: await stack.enter_async_context(seeded_sandbox())
            for name in ("acme", "globex", "initech")
        }


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The Redis server .ci/run starts (loopback, no persistence); the keys a test's fleet
    made (its own prefix) are removed after it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # a Redis must run here: .ci/run starts one
    before = set(client.keys("bulk-onboard:*"))
    yield REDIS_URL
    made = set(client.keys("bulk-onboard:*")) - before
    if made:
        client.delete(*made)
    client.close()


# whole runs against sandbox portals (and real workers): out of `make quick`, as elsewhere
WHOLE_RUNS = frozenset(
    {
        "test_fleet_run.py",
        "test_fleet_edges.py",
        "test_fleet_nights.py",
        "test_fleet_notify.py",
        "test_fleet_validate.py",
        "test_runs_apart.py",
        "test_worker.py",
        "test_resume_elsewhere.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == Path(__file__).parent and item.path.name in WHOLE_RUNS:
            item.add_marker(pytest.mark.e2e)
