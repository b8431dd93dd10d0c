"""When an outage fails the run, not the row: the judgement as a table (engine/outage.py)."""

from __future__ import annotations

import pytest

from bulk_onboard.engine.outage import OUTAGE_ROWS, Judgement, is_outage, judge, portal_down
from bulk_onboard.errors import (
    AmbiguousWrite,
    BudgetExhausted,
    GuardTripped,
    PermanentError,
    PortalDown,
    PortalUnreachable,
    RateLimited,
    RowRefused,
    TokenRefused,
    TransientError,
)

WHERE = {"method": "POST", "path": "/api/2.0/files/rooms"}
UNREACHABLE = PortalUnreachable("connection refused", **WHERE)
TIMEOUT = AmbiguousWrite("no answer in time", **WHERE)  # no status: a timeout
SERVER_ERROR = AmbiguousWrite("server error", status=503, **WHERE)
BAD_GATEWAY = TransientError("bad gateway", status=502, **WHERE)
TOO_MANY = RateLimited("too many requests", status=429, **WHERE)
REFUSED = PermanentError("bad request", status=400, **WHERE)
BUDGET = BudgetExhausted("daily budget spent", status=429, **WHERE)
TOKEN = TokenRefused("unauthorized", status=401, **WHERE)
DOWN = PortalDown("the portal cannot be reached")


@pytest.mark.parametrize(
    ("cause", "outage"),
    [
        (UNREACHABLE, True),
        (TIMEOUT, True),
        (SERVER_ERROR, True),
        (BAD_GATEWAY, True),
        (TOO_MANY, False),  # the portal answers: it asks to slow down
        (REFUSED, False),
        (BUDGET, False),
        (TOKEN, False),
        (RowRefused("no manager"), False),
        (RuntimeError("a bug"), False),
        (TransientError("a 4xx retried", status=408, **WHERE), False),
    ],
)
def test_what_counts_as_an_outage(cause: BaseException, outage: bool) -> None:
    assert is_outage(cause) is outage


@pytest.mark.parametrize(
    ("cause", "fatal", "streak", "answers", "judgement"),
    [
        # no outage: the row's own failure, whatever came before
        (REFUSED, None, 0, 10, Judgement.ROW),
        (REFUSED, None, OUTAGE_ROWS - 1, 10, Judgement.ROW),
        (TOO_MANY, None, OUTAGE_ROWS - 1, 10, Judgement.ROW),
        (TOKEN, None, 0, 10, Judgement.ROW),
        # an outage the portal answered before: held back until the streak decides
        (SERVER_ERROR, None, 0, 10, Judgement.MAYBE),
        (UNREACHABLE, None, OUTAGE_ROWS - 2, 10, Judgement.MAYBE),
        (TIMEOUT, None, OUTAGE_ROWS - 2, 0, Judgement.MAYBE),  # only no connection is silence
        # the row that completes the streak fails the run
        (SERVER_ERROR, None, OUTAGE_ROWS - 1, 10, Judgement.STREAK),
        (TIMEOUT, None, OUTAGE_ROWS + 4, 10, Judgement.STREAK),
        # no connection while the portal never answered: the run fails at the first row
        (UNREACHABLE, None, 0, 0, Judgement.SILENT),
        (UNREACHABLE, None, OUTAGE_ROWS - 1, 0, Judgement.SILENT),
        # after the run failed on an outage, an outage only interrupts the row
        (UNREACHABLE, DOWN, 0, 0, Judgement.DOWN),
        (SERVER_ERROR, DOWN, 5, 10, Judgement.DOWN),
        (REFUSED, DOWN, 0, 10, Judgement.ROW),
        # after another fatal error, an outage is the row's failure (no streak)
        (SERVER_ERROR, TOKEN, OUTAGE_ROWS - 1, 10, Judgement.ROW),
        (UNREACHABLE, GuardTripped("too many rooms"), 0, 0, Judgement.ROW),
    ],
)
def test_the_judgement(
    cause: BaseException, fatal: Exception | None, streak: int, answers: int, judgement: Judgement
) -> None:
    assert judge(cause, fatal=fatal, streak=streak, answers=answers) is judgement


@pytest.mark.parametrize(
    ("judgement", "fails_run", "interrupts", "in_streak"),
    [
        (Judgement.ROW, False, False, False),
        (Judgement.MAYBE, False, False, True),
        (Judgement.SILENT, True, True, True),
        (Judgement.STREAK, True, True, True),
        (Judgement.DOWN, False, True, False),
    ],
)
def test_what_each_judgement_does(
    judgement: Judgement, fails_run: bool, interrupts: bool, in_streak: bool
) -> None:
    assert (judgement.fails_run, judgement.interrupts, judgement.in_streak) == (
        fails_run,
        interrupts,
        in_streak,
    )


def test_the_run_says_why_it_failed() -> None:
    silent = portal_down(Judgement.SILENT, 1, UNREACHABLE)
    assert str(silent) == (
        f"the portal cannot be reached (it has not answered a single request): {UNREACHABLE}"
    )
    streak = portal_down(Judgement.STREAK, OUTAGE_ROWS, SERVER_ERROR)
    assert str(streak) == (
        f"the portal cannot be reached ({OUTAGE_ROWS} rows in a row failed on it): {SERVER_ERROR}"
    )
