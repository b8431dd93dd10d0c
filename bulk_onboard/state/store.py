"""Where a portal's state lives: what must outlive a run against the portal (the CRM ledger,
when it last refused writes for the day, a fleet's record of each night), by name.

Two places, one interface (`PortalStore`):

- `FolderStore`: files in the portal's state folder (config.portal_state_dir), the default;
  a name is a file, `lines`/`append` a file of one line each.
- `RedisStore` (`state = "redis://…"` in a fleet file: Settings.state_store): the same names
  as Redis keys under `bulk-onboard:portal:<digest of the portal's address>:`, shared by every
  machine running the portal, and every write kept in the local folder too. A Redis without
  persistence (or flushed) then loses nothing this machine wrote: the CRM ledger read is the
  union of both, so a restarted Redis does not make a machine announce every client again.
  Its calls are on the run's loop: each gives up after TIMEOUT seconds, and a call that failed
  (refused, timed out) leaves Redis alone for RETRY_AFTER seconds, the local folder alone read
  and written meanwhile, with one warning (`state_store_unreachable`) per outage.

Nothing stored is a token. Whoever keeps per-portal state calls `portal_store(settings)` and
reads and writes names through it (read/write for one document, lines/append for a set,
entries/add_entries/replace_entries for a log whose order matters: the last line of a key wins).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import structlog

from bulk_onboard.config import Settings, portal_state_dir

log = structlog.get_logger("bulk_onboard")
T = TypeVar("T")


class PortalStore(Protocol):
    """One portal's state, by name (a file name, e.g. "crm-delivered.txt")."""

    def read(self, name: str) -> str | None:
        """The document `name`, None when there is none (OSError, UnicodeDecodeError when it
        cannot be read: a ledger read as empty would announce every client again)."""

    def write(self, name: str, text: str) -> None:
        """Replace the document `name` (atomically)."""

    def lines(self, name: str) -> set[str]:
        """Every line `append` added to `name`."""

    def append(self, name: str, lines: Sequence[str]) -> None:
        """Add lines to `name`, durably, before returning."""

    def entries(self, name: str) -> list[str] | None:
        """The lines `add_entries` added to `name`, in order; None when it never had any."""

    def add_entries(self, name: str, lines: Sequence[str]) -> None:
        """Add lines to the end of `name`: kept by a process that dies at once, on disk
        within SYNC_EVERY seconds (a log written line by line is not synced line by line)."""

    def replace_entries(self, name: str, lines: Sequence[str]) -> None:
        """Replace every line of `name` (compacted), at once for a reader."""


SYNC_EVERY = 1.0  # seconds: an entries log is synced to disk at most this often
TIMEOUT = 5.0  # seconds a RedisStore's call (or its connecting) may take
RETRY_AFTER = 60.0  # seconds Redis is left alone after a call of a RedisStore failed


