"""A refusal naming the cap a concurrency refusal of the run named before is the concurrency
limiter's, also once our in-flight cap is down to it (never a window of that size)."""

from __future__ import annotations

import pytest

from bulk_onboard.api.inflight import InflightCap, Slot
from bulk_onboard.api.pacing import Refusal
from bulk_onboard.api.retrying import CONCURRENCY, WINDOW, limiter_of


def refusal(limit: int) -> Refusal:
    return Refusal(None, limit, 0, False)


# (name, limit named, in flight with it, the cap named before) -> limiter
CASES = [
    ("3 named before, 3 in flight: our cap is 3, the portal's too", 3, 3, 3, CONCURRENCY),
    ("3 named before, 2 in flight: a request it still counted", 3, 2, 3, CONCURRENCY),
    ("nothing named before, 3 in flight: the one past a cap of 3 would be 4", 3, 3, None, WINDOW),
    ("3 named before, a window of 1,500 named", 1500, 3, 3, WINDOW),
]


@pytest.mark.parametrize(
    ("limit", "held", "named", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_named_cap_stays_the_concurrency_limiters(
    limit: int, held: int, named: int | None, expected: str
) -> None:
    assert limiter_of(refusal(limit), held, 15, named) == expected


def test_the_cap_remembers_what_the_portal_named() -> None:
    cap = InflightCap("writes", start=15, ceiling=15)
    assert cap.named_limit is None
    cap.named(Slot(0, 4), 3)
    assert (cap.named_limit, cap.limit) == (3, 3)
