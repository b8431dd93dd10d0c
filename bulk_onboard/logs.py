"""The one structlog configuration: console on a TTY, JSON lines otherwise, secrets redacted.

The engine binds the row and step being worked on with
`structlog.contextvars.bound_contextvars(row=..., step=...)`, so every event logged meanwhile,
the API client's included, carries them. Events are snake_case names from EVENTS; the data goes in key-values.
The redaction processor runs last before rendering, over every value (nested dicts, lists,
formatted tracebacks included), so an API token never reaches the output.

Levels: `info` (the default off a terminal) has the run's start and end, progress, every row
that did not succeed and every warning; `debug` adds each step and each row that succeeded,
each retry and each refused request. A warning repeated with the same event, error class and method
(250 writes refused by a spent budget) is logged once; `flush_repeats()` then logs one line
with how many more there were. The counts belong to a run when it has its own
(`own_repeats()`, for runs at once in one process), else to the process.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import sys
from collections.abc import Coroutine, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO, TypeVar

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["auto", "console", "json"]

# The fixed event vocabulary. Data goes in key-values, never in the event name.
EVENTS: frozenset[str] = frozenset(
    {
        # run
        "run_started",
        "run_finished",
        "run_stopped",
        "run_paused",  # a 429 paused every request; resume_in seconds
        "run_resumed",
        "budget_exhausted",  # the portal's long-term budget is spent; stop sending
        "report_written",
        "journal_loaded",
        "rows_held_back",  # rows: undo took them back, reported skipped
        "undone_rows_forgotten",  # rows: redone (--redo) or gone from their export
        "guard_checked",  # what the run would create (new_rooms, new_people) against the limits
        "guard_stopped_run",  # the guard stopped the run before its first write; reason
        "partial_room_view",  # the key cannot see every room: client rooms refused or acknowledged
        # undo of a run
        "undo_started",
        "undo_step",  # what: archived, removed, disabled, deleted, offboarded; item
        "undo_failed",  # item, error
        "undo_finished",
        # rows and steps
        "row_finished",
        "row_failed",
        "step_finished",
        "ambiguous_write",  # a write's outcome is unknown; look before retrying
        "looked_again",  # after an ambiguous write: looks, window_s, found
        "room_title_kept",  # a client's room keeps its title (playbook room.rename = false)
        "room_template_not_used",  # the room template cannot be used: why, and the path taken
        "template_job_waiting",  # another room-from-template job runs: waited for before ours
        "lock_taken_over",  # the portal lock of a run that died was taken over
        # the portal's lease (engine/lease.py), seen by every machine
        "portal_lease_taken",
        "portal_lease_taken_over",  # a marker with no beat for too long, or of a dead process
        "portal_lease_beat_failed",
        "portal_lease_lost",  # the run stops at once
        "portal_lease_not_released",  # its marker is taken over once stale
        "portal_lease_unavailable",  # the run goes on without the lease
        "share_warning",  # the portal accepted a share with a warning
        "share_skipped_api_user",  # the run's own account named in a sheet: no entry, once
        "progress",  # periodic: done, total, rows_per_second, eta_seconds, failed
        "stop_waiting",  # a stop waits for lost writes: writes, waits_s, message
        # CRM announcements
        "crm_retrying",
        "crm_delivered",
        # requests (api client)
        "request_finished",
        "request_retrying",  # method, path, attempt, delay, reason
        "request_failed",
        "rate_limited",  # one 429: method, path, retry_after
        # the run's limits (api/pacing.py, api/inflight.py, api/outage.py)
        "rate_limit_learned",  # state, limit, allowance, window_s: the portal's window
        "rate_limit_shared",  # limit, ours, allowance: another client spends the same budget
        "inflight_cap_lowered",  # kind, cap, in_flight: a 429 without headers
        "inflight_cap_named",  # kind, cap, named, in_flight: a 429 naming the lane's cap
        "limits_final",  # rate, writes, reads, outage: how the limits ended
        "outage_started",  # the portal stopped answering; requests wait
        "outage_ended",  # seconds, probes
        "outage_spent",  # waited --outage-wait seconds: the run fails
        # who is told how the run ended ([notify])
        "notify_sent",  # run_id, to
        "notify_failed",  # run_id, to, error: the run's outcome is not changed
        # what follows a run (runs/after_run.py): [runs] keep, and the fleet's after-run work
        "runs_pruned",  # run_id, keep, removed
        "runs_not_pruned",  # run_id, error: another run holds the report folder
        "after_run_failed",  # run_id, error: a portal's after-run work broke; its outcome stands
        # a fleet of portals (fleet/)
        "portal_finished",  # portal, state, verdict, run_id
        "portal_failed",  # portal, error: a portal's run broke; the others go on
        "portal_resumed",  # portal, run_id: its stopped (or orphaned) run goes on
        "state_store_unreachable",  # name, error: the shared state (Redis) is not answering;
        # the portal's state folder alone is read and written meanwhile
        "run_restored",  # portal, run_id, lines: a run folder made again from the shared state
        "run_not_restored",  # portal, run_id, error: it could not be; a new run looks instead
    }
)

# ---- a run's own values, in a process that may run several at once -----------------------
#
# A run's own values (the watchers of its requests, its repeated-warning counts) live in
# ContextVars, so every task the run starts inherits them and another run's tasks do not see
# them. A task started in a context of its own (`create_task(..., context=Context())`, as the
# invitation batches are, so their log lines carry no row) would lose them: the vars named
# with `carry` are copied into such a task from the context that starts it, by a task factory
# that `follow()` puts on the running loop (once per loop, keeping any factory it had).

T = TypeVar("T")

_carried: list[contextvars.ContextVar[Any]] = []
_MISSING = object()


def carry(var: contextvars.ContextVar[T]) -> contextvars.ContextVar[T]:
    """Copy `var` into tasks started in a context of their own."""
    _carried.append(var)
    return var


class _Factory:
    """The loop's task factory: the carried vars follow a task into its own context."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context | None = None,
    ) -> asyncio.Future[Any]:
        if context is not None:
            for var in _carried:
                value = var.get(_MISSING)
                if value is not _MISSING and var not in context:
                    context.run(var.set, value)
        if self.previous is not None:
            if context is None:
                return self.previous(loop, coro)  # type: ignore[no-any-return]
            return self.previous(loop, coro, context=context)  # type: ignore[no-any-return]
        return asyncio.Task(coro, loop=loop, context=context)


