"""A run's journal kept in the shared state too, so that a run whose machine died can be
resumed on another (fleet `state = "redis://…"`; nothing of this without it).

    bulk-onboard:portal:<digest>:run:<run id>       the run folder's run.json
    bulk-onboard:portal:<digest>:journal:<run id>   a list of the journal's lines, in order
                                                    (an element: lines sent at once, by "\n")

`JournalMirror` takes each line the journal writes (runs/journal.py) and sends it to Redis from
a thread of its own: the run's loop only puts the line on a list, and the lines of the next
GATHER seconds are sent with it in one round trip (one list element), after the one before
has been answered. A machine that dies loses the lines of its last moment from the shared
journal (its resume looks at the portal for those steps, as for any step not journalled). A
Redis that does not answer is a warning (`state_store_unreachable`, once): the lines wait and
are sent when it answers again, the run goes on with its local journal; closing waits for the
last ones at most `CLOSE_WAIT` seconds. A journal opened again (a resumed run) puts its whole local
journal in place of the stored one first. Both keys expire `KEPT_SECONDS` after the run's
last line, and go as soon as the fleet settles the run's night as anything but stopped (nothing
will resume it). A journal holds what the portal confirmed (ids, titles, addresses), never a
token.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.config import Settings
from bulk_onboard.state.store import redis_prefix

log = structlog.get_logger("bulk_onboard")

KEPT_SECONDS = 3 * 86_400
CLOSE_WAIT = 2.0  # seconds a closing journal waits for its last lines to be sent
RETRY_AFTER = 1.0  # seconds between tries while Redis does not answer
GATHER = 0.02  # seconds a line waits for the next ones, to be sent with them
EXPIRE_EVERY = 60.0  # seconds between two settings of the keys' time to live
CHUNK = 1_000  # lines in one list element
TIMEOUT = 5.0  # seconds a mirror's Redis call may take


def run_key(portal_url: str, run_id: str) -> str:
    return f"{redis_prefix(portal_url)}:run:{run_id}"


def journal_key(portal_url: str, run_id: str) -> str:
    return f"{redis_prefix(portal_url)}:journal:{run_id}"


_clients: dict[str, Any] = {}


def mirror_client(url: str) -> Any:
    """A client whose calls give up after TIMEOUT: a Redis that stops answering holds a
    mirror's thread that long, never the run."""
    if url not in _clients:
        import redis  # the [fleet] extra
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        _clients[url] = redis.Redis.from_url(  # no retries within a call: the mirror tries again
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
    return _clients[url]


class JournalMirror:
    """Send the lines of one run's journal to Redis, in order, off the run's loop."""

    def __init__(
        self,
        client: Any,
        portal_url: str,
        run_id: str,
        run_dir: Path,
        close_wait: float = CLOSE_WAIT,
    ) -> None:
        import redis  # the [fleet] extra

        self.client = client
        self.close_wait = close_wait
        self.key = journal_key(portal_url, run_id)
        self.meta_key = run_key(portal_url, run_id)
        self._errors = (redis.RedisError, OSError)
        meta = run_dir / "run.json"
        self._meta = meta.read_bytes() if meta.is_file() else None
        journal = run_dir / "journal.jsonl"
        self._replace = _lines(journal.read_bytes()) if journal.is_file() else None
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._wake.set()  # run.json (and a resumed run's journal) go at once
        self._closed = threading.Event()
        self._closing = False
        self._warned = False
        self._expired = -EXPIRE_EVERY
        self.sent = 0
        context = contextvars.copy_context()  # the log lines keep the run's portal
        self._thread = threading.Thread(
            target=context.run, args=(self._loop,), name=f"journal-{run_id}", daemon=True
        )
        self._thread.start()

    def add(self, line: bytes) -> None:
        """One journal line (without its newline), to be sent soon."""
        with self._lock:
            self._pending.append(line)
        if not self._wake.is_set():  # the sender clears it before it takes the lines waiting
            self._wake.set()

    def close(self) -> None:
        """Send what is left (waiting at most `close_wait` seconds), then stop."""
        self._closing = True
        self._closed.set()
        self._wake.set()
        self._thread.join(self.close_wait)
        if self._thread.is_alive() or self._pending:
            log.warning("state_store_unreachable", name="journal", unsent=len(self._pending))

    def join(self, timeout: float) -> bool:
        """Wait for the sending thread to end (after `close`); whether it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._closed.wait(GATHER)  # the lines of the next moments go with it
            self._wake.clear()
            if not self._send():
                if self._closing:
                    return
                self._closed.wait(RETRY_AFTER)  # Redis does not answer: try again later
                self._wake.set()
                continue
            if self._closing and not self._pending:
                return

    def _send(self) -> bool:
        """Send every line waiting, in one round trip; False when Redis did not take them."""
        with self._lock:
            batch = list(self._pending)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                self._first(pipe)
                if batch:
                    pipe.rpush(self.key, *_elements(batch))
                expire = time.monotonic() - self._expired >= EXPIRE_EVERY
                if expire:
                    pipe.expire(self.key, KEPT_SECONDS)
                    pipe.expire(self.meta_key, KEPT_SECONDS)
                pipe.execute()
        except self._errors as exc:
            if not self._warned:
                log.warning("state_store_unreachable", name="journal", error=type(exc).__name__)
                self._warned = True
            return False
        self._meta = self._replace = None
        self._expired = time.monotonic() if expire else self._expired
        with self._lock:
            del self._pending[: len(batch)]
        self.sent += len(batch)
        return True

    def _first(self, pipe: Any) -> None:
        """What goes before the first lines: run.json, and a resumed run's whole journal."""
        if self._meta is not None:
            pipe.set(self.meta_key, self._meta)
        if self._replace is not None:
            pipe.delete(self.key)
            if self._replace:
                pipe.rpush(self.key, *_elements(self._replace))


def _lines(raw: bytes) -> list[bytes]:
    return [line for line in raw.split(b"\n") if line.strip()]


def _elements(lines: list[bytes]) -> list[bytes]:
    """Lines as list elements of up to CHUNK lines each (one element costs what one line
    would: the lines are not encoded one by one)."""
    return [b"\n".join(lines[at : at + CHUNK]) for at in range(0, len(lines), CHUNK)]


def stored_lines(client: Any, portal_url: str, run_id: str) -> list[bytes]:
    """The run's journal lines the shared state holds, in order."""
    elements = client.lrange(journal_key(portal_url, run_id), 0, -1)
    return [line for element in elements for line in _lines(bytes(element))]


def journal_mirror(settings: Settings, run_id: str, run_dir: Path) -> JournalMirror | None:
    """The run's mirror in the shared state, None when the portal's state is not shared."""
    if not settings.state_store:
        return None
    return JournalMirror(mirror_client(settings.state_store), settings.portal_url, run_id, run_dir)


@dataclass(frozen=True, slots=True)
class StoredRun:
    """What the shared state holds of a run: its run.json and its journal's lines."""

    meta: dict[str, Any]
    journal: list[bytes]


def stored_run(settings: Settings, run_id: str) -> StoredRun | None:
    """The run's run.json and journal from the shared state (None: it holds none, or does not
    answer)."""
    if not settings.state_store:
        return None
    import redis  # the [fleet] extra

    client = mirror_client(settings.state_store)
    try:
        meta = client.get(run_key(settings.portal_url, run_id))
        lines = stored_lines(client, settings.portal_url, run_id)
        found = json.loads(meta) if meta is not None else None
    except (redis.RedisError, OSError, ValueError) as exc:
        log.warning("state_store_unreachable", name="journal", error=type(exc).__name__)
        return None
    if not isinstance(found, dict) or found.get("run_id") != run_id:
        return None
    return StoredRun(found, lines)


def forget_run(state_store: str, portal_url: str, run_id: str) -> None:
    """Remove the run's journal from the shared state `state_store` (nothing will resume it)."""
    if not state_store:
        return
    import redis  # the [fleet] extra

    try:
        mirror_client(state_store).delete(
            journal_key(portal_url, run_id), run_key(portal_url, run_id)
        )
    except (redis.RedisError, OSError) as exc:  # it expires anyway
        log.warning("state_store_unreachable", name="journal", error=type(exc).__name__)
