"""Every exception bulk-onboard raises, sorted by what to do next.

    BulkOnboardError
    ├── InputError          a file cannot be used at all (unreadable, wrong format, no rows):
    │                       nothing is sent, exit code 2
    ├── ConfigError         a playbook, option or environment value is wrong: exit code 2
    ├── RunLocked           another run holds the report folder: exit code 4
    ├── GuardTripped        the run would create more rooms or people than the playbook's
    │                       [guard] allows: stopped before its first write, exit code 7
    ├── StepFailed          a step of a row failed for good: carries the step key and the
    │                       cause (one of the errors below); the row fails, the run goes on
    ├── RowRefused          bulk-onboard itself refuses a step of a row, before or without a
    │                       portal answer (a manager without an account, a room title held by
    │                       a room that is not ours, an earlier step that left no id to use)
    ├── CrmError            a CRM sink (webhook or file) did not take a record
    └── ApiError            the portal refused or failed a request; carries method, path,
        │                   HTTP status and a redacted excerpt of the body
        ├── TransientError  worth retrying with backoff (429, 502/503/504, timeouts, resets)
        │   ├── RateLimited         a 429; retry_after seconds when the portal said so
        │   ├── PortalUnreachable   no connection could be opened (DNS, refused, connect
        │   │                       timeout): certainly no effect
        │   └── AmbiguousWrite      a write whose outcome is unknown (timeout, 5xx or a dropped
        │                           connection after the request was sent): look before retrying
        ├── BudgetExhausted a 429 whose Retry-After is longer than a run may wait (the daily
        │                   write budget): stop sending, defer what is left
        ├── PermanentError  this row fails, the run goes on (400, 403, 404, 402, ...);
        │                   `refusal` names the few refusals a caller acts on (Refusal)
        └── FatalError      the run cannot go on: stop sending, still write the report
            ├── TokenRefused        the portal refused the token (401)
            ├── PortalUnusable      the address is not a usable DocSpace API (an answer that
            │                       is not JSON, a redirect, a TLS certificate refused)
            └── PortalDown          raised by the engine, not a request: the portal never
                                    answered, or rows kept failing on outages (see
                                    engine/outage.py); the run stops, its rows are interrupted

Every error says whether trying the same thing again later may succeed: `transient` is True
for TransientError (and its subclasses) and for a CrmError whose every failure was transient;
False for the rest. The engine, the CRM delivery and the report read only that flag.

Invalid and failed rows are values (validate.Invalid, report rows), not exceptions.
"""

from __future__ import annotations

from enum import Enum


class BulkOnboardError(Exception):
    """Base of every error bulk-onboard raises on purpose."""

    transient: bool = False  # may the same attempt succeed later?


class InputError(BulkOnboardError):
    """A file cannot be used: the message is one sentence naming the file and what to do."""


class ConfigError(BulkOnboardError):
    """A playbook, option or environment value is wrong."""


class RunLocked(BulkOnboardError):
    """Another run is using the same report folder."""


class GuardTripped(BulkOnboardError):
    """The run would create more than the guard allows; nothing was written."""


class StepFailed(BulkOnboardError):
    """A step of a row failed for good: carries the step key and the cause."""

    def __init__(self, step: str, cause: Exception) -> None:
        super().__init__(str(cause))
        self.step = step
        self.cause = cause


class RowRefused(BulkOnboardError):
    """bulk-onboard refuses a step of a row itself: the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(BulkOnboardError):
    """A request to the portal failed. `may_have_applied`: the request may have taken effect
    (only an AmbiguousWrite: a write that was sent and got no clear answer); a request refused
    at connect (PortalUnreachable) or answered with an error certainly did not."""

    may_have_applied = False

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.body_excerpt = body_excerpt

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.method} {self.path}{status}: {self.message}"


class _WithRetryAfter(ApiError):
    """An ApiError that says how long the portal asked to wait (seconds), if it did."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        body_excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, method=method, path=path, status=status, body_excerpt=body_excerpt
        )
        self.retry_after = retry_after


class TransientError(ApiError):
    """Retry with backoff; the request had no effect or is safe to repeat."""

    transient = True


class RateLimited(_WithRetryAfter, TransientError):
    """HTTP 429. retry_after is the portal's Retry-After in seconds, if it sent one."""


class PortalUnreachable(TransientError):
    """No connection to the portal could be opened: the request had no effect."""


class AmbiguousWrite(TransientError):
    """A write may or may not have been applied: find before trying again."""

    may_have_applied = True
    sent_at: float | None = None  # when the write was sent (monotonic), set by the transport


class BudgetExhausted(_WithRetryAfter):
    """The portal's longer-term budget (e.g. 10,000 writes a day) is spent."""


class Refusal(Enum):
    """The refusals a caller acts on, named once when the answer is classified (api/wire.py)
    so that nothing outside api/ reads the portal's message text (docspace-api.md 2)."""

    # POST people for an address the portal has: 400 "User with this email is already
    # registered" (someone else made them meanwhile)
    EMAIL_TAKEN = "email_taken"
    # PUT rooms/{id}/links: 403 "The maximum number of links may not exceed 1" (another
    # writer made the room's one invitation link meanwhile, 5.5)
    LINK_LIMIT = "link_limit"


class PermanentError(ApiError):
    """The portal refused this request for this row; retrying will not help. `refusal`:
    which known refusal it is, when it is one (a conflict with what exists)."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        body_excerpt: str = "",
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(
            message, method=method, path=path, status=status, body_excerpt=body_excerpt
        )
        self.refusal = refusal


class FatalError(ApiError):
    """The run cannot go on: no later request of this run can succeed."""


class TokenRefused(FatalError):
    """The portal refused the token (HTTP 401)."""


class PortalUnusable(FatalError):
    """The address does not lead to a usable DocSpace API (not JSON, a redirect, TLS)."""


class CrmError(BulkOnboardError):
    """A CRM sink did not take a record. The message names the sink (the webhook by its
    origin only, a file by its path) and never holds the signing secret."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


class PortalDown(FatalError):
    """The portal cannot be reached or keeps failing: the run as a whole failed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, method="-", path="-")

    def __str__(self) -> str:
        return self.message
