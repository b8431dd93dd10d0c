"""The DocSpace wire format, with no I/O: envelopes, Retry-After, error classification.

Every failure is classified here, once, into what the caller should do next
(bulk_onboard.errors): retry (TransientError, RateLimited), look before retrying
(AmbiguousWrite), stop writing (BudgetExhausted), fail the row (PermanentError) or stop the
run (FatalError). See docspace-api.md sections 2 (envelopes) and 7 (429); request bodies are
built in bodies.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

from bulk_onboard.errors import (
    AmbiguousWrite,
    ApiError,
    BudgetExhausted,
    PermanentError,
    PortalUnreachable,
    PortalUnusable,
    RateLimited,
    Refusal,
    TokenRefused,
    TransientError,
)
from bulk_onboard.logs import redact
from bulk_onboard.model.titles import TITLE_MAX as TITLE_MAX  # the portal's title cleaning
from bulk_onboard.model.titles import stored_title as stored_title

TransportFailure = Literal["connect", "connect_timeout", "timeout", "disconnect", "tls"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# 5xx that mean "the server or a proxy failed this time"; 501/505 will fail every time.
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})
TOKEN_REFUSED = "the portal refused the API token; check DOCSPACE_TOKEN (or --token-file)"
EXCERPT_CHARS = 200


# ----------------------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: the envelope's `response` and its counters."""

    status: int
    response: Any  # None when the portal sent no `response` (e.g. a deleted link)
    count: int | None = None
    total: int | None = None


def decode_json(raw: bytes) -> Any:
    """The parsed body, or None when it is empty or not JSON (a 401 challenge is empty)."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds: integer seconds (what DocSpace sends) or an HTTP-date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text)) if text.replace(".", "", 1).isdigit() else _date(text, now)
    except (TypeError, ValueError, OverflowError):
        return None


def _date(text: str, now: datetime | None) -> float:
    when = parsedate_to_datetime(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def excerpt(raw: bytes | str, secrets: Iterable[str] = ()) -> str:
    """A short, single-line, redacted excerpt of a body for error texts."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = redact(" ".join(text.split()), secrets)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3] + "..."


