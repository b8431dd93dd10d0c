"""summary.json laid out from a run's facts, and the run's verdict (runs/summary.py, pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.config import build_settings
from bulk_onboard.errors import GuardTripped, PortalDown, PortalUnusable, TokenRefused
from bulk_onboard.runs.summary import RunFacts, Verdict, summary_document, verdict_of

STARTED = datetime(2026, 3, 1, 9, 30, 5, 400_000, tzinfo=UTC)
FINISHED = datetime(2026, 3, 1, 9, 31, 7, 900_000, tzinfo=UTC)
SETTINGS = build_settings(
    {"DOCSPACE_TOKEN": "sk-test"},
    portal="https://portal.example.com/",
    concurrency=12,
    requests_per_second=40.0,
    max_write_inflight=9,
    max_read_inflight=14,
)


def _facts(**changes: Any) -> RunFacts:
    facts: dict[str, Any] = {
        "run_id": "20260301-093005-400ab",
        "folder": Path("reports/20260301-093005-400ab"),
        "inputs": ("clients.csv", "users.xlsx"),
        "started": STARTED,
        "finished": FINISHED,
        "seconds": 62.50049,
        "rows": 7,
        "statuses": {"created": 5, "failed": 2},
        "verdict": "rows_need_attention",
        "stopped": None,
        "settings": SETTINGS,
        "requests": {"total": 31},
        "timeline": {"seconds": [0, 1]},
    }
    facts.update(changes)
    return RunFacts(**facts)


def test_the_document_in_its_order() -> None:
    document = summary_document(_facts())
    folder = "reports/20260301-093005-400ab"
    assert document == {
        "run_id": "20260301-093005-400ab",
        "inputs": ["clients.csv", "users.xlsx"],
        "started": "2026-03-01T09:30:05+00:00",
        "finished": "2026-03-01T09:31:07+00:00",
        "duration_s": 62.5,
        "rows": 7,
        "statuses": {"created": 5, "failed": 2},
        "verdict": "rows_need_attention",
        "stopped": None,
        "portal": "https://portal.example.com",
        "requests": {"total": 31},
        "limits": {
            "requests_per_second": 40.0,
            "max_write_inflight": 9,
            "max_read_inflight": 14,
            "concurrency": 12,
        },
        "report": {
            "csv": str(Path(folder) / "report.csv"),
            "xlsx": str(Path(folder) / "report.xlsx"),
            "html": str(Path(folder) / "report.html"),
        },
        "journal": str(Path(folder) / "journal.jsonl"),
        "timeline": {"seconds": [0, 1]},
    }
    assert list(document)[-1] == "timeline"  # report.html reads it last


def test_the_guard_and_the_modes_own_facts_come_before_the_timeline() -> None:
    guard = {"max_new_rooms": 5, "new_rooms": 9, "stopped": True}
    document = summary_document(
        _facts(guard=guard, extra={"resumed": True, "retry_of": "20260228-1"})
    )
    assert list(document)[-4:] == ["guard", "resumed", "retry_of", "timeline"]
    assert document["guard"] == guard
    assert document["retry_of"] == "20260228-1"
    assert "guard" not in summary_document(_facts())


def test_a_stopped_run_says_why() -> None:
    document = summary_document(_facts(stopped="signal SIGINT", verdict="stopped"))
    assert (document["stopped"], document["verdict"]) == ("signal SIGINT", "stopped")


@pytest.mark.parametrize(
    ("counts", "stopped", "fatal", "expected"),
    [
        ({"created": 3, "updated": 1, "unchanged": 2}, None, None, "ok"),
        ({"created": 3, "failed": 0, "invalid": 0}, None, None, "ok"),
        ({}, None, None, "ok"),
        ({"created": 3, "failed": 1}, None, None, "rows_need_attention"),
        ({"unchanged": 3, "skipped": 2}, None, None, "ok"),  # held back on purpose: no failure
        ({"skipped": 2, "failed": 1}, None, None, "rows_need_attention"),
        ({"created": 3, "invalid": 1}, None, None, "rows_need_attention"),
        ({"created": 3, "interrupted": 1}, None, None, "rows_need_attention"),
        ({"created": 3, "deferred": 2, "failed": 1}, None, None, "deferred"),
        ({"created": 1, "interrupted": 4}, "signal SIGINT", None, "stopped"),
        ({"created": 1, "deferred": 4}, "signal SIGTERM", None, "stopped"),
        (
            {"interrupted": 4},
            "fatal: 401",
            TokenRefused("no", method="GET", path="/"),
            "token_refused",
        ),
        (
            {"interrupted": 4},
            "down",
            PortalDown("the portal cannot be reached"),
            "portal_unreachable",
        ),
        (
            {"interrupted": 4},
            "tls",
            PortalUnusable("tls", method="GET", path="/"),
            "portal_unreachable",
        ),
        ({"interrupted": 4}, "guard", GuardTripped("9 new rooms"), "guarded"),
    ],
)
def test_the_verdict(
    counts: dict[str, int], stopped: str | None, fatal: Exception | None, expected: Verdict
) -> None:
    assert verdict_of(counts, stopped, fatal) == expected
