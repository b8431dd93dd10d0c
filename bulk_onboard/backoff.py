"""How long to keep trying: bounded attempts and time, exponential backoff with full jitter.

One policy for every retry bulk-onboard makes: requests to the portal and CRM deliveries.

The policy holds numbers plus the two seams that make waiting testable: `sleep` (awaited for
every wait the client makes) and `random` (a float in [0, 1) for the jitter). A test passes a
sleep that returns at once, so a retry path costs no wall-clock time.
"""

from __future__ import annotations

import asyncio
import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[None]]
Random = Callable[[], float]
Clock = Callable[[], float]


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry bounds for one request, and the longest portal-requested wait worth honouring.

    max_attempts       attempts per request, the first one included (429s not counted)
    max_rate_limited   429s one request may meet before it gives up; each one paused the
                       whole run for its Retry-After, and none had any effect
    base_delay         the backoff ceiling of the first retry, doubled for each later one
    max_delay          the highest backoff ceiling
    max_total_seconds  no retry is started if it would end later than this after the first try
    max_retry_after    a 429 asking to wait longer than this is the daily budget, not a blip:
                       it is reported as BudgetExhausted instead of waited out
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_seconds: float = 300.0
    max_retry_after: float = 300.0
    max_rate_limited: int = 20
    sleep: Sleep = field(default=asyncio.sleep, compare=False, repr=False)
    random: Random = field(default=_random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_rate_limited < 1:
            raise ValueError("max_attempts and max_rate_limited must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")
        if self.max_total_seconds < 0 or self.max_retry_after < 0:
            raise ValueError("time bounds must not be negative")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry): full jitter,
        a uniform draw between 0 and min(max_delay, base_delay * 2 ** (retry - 1))."""
        return self.delay(retry, self.random())

    def delay(self, retry: int, draw: float) -> float:
        """The backoff for retry number `retry` with the jitter `draw` in [0, 1) given."""
        if retry < 1:
            raise ValueError("retry numbers start at 1")
        return draw * min(self.max_delay, self.base_delay * 2.0 ** min(retry - 1, 62))

    @classmethod
    def immediate(cls, max_attempts: int = 4, max_retry_after: float = 300.0) -> RetryPolicy:
        """A policy that never really waits (tests, dry runs): same bounds logic, zero sleep."""
        return cls(
            max_attempts=max_attempts,
            max_retry_after=max_retry_after,
            sleep=_no_wait,
            random=lambda: 0.5,
        )
