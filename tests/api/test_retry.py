"""RetryPolicy: exponential ceilings, full jitter, bounds."""

from __future__ import annotations

import pytest

from bulk_onboard.backoff import RetryPolicy


def test_full_jitter_spans_zero_to_the_exponential_ceiling() -> None:
    low = RetryPolicy(base_delay=1.0, max_delay=10.0, random=lambda: 0.0)
    high = RetryPolicy(base_delay=1.0, max_delay=10.0, random=lambda: 0.999999)
    assert [low.backoff(n) for n in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert [round(high.backoff(n), 3) for n in (1, 2, 3, 4, 5, 60)] == [
        1.0,
        2.0,
        4.0,
        8.0,
        10.0,
        10.0,
    ]


def test_jitter_uses_the_injected_random() -> None:
    draws = iter([0.25, 0.5])
    policy = RetryPolicy(base_delay=2.0, max_delay=100.0, random=lambda: next(draws))
    assert policy.backoff(1) == 0.5  # 0.25 * 2
    assert policy.backoff(3) == 4.0  # 0.5 * 8


def test_huge_retry_numbers_do_not_overflow() -> None:
    assert RetryPolicy(random=lambda: 1.0).backoff(10_000) == 30.0


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)
    with pytest.raises(ValueError):
        RetryPolicy().backoff(0)


async def test_immediate_policy_does_not_wait() -> None:
    policy = RetryPolicy.immediate(max_attempts=3)
    assert policy.max_attempts == 3
    await policy.sleep(3600)  # returns at once, or this test would time out


def test_policies_compare_by_numbers_only() -> None:
    assert RetryPolicy(sleep=RetryPolicy.immediate().sleep) == RetryPolicy()
    assert "sleep" not in repr(RetryPolicy())
