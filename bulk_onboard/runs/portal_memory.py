"""What a portal did that the next run (or plan) should know: when it last refused writes for
the day, and which rows keep failing on it. Kept in the portal's state folder
(config.portal_state_dir), not in a run folder.

    <state folder>/portals/<host>-<hash>/write-budget.json   {"refused_at": "<ISO time, UTC>"}
    <state folder>/portals/<host>-<hash>/failing-rows.json   {"<row key>": "<ISO time, UTC>"}

Both go through the portal's store (state/store.py): with a shared state every machine running
the portal knows the portal refused writes today, and since when each row has been failing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bulk_onboard.state.store import PortalStore

NAME = "write-budget.json"
DAY = timedelta(hours=24)


def remember_budget_refused(store: PortalStore, at: datetime | None = None) -> None:
    """Note that the portal refused writes for the day (a 429 with its daily window)."""
    when = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    store.write(NAME, json.dumps({"refused_at": when}) + "\n")


def budget_refused_recently(store: PortalStore, now: datetime | None = None) -> datetime | None:
    """When the portal last refused writes for the day, if that was less than a day ago."""
    try:
        at = datetime.fromisoformat(json.loads(store.read(NAME) or "")["refused_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return at if (now or datetime.now(UTC)) - at < DAY else None


FAILING = "failing-rows.json"


def note_failing_rows(
    store: PortalStore, failed: list[str], started: str, *, unfinished: tuple[str, ...] = ()
) -> dict[str, str]:
    """Remember the row keys that `failed` in the run that `started` (ISO time) against this
    portal; the answer: since when each of them has been failing, for those that failed in an
    earlier run too. A remembered row the run finished without failing is forgotten; one it
    left `unfinished` (interrupted, deferred) keeps its date."""
    try:
        earlier = json.loads(store.read(FAILING) or "{}")
        earlier = {str(k): str(v) for k, v in earlier.items()} if isinstance(earlier, dict) else {}
    except (OSError, ValueError):
        earlier = {}
    kept = {k: v for k, v in earlier.items() if k in unfinished}
    now = {key: earlier.get(key, started) for key in failed}
    store.write(FAILING, json.dumps({**kept, **now}, indent=1, ensure_ascii=False) + "\n")
    return {key: earlier[key] for key in failed if key in earlier}
