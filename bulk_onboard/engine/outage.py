"""When an outage is the run's failure, not the rows': the judgement, a pure function.

A row that fails because no connection could be opened while the portal has not answered a
single request yet, or OUTAGE_ROWS rows in a row that fail on outages (no connection, 5xx,
timeouts: retries spent) with no row finishing well in between, stop the run with PortalDown;
those rows and every unfinished one are interrupted. Until the streak decides, a row that
failed on an outage is held back (not reported yet): an outage makes it interrupted.
"""

from __future__ import annotations

from enum import Enum

from bulk_onboard.errors import PortalDown, PortalUnreachable, RateLimited, TransientError

OUTAGE_ROWS = 3  # rows in a row failing on an outage that make it the run's failure


class Judgement(Enum):
    """What a row's failure means for the run."""

    ROW = "row"  # the row's own failure: it fails, the run goes on
    MAYBE = "maybe"  # an outage, not yet the run's: the row fails, held back until known
    SILENT = "silent"  # the portal never answered: the run fails, the row is interrupted
    STREAK = "streak"  # OUTAGE_ROWS rows in a row failed on it: the run fails, they are interrupted
    DOWN = "down"  # the run failed on an outage already: the row is interrupted

    @property
    def fails_run(self) -> bool:
        return self in (Judgement.SILENT, Judgement.STREAK)

    @property
    def interrupts(self) -> bool:
        return self in (Judgement.SILENT, Judgement.STREAK, Judgement.DOWN)

    @property
    def in_streak(self) -> bool:
        """The row joins the streak of rows failed on the outage."""
        return self in (Judgement.MAYBE, Judgement.SILENT, Judgement.STREAK)


def is_outage(cause: BaseException) -> bool:
    """A failure of the portal as a whole (no connection, 5xx, timeouts), not of the row."""
    if isinstance(cause, PortalUnreachable):
        return True
    if isinstance(cause, RateLimited) or not isinstance(cause, TransientError):
        return False
    return cause.status is None or cause.status >= 500


def judge(cause: BaseException, *, fatal: Exception | None, streak: int, answers: int) -> Judgement:
    """A row failed with `cause`; `fatal` is what stopped the run already (if anything),
    `streak` the rows failed on outages since the last that finished well, `answers` how many
    answers the portal has given in this run."""
    if fatal is not None:
        return (
            Judgement.DOWN if isinstance(fatal, PortalDown) and is_outage(cause) else Judgement.ROW
        )
    if not is_outage(cause):
        return Judgement.ROW
    if isinstance(cause, PortalUnreachable) and answers == 0:
        return Judgement.SILENT
    return Judgement.STREAK if streak + 1 >= OUTAGE_ROWS else Judgement.MAYBE


def portal_down(judgement: Judgement, streak: int, cause: BaseException) -> PortalDown:
    """The run's failure, once the judgement says so (`streak`: the rows in it, this one too)."""
    if judgement is Judgement.SILENT:
        why = "it has not answered a single request"
    else:
        why = f"{streak} rows in a row failed on it"
    return PortalDown(f"the portal cannot be reached ({why}): {cause}")
