"""Counts in words: `1 room`, not `1 rooms`; a rate found by itself, not `None requests a second`."""

from __future__ import annotations

from bulk_onboard.model.words import counted
from bulk_onboard.runs.html_report import limits_text, rate_text


def test_a_count_has_its_noun_in_the_right_number() -> None:
    assert [counted(n, "room") for n in (0, 1, 2)] == ["0 rooms", "1 room", "2 rooms"]
    assert counted(1, "person", "people") == "1 person"
    assert counted(3, "person", "people") == "3 people"


def test_the_limits_the_run_kept_never_say_none() -> None:
    found = {
        "limits": {
            "requests_per_second": None,
            "max_write_inflight": None,
            "max_read_inflight": 1,
            "concurrency": 24,
        },
        "requests": {"limits": {"rate": {"mode": "adaptive", "rate": 25.0}}},
    }
    assert limits_text(found) == (
        "a rate found by itself (ending at 25 requests a second), writes found by themselves "
        "and 1 read at once, 24 rows at once"
    )
    pinned = {"limits": {"requests_per_second": 12.5, "max_write_inflight": 1, "concurrency": 1}}
    assert limits_text(pinned) == "12.5 requests a second, 1 write at once, 1 row at once"
    assert rate_text({}) == "a rate found by itself"