def portal_message(body: Any) -> str:
    """The portal's own explanation: error.message, or a validation summary, or ''."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    problem = body.get("response")
    if isinstance(problem, dict) and ("errors" in problem or "title" in problem):
        return validation_summary(problem)
    return ""


def validation_summary(problem: Mapping[str, Any]) -> str:
    """'<title>: Field: reason; Other: reason' from an ASP.NET ValidationProblemDetails."""
    title = str(problem.get("title") or "the portal rejected the request")
    errors = problem.get("errors")
    parts: list[str] = []
    if isinstance(errors, dict):
        for field, reasons in errors.items():
            texts = reasons if isinstance(reasons, list) else [reasons]
            parts.append(f"{field}: {' '.join(str(t) for t in texts)}")
    elif isinstance(errors, list):
        parts.extend(str(e) for e in errors)
    return f"{title.rstrip('.')}: {'; '.join(parts)}" if parts else title


_ENVELOPE_END = re.compile(rb'"status"\s*:\s*0\s*,\s*"statusCode"\s*:\s*2\d\d\s*}\s*$')


def read_reply(
    method: str,
    path: str,
    status: int,
    raw: bytes,
    headers: Mapping[str, str],
    *,
    max_retry_after: float,
    secrets: Iterable[str] = (),
    now: datetime | None = None,
    unread: bool = False,
) -> Reply:
    """Unwrap a success envelope, or raise the classified ApiError.

    `unread`: the caller does not read the answer. A 2xx whose envelope ends with status 0
    and a 2xx statusCode is then not decoded at all (an invitation's answer lists every
    pending user of the portal: megabytes the tool never looks at); anything else is decoded
    and checked as usual."""
    if unread and 200 <= status < 300 and _ENVELOPE_END.search(raw[-96:]):
        return Reply(status=status, response=None)
    body = decode_json(raw)
    envelope = body if isinstance(body, dict) else None
    failed = status >= 400 or (envelope is not None and envelope.get("status") == 1)
    if not failed and 200 <= status < 300:
        return _success(method, path, status, raw, body, secrets)
    effective = status
    if status < 400 and envelope is not None:
        code = _opt_int(envelope.get("statusCode"))
        effective = code if code is not None and code >= 400 else status
    raise classify(
        method,
        path,
        effective,
        portal_message(body),
        retry_after=parse_retry_after(headers.get("Retry-After"), now),
        max_retry_after=max_retry_after,
        body_excerpt=excerpt(raw, secrets),
        secrets=secrets,
        location=headers.get("Location"),
    )


def _success(
    method: str, path: str, status: int, raw: bytes, body: Any, secrets: Iterable[str]
) -> Reply:
    """A 2xx that is not a failure envelope: its `response` and counters."""
    if body is None and raw.strip():
        raise PortalUnusable(
            "the portal answered with something that is not the DocSpace API (not JSON); "
            "check DOCSPACE_URL",
            method=method,
            path=path,
            status=status,
            body_excerpt=excerpt(raw, secrets),
        )
    if not isinstance(body, dict):
        return Reply(status=status, response=body)
    return Reply(
        status=status,
        response=body.get("response"),
        count=_opt_int(body.get("count")),
        total=_opt_int(body.get("total")),
    )


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def classify(
    method: str,
    path: str,
    status: int,
    message: str = "",
    *,
    retry_after: float | None = None,
    max_retry_after: float,
    body_excerpt: str = "",
    secrets: Iterable[str] = (),
    location: str | None = None,
) -> ApiError:
    """The one place an HTTP failure becomes an exception type."""
    said = redact(message, secrets).strip()
    kw: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "body_excerpt": body_excerpt,
    }
    if status == 429:
        if retry_after is not None and retry_after > max_retry_after:
            return BudgetExhausted(
                f"the portal's request budget is spent: it asks to wait {_duration(retry_after)}, "
                f"longer than this run waits ({_duration(max_retry_after)})",
                retry_after=retry_after,
                **kw,
            )
        wait = f"retry after {retry_after:g}s" if retry_after is not None else "no Retry-After"
        return RateLimited(f"rate limited by the portal ({wait})", retry_after=retry_after, **kw)
    if status == 401:
        return TokenRefused(TOKEN_REFUSED + (f" (portal said: {said})" if said else ""), **kw)
    if status in TRANSIENT_STATUSES:
        reason = said or _REASONS.get(status, "server error")
        if method.upper() in SAFE_METHODS:
            return TransientError(f"the portal failed: {reason}", **kw)
        return AmbiguousWrite(
            f"the portal failed after receiving the request, so it may or may not have been "
            f"applied: {reason}",
            **kw,
        )
    if 300 <= status < 400:
        where = f" to {location.split('?')[0]}" if location else ""
        return PortalUnusable(
            f"the portal redirected the request{where}; check DOCSPACE_URL (https, host, path)",
            **kw,
        )
    reason = said or _REASONS.get(status, "request refused")
    return PermanentError(reason, refusal=refusal_of(status, said), **kw)


def refusal_of(status: int, said: str) -> Refusal | None:
    """Which known refusal the portal's message names (its texts, docspace-api.md 2)."""
    if "already registered" in said:
        return Refusal.EMAIL_TAKEN
    if status == 403 and "maximum number of links" in said.lower():
        return Refusal.LINK_LIMIT
    return None


def transport_error(method: str, path: str, failure: TransportFailure, detail: str) -> ApiError:
    """A request that got no HTTP answer. Only connect failures certainly had no effect."""
    detail = redact(detail)
    if failure == "tls":
        return PortalUnusable(
            f"the portal's TLS certificate was not accepted ({detail}); check DOCSPACE_URL",
            method=method,
            path=path,
        )
    if failure in ("connect", "connect_timeout"):
        return PortalUnreachable(
            f"could not connect to the portal: {detail}", method=method, path=path
        )
    what = "timed out" if failure == "timeout" else "lost the connection"
    if method.upper() in SAFE_METHODS:
        return TransientError(f"the request {what}: {detail}", method=method, path=path)
    return AmbiguousWrite(
        f"the request {what} after it was sent, so it may or may not have been applied: {detail}",
        method=method,
        path=path,
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g}s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60}h{minutes % 60:02d}m"


_REASONS: dict[int, str] = {
    400: "bad request",
    402: "the portal's plan or quota does not allow this",
    403: "access denied",
    404: "not found",
    408: "request timeout",
    409: "conflict",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def path_id(value: int | str) -> str:
    """An id as one segment of a request path (quoted; a bool is refused, not sent as 1)."""
    if isinstance(value, bool):
        raise TypeError(f"an id must be an integer or string, not {value!r}")
    return quote(str(value), safe="")