class FolderStore:
    """A portal's state as files in its state folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._synced = -SYNC_EVERY  # the first entry goes to disk at once

    def read(self, name: str) -> str | None:
        try:
            return (self.folder / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write(self, name: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        scratch = target.with_name(f".{name}.tmp")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(target)

    def lines(self, name: str) -> set[str]:
        text = self.read(name) or ""
        return {line.strip() for line in text.splitlines() if line.strip()}

    def append(self, name: str, lines: Sequence[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / name).open("a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self, name: str) -> list[str] | None:
        text = self.read(name)
        return None if text is None else [line for line in text.splitlines() if line.strip()]

    def add_entries(self, name: str, lines: Sequence[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / name).open("a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()  # a process that dies keeps it; the disk has it within SYNC_EVERY
            if time.monotonic() - self._synced >= SYNC_EVERY:
                os.fsync(fh.fileno())
                self._synced = time.monotonic()

    def replace_entries(self, name: str, lines: Sequence[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        aside = self.folder / f"{name}.new"
        with aside.open("w", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(aside, self.folder / name)


def redis_prefix(portal_url: str) -> str:
    """`bulk-onboard:portal:<digest>`: the same for every machine and fleet file naming the
    portal (the address alone, as the lease's key)."""
    address = portal_url.strip().rstrip("/").lower()
    return f"bulk-onboard:portal:{hashlib.sha256(address.encode()).hexdigest()[:12]}"


class Outage:
    """Whether a Redis's last call failed: the stores of one client share it, so that a Redis
    that does not answer costs one call's TIMEOUT per RETRY_AFTER, and one warning."""

    def __init__(self) -> None:
        self.until = 0.0  # time.monotonic() before which Redis is left alone
        self.warned = False

    def skipping(self) -> bool:
        return time.monotonic() < self.until

    def failed(self, name: str, exc: Exception) -> None:
        self.until = time.monotonic() + RETRY_AFTER
        if not self.warned:
            self.warned = True
            log.warning("state_store_unreachable", name=name, error=type(exc).__name__)

    def answered(self) -> None:
        self.warned = False


class RedisStore:
    """A portal's state in Redis, shared by every machine, each write kept locally too. A
    Redis that cannot be reached is a warning: the local folder alone is read and written."""

    def __init__(
        self, client: Any, portal_url: str, local: FolderStore, outage: Outage | None = None
    ) -> None:
        import redis  # the [fleet] extra

        self.client = client
        self.prefix = redis_prefix(portal_url)
        self.local = local
        self.outage = outage or Outage()
        self._errors = (redis.RedisError, OSError)

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _call(self, name: str, call: Callable[[], T], otherwise: T) -> T:
        """call() against Redis; `otherwise` when it failed or Redis is left alone meanwhile."""
        if self.outage.skipping():
            return otherwise
        try:
            result = call()
        except self._errors as exc:
            self.outage.failed(name, exc)
            return otherwise
        self.outage.answered()
        return result

    def read(self, name: str) -> str | None:
        raw = self._call(name, lambda: self.client.get(self._key(name)), None)
        if raw is None:
            return self.local.read(name)
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def write(self, name: str, text: str) -> None:
        self.local.write(name, text)
        self._call(name, lambda: self.client.set(self._key(name), text), None)

    def lines(self, name: str) -> set[str]:
        members: set[Any] = self._call(name, lambda: self.client.smembers(self._key(name)), set())
        shared = {m.decode() if isinstance(m, bytes) else str(m) for m in members}
        return shared | self.local.lines(name)

    def append(self, name: str, lines: Sequence[str]) -> None:
        self.local.append(name, lines)
        if lines:
            self._call(name, lambda: self.client.sadd(self._key(name), *lines), None)

    def entries(self, name: str) -> list[str] | None:
        """Redis's list when it has one (every machine's lines), else this machine's."""
        raw: list[Any] = self._call(name, lambda: self.client.lrange(self._key(name), 0, -1), [])
        if not raw:
            return self.local.entries(name)
        return [r.decode() if isinstance(r, bytes) else str(r) for r in raw]

    def add_entries(self, name: str, lines: Sequence[str]) -> None:
        self.local.add_entries(name, lines)
        if lines:
            self._call(name, lambda: self.client.rpush(self._key(name), *lines), None)

    def replace_entries(self, name: str, lines: Sequence[str]) -> None:
        self.local.replace_entries(name, lines)

        def replace() -> None:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(self._key(name))
                if lines:
                    pipe.rpush(self._key(name), *lines)
                pipe.execute()

        self._call(name, replace, None)


_clients: dict[str, Any] = {}
_state_clients: dict[str, tuple[Any, Outage]] = {}


def redis_client(url: str) -> Any:
    """One client (connection pool) per address for the process."""
    if url not in _clients:
        import redis  # the [fleet] extra

        _clients[url] = redis.Redis.from_url(url)
    return _clients[url]


def state_client(url: str) -> tuple[Any, Outage]:
    """The portal stores' client of an address (its calls give up after TIMEOUT, not tried
    again within a call: the store falls back to its folder) and its outage, per process."""
    if url not in _state_clients:
        import redis  # the [fleet] extra
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
        _state_clients[url] = (client, Outage())
    return _state_clients[url]


def portal_store(settings: Settings) -> PortalStore:
    """The settings' portal's state: Redis when `state_store` names one, else its folder."""
    return store_for(settings.state_dir, settings.portal_url, settings.state_store)


def store_for(state_dir: Path, portal_url: str, state_store: str = "") -> PortalStore:
    """The portal's state kept in `state_dir`, and in Redis when `state_store` names one."""
    local = FolderStore(portal_state_dir(state_dir, portal_url))
    if not state_store:
        return local
    client, outage = state_client(state_store)
    return RedisStore(client, portal_url, local, outage)
