"""The portal's global rate-limiter chain (docspace-api.md section 7), per partition.

Applied in the server's order to every API request of one partition (the authenticated
user id, else the client IP):

1. sliding window: at most `window_limit` requests in the last `window_seconds`;
2. concurrency: at most `max_get_inflight` GETs and `max_write_inflight` other requests in
   flight, queue length 0;
3. fixed window: at most `daily_write_limit` POST+PUT per `daily_window_seconds`, the window
   starting at the partition's first counted write.

A request refused by a later limiter has already been counted by the sliding window (the
chained limiter does not give sliding-window permits back). Rejection headers follow the
leases of RedisRateLimiting 1.2.1 (section 7), each limiter its own:

- sliding window (the global one and `sensitive_api`): X-RateLimit-Limit (its permit limit)
  and X-RateLimit-Remaining: 0, no Retry-After, no X-RateLimit-Reset;
- concurrency: X-RateLimit-Limit = the lane's cap (writes or GETs) and X-RateLimit-Remaining
  = the cap less the requests in flight (0), no Retry-After;
- fixed window (the daily writes): X-RateLimit-Limit, X-RateLimit-Remaining, Retry-After
  (whole seconds until the window ends, truncated) and X-RateLimit-Reset (Unix seconds).

The real server's global window is a constant 60 s (only its limit is configurable); the
sandbox lets tests set another length (`window_seconds`) to keep them short.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

WINDOW, CONCURRENCY, DAILY = "window", "concurrency", "daily"
SENSITIVE = "sensitive"
# The named policy `sensitive_api`: 5 requests per 15 minutes per user and path (sliding).
SENSITIVE_LIMIT, SENSITIVE_SECONDS = 5, 900.0


@dataclass(slots=True)
class LimitSettings:
    """The limiter's numbers; mutable at runtime through POST /sandbox/limits."""

    enabled: bool
    window_limit: int
    window_seconds: float
    max_get_inflight: int
    max_write_inflight: int
    daily_write_limit: int
    daily_window_seconds: float

    def as_json(self) -> dict[str, Any]:
        """camelCase names, the same POST /sandbox/limits accepts."""
        return {_camel(name): value for name, value in asdict(self).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True, slots=True)
class Rejection:
    limiter: str
    headers: dict[str, str]


@dataclass(slots=True)
class _Partition:
    window: deque[float] = field(default_factory=deque)
    get_inflight: int = 0
    write_inflight: int = 0
    daily_count: int = 0
    daily_expires_at: int | None = None


class Lease:
    """A granted request; release() frees its concurrency slot (idempotent)."""

    def __init__(self, partition: _Partition | None, is_get: bool) -> None:
        self._partition = partition
        self._is_get = is_get

    def release(self) -> None:
        part, self._partition = self._partition, None
        if part is None:
            return
        if self._is_get:
            part.get_inflight -= 1
        else:
            part.write_inflight -= 1


def _sliding_headers(limit: int) -> dict[str, str]:
    """A sliding window's refusal: its limit and nothing left; no Retry-After, no Reset."""
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0"}


class RateLimiter:
    def __init__(self, settings: LimitSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self._partitions: dict[str, _Partition] = {}
        self.rejections: dict[str, int] = {WINDOW: 0, CONCURRENCY: 0, DAILY: 0}
        self.sensitive_rejections = 0
        self._sensitive: dict[str, deque[float]] = {}
        self.peak_inflight: dict[str, int] = {"GET": 0, "write": 0}

    def reset(self) -> None:
        """Forget every partition's history (in-flight requests keep their slots)."""
        for part in self._partitions.values():
            part.window.clear()
            part.daily_count = 0
            part.daily_expires_at = None
        self._sensitive.clear()
        self.sensitive_rejections = 0
        self.rejections = dict.fromkeys(self.rejections, 0)

    def acquire(self, partition: str, method: str) -> Lease | Rejection:
        part = self._partitions.setdefault(partition, _Partition())
        is_get = method == "GET"
        if not self.settings.enabled:
            self._enter(part, is_get)
            return Lease(part, is_get)
        refused = self._sliding_window(part) or self._concurrency(part, is_get)
        if refused is None and method in ("POST", "PUT"):
            refused = self._daily(part)
        if refused is not None:
            return self._reject(refused)
        self._enter(part, is_get)
        return Lease(part, is_get)

    def sensitive(self, partition: str, path: str) -> Rejection | None:
        """The `sensitive_api` policy an endpoint adds after the global chain (section 7):
        a sliding window of 5 per 15 minutes per partition and path; its rejection carries
        the sliding window's headers."""
        if not self.settings.enabled:
            return None
        now = self.clock()
        window = self._sensitive.setdefault(f"{partition} {path}", deque())
        while window and window[0] <= now - SENSITIVE_SECONDS:
            window.popleft()
        if len(window) < SENSITIVE_LIMIT:
            window.append(now)
            return None
        self.sensitive_rejections += 1
        return Rejection(SENSITIVE, _sliding_headers(SENSITIVE_LIMIT))

    def _reject(self, rejection: Rejection) -> Rejection:
        self.rejections[rejection.limiter] += 1
        return rejection

    def _enter(self, part: _Partition, is_get: bool) -> None:
        if is_get:
            part.get_inflight += 1
            self.peak_inflight["GET"] = max(self.peak_inflight["GET"], part.get_inflight)
        else:
            part.write_inflight += 1
            self.peak_inflight["write"] = max(self.peak_inflight["write"], part.write_inflight)

    def _sliding_window(self, part: _Partition) -> Rejection | None:
        now = self.clock()
        limit, span = self.settings.window_limit, self.settings.window_seconds
        while part.window and part.window[0] <= now - span:
            part.window.popleft()
        if len(part.window) < limit:
            part.window.append(now)
            return None
        return Rejection(WINDOW, _sliding_headers(limit))

    def _concurrency(self, part: _Partition, is_get: bool) -> Rejection | None:
        inflight = part.get_inflight if is_get else part.write_inflight
        limit = self.settings.max_get_inflight if is_get else self.settings.max_write_inflight
        if inflight < limit:
            return None
        return Rejection(
            CONCURRENCY,
            {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - inflight)},
        )

    def _daily(self, part: _Partition) -> Rejection | None:
        now = math.floor(self.clock())
        limit = self.settings.daily_write_limit
        if part.daily_expires_at is None or part.daily_expires_at < now:
            part.daily_count = 0
            part.daily_expires_at = now + math.ceil(self.settings.daily_window_seconds)
        if part.daily_count + 1 <= limit:
            part.daily_count += 1
            return None
        return Rejection(
            DAILY,
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(limit - part.daily_count, 0)),
                "X-RateLimit-Reset": str(part.daily_expires_at),
                "Retry-After": str(part.daily_expires_at - now),
            },
        )

    def usage(self) -> dict[str, Any]:
        now = self.clock()
        span = self.settings.window_seconds
        return {
            key: {
                "windowCount": sum(1 for t in part.window if t > now - span),
                "getInflight": part.get_inflight,
                "writeInflight": part.write_inflight,
                "dailyCount": part.daily_count,
                "dailyResetAt": part.daily_expires_at,
            }
            for key, part in self._partitions.items()
        }