def follow() -> None:
    """Make the carried vars follow tasks on the running loop (no loop: nothing to do)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    factory = loop.get_task_factory()
    if not isinstance(factory, _Factory):
        loop.set_task_factory(_Factory(factory))  # type: ignore[arg-type]


# What makes two warnings "the same" for the burst filter.
_REPEAT_KEYS = ("event", "error", "method")


@dataclass
class Repeats:
    """The warnings seen, and how many more times each came."""

    counts: dict[tuple[Any, ...], int] = field(default_factory=dict)
    first: dict[tuple[Any, ...], EventDict] = field(default_factory=dict)

    def clear(self) -> None:
        self.counts.clear()
        self.first.clear()


_process_repeats = Repeats()  # a run without repeats of its own (`own_repeats`) counts here
_run_repeats: ContextVar[Repeats] = carry(ContextVar("bulk_onboard_repeats"))


def _repeats() -> Repeats:
    return _run_repeats.get(_process_repeats)


@contextmanager
def own_repeats() -> Iterator[Repeats]:
    """Count the warnings logged from this context apart (one of several runs at once), and
    log their repeats when the block ends."""
    follow()
    token = _run_repeats.set(Repeats())
    try:
        yield _run_repeats.get()
    finally:
        flush_repeats()
        _run_repeats.reset(token)


REDACTED = "[redacted]"
_KEY_PATTERN = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}")
_secrets: tuple[str, ...] = ()


def register_secret(value: str) -> None:
    """Add a value that must never appear in logs or error texts (e.g. the API token)."""
    global _secrets
    if value and value not in _secrets:
        _secrets = (*_secrets, value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with API-key-looking strings and every registered or given secret masked."""
    for secret in (*_secrets, *secrets):
        if secret:
            text = text.replace(secret, REDACTED)
    return _KEY_PATTERN.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redact_value(v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return redact(str(value))


def redact_processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every value of the event."""
    return {key: _redact_value(value) for key, value in event_dict.items()}


def collapse_repeats(_logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: a warning like one already logged is counted, not logged."""
    if method not in ("warning", "warn"):
        return event_dict
    key = tuple(str(event_dict.get(k)) for k in _REPEAT_KEYS)
    seen = _repeats()
    if key in seen.counts:
        seen.counts[key] += 1
        raise structlog.DropEvent
    seen.counts[key] = 0
    seen.first[key] = {k: v for k, v in event_dict.items() if k in _REPEAT_KEYS}
    return event_dict


def flush_repeats() -> None:
    """One line per warning that was repeated: the event, and how many more times it came
    (the warnings of this context's run, `own_repeats`, else those of the process)."""
    logger = structlog.get_logger("bulk_onboard")
    seen = _repeats()
    for key, more in list(seen.counts.items()):
        if more:
            fields = {k: v for k, v in seen.first[key].items() if k != "event"}
            seen.counts.pop(key)
            logger.info(str(seen.first[key]["event"]), repeated=more, **fields)
    seen.clear()


def configure(
    *,
    fmt: LogFormat = "auto",
    level: str = "info",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure structlog for the process. `auto` renders for humans on a TTY, else JSON."""
    out = stream if stream is not None else sys.stderr
    for secret in secrets:
        register_secret(secret)
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    use_console = fmt == "console" or (fmt == "auto" and _is_tty(out))
    renderer: Processor
    if use_console:
        renderer = structlog.dev.ConsoleRenderer(colors=_is_tty(out))
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    _repeats().clear()
    processors: list[Processor] = [
        collapse_repeats,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # closed stream
        return False
