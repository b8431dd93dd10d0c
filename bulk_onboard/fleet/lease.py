"""The portal lease in Redis: one holder at a time for a portal, across machines.

`SET key holder NX PX ttl` takes it; a thread of its own (off the run's event loop, so a busy
loop does not let it lapse) renews it every third of its time with a compare-and-expire, and
calls `lost` the moment a renewal fails (another holder, the key gone, Redis unreachable): the
run is then stopped and writes nothing more. Released with a compare-and-delete. The key holds
the holder's name (host, pid, random part), never a token. Exactly-once still rests on the
engine's look-before-write; the lease keeps two runners off one portal.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import redis

from bulk_onboard.errors import RunLocked
from bulk_onboard.fleet.nights import holder_name

_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end"
)


class Lease:
    """The lease of `key`, held for `seconds` and renewed every `renew_every` seconds."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        seconds: float,
        lost: Callable[[str], None],
        renew_every: float | None = None,
    ) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(seconds * 1000)
        self.renew_every = renew_every if renew_every is not None else seconds / 3
        self.holder = holder_name()
        self._lost = lost
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        if not self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            other = self.client.get(self.key)
            shown = other.decode(errors="replace") if isinstance(other, bytes) else other
            raise RunLocked(f"the portal's lease ({self.key}) is held by {shown}")
        self._thread = threading.Thread(target=self._renew, name=f"lease {self.key}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(redis.RedisError):  # else it lapses with its TTL
            self.client.eval(_RELEASE, 1, self.key, self.holder)

    def _renew(self) -> None:
        while not self._done.wait(self.renew_every):
            try:
                renewed: Any = self.client.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms)
                reason = None if renewed == 1 else "the lease was taken over or expired"
            except redis.RedisError as exc:
                reason = f"the lease could not be renewed ({type(exc).__name__})"
            if reason is not None:
                self._lost(reason)
                return
