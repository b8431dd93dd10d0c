"""What a portal did that the next run (or plan) should know: when it last refused writes for
the day. Kept in the portal's state folder (config.portal_state_dir), not in a run folder.

    <state folder>/portals/<host>-<hash>/write-budget.json   {"refused_at": "<ISO time, UTC>"}
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

NAME = "write-budget.json"
DAY = timedelta(hours=24)


def remember_budget_refused(folder: Path, at: datetime | None = None) -> None:
    """Note that the portal refused writes for the day (a 429 with its daily window)."""
    folder.mkdir(parents=True, exist_ok=True)
    when = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    (folder / NAME).write_text(json.dumps({"refused_at": when}) + "\n", encoding="utf-8")


def budget_refused_recently(folder: Path, now: datetime | None = None) -> datetime | None:
    """When the portal last refused writes for the day, if that was less than a day ago."""
    try:
        at = datetime.fromisoformat(json.loads((folder / NAME).read_text())["refused_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return at if (now or datetime.now(UTC)) - at < DAY else None
