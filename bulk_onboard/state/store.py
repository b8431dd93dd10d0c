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

Nothing stored is a token. Whoever keeps per-portal state calls `portal_store(settings)` and
reads and writes names through it (read/write for one document, lines/append for a set).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import structlog

from bulk_onboard.config import Settings, portal_state_dir

log = structlog.get_logger("bulk_onboard")


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


class FolderStore:
    """A portal's state as files in its state folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

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


def redis_prefix(portal_url: str) -> str:
    """`bulk-onboard:portal:<digest>`: the same for every machine and fleet file naming the
    portal (the address alone, as the lease's key)."""
    address = portal_url.strip().rstrip("/").lower()
    return f"bulk-onboard:portal:{hashlib.sha256(address.encode()).hexdigest()[:12]}"


class RedisStore:
    """A portal's state in Redis, shared by every machine, each write kept locally too. A
    Redis that cannot be reached is a warning: the local folder alone is read and written."""

    def __init__(self, client: Any, portal_url: str, local: FolderStore) -> None:
        import redis  # the [fleet] extra

        self.client = client
        self.prefix = redis_prefix(portal_url)
        self.local = local
        self._errors = redis.RedisError

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _unreachable(self, name: str, exc: Exception) -> None:
        log.warning("state_store_unreachable", name=name, error=type(exc).__name__)

    def read(self, name: str) -> str | None:
        try:
            raw = self.client.get(self._key(name))
        except self._errors as exc:
            self._unreachable(name, exc)
            raw = None
        if raw is None:
            return self.local.read(name)
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def write(self, name: str, text: str) -> None:
        self.local.write(name, text)
        try:
            self.client.set(self._key(name), text)
        except self._errors as exc:
            self._unreachable(name, exc)

    def lines(self, name: str) -> set[str]:
        try:
            members = self.client.smembers(self._key(name))
        except self._errors as exc:
            self._unreachable(name, exc)
            members = set()
        shared = {m.decode() if isinstance(m, bytes) else str(m) for m in members}
        return shared | self.local.lines(name)

    def append(self, name: str, lines: Sequence[str]) -> None:
        self.local.append(name, lines)
        if not lines:
            return
        try:
            self.client.sadd(self._key(name), *lines)
        except self._errors as exc:
            self._unreachable(name, exc)


_clients: dict[str, Any] = {}


def redis_client(url: str) -> Any:
    """One client (connection pool) per address for the process."""
    if url not in _clients:
        import redis  # the [fleet] extra

        _clients[url] = redis.Redis.from_url(url)
    return _clients[url]


def portal_store(settings: Settings) -> PortalStore:
    """The settings' portal's state: Redis when `state_store` names one, else its folder."""
    return store_for(settings.state_dir, settings.portal_url, settings.state_store)


def store_for(state_dir: Path, portal_url: str, state_store: str = "") -> PortalStore:
    """The portal's state kept in `state_dir`, and in Redis when `state_store` names one."""
    local = FolderStore(portal_state_dir(state_dir, portal_url))
    if not state_store:
        return local
    return RedisStore(redis_client(state_store), portal_url, local)
