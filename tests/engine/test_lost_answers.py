"""When a write whose answer was lost may still land: the pure decision, the look it calls
for after each kind of failure, and a look that stops once the portal was restarted."""

from __future__ import annotations

import pytest

from bulk_onboard.api.outage import OutageGate
from bulk_onboard.engine.exactly_once import (
    _LOST,
    _PARKING,
    Look,
    LookAgain,
    Lost,
    StillUncertain,
    may_still_land,
)
from bulk_onboard.engine.phases import ROUNDS, again_after
from bulk_onboard.errors import AmbiguousWrite, PermanentError, StepFailed

WINDOW = 60.0


@pytest.mark.parametrize(
    ("lost", "now", "restarted", "may"),
    [
        (Lost(100.0, 99.9), 100.1, False, True),  # just lost: it may land for the window
        (Lost(100.0, 99.9), 159.9, False, True),
        (Lost(100.0, 99.9), 160.0, False, False),  # the window since the loss has passed
        (Lost(100.0, 40.0), 120.0, False, True),  # a timeout: counted from the loss, not send
        (Lost(100.0, 99.9), 121.0, True, False),  # the portal was down since and is back
        (Lost(100.0), 101.0, False, True),  # the send time unknown
    ],
)
def test_whether_a_lost_write_may_still_land(
    lost: Lost, now: float, restarted: bool, may: bool
) -> None:
    assert may_still_land(lost, now, WINDOW, restarted) is may


@pytest.mark.parametrize(
    ("status", "look"),
    [
        (None, Look.AFTER_LOST_ANSWER),  # a dropped connection or a timeout
        (500, Look.AFTER_ERROR_ANSWER),  # the portal's own error: its action ended
        (503, Look.AFTER_ERROR_ANSWER),  # not taken: no action started
        (502, Look.AFTER_LOST_ANSWER),  # a proxy's word: the server may still run it
        (504, Look.AFTER_LOST_ANSWER),
    ],
)
def test_the_look_each_failure_calls_for(status: int | None, look: Look) -> None:
    error = AmbiguousWrite("lost", method="POST", path="/x", status=status)
    assert Look.after(error) is look


def gate_clock() -> tuple[OutageGate, list[float]]:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    gate = OutageGate(clock=lambda: now[0], sleep=sleep, random=lambda: 0.5, max_wait=60.0)
    return gate, now


@pytest.mark.parametrize(
    ("sent_at", "down_at", "back", "restarted"),
    [
        (10.0, 11.0, True, True),  # sent, then the portal was down, and is back
        (10.0, 11.0, False, False),  # still down
        (12.0, 11.0, True, False),  # sent after the outage began (it was never received)
        (10.0, None, False, False),  # no outage at all
    ],
)
async def test_the_outage_gate_tells_a_restart_since_a_write(
    sent_at: float, down_at: float | None, back: bool, restarted: bool
) -> None:
    gate, now = gate_clock()
    if down_at is not None:
        now[0] = down_at
        await gate.ride(False)
        if back:
            gate.answered()
    now[0] = 30.0
    assert gate.restarted_since(sent_at) is restarted


async def test_a_look_after_a_restart_stops_looking_and_parks_nothing() -> None:
    finds: list[int] = []

    async def find() -> None:
        finds.append(1)

    now = [100.5]
    look_again = LookAgain(window=WINDOW, clock=lambda: now[0], restarted_since=lambda at: at < 100)
    token = _LOST.set(Lost(100.0, 99.9))
    try:
        assert await look_again.find(Look.AFTER_LOST_ANSWER, find) is None
        assert finds == [1]  # one look, not three over the window
        parking = _PARKING.set(True)
        assert await look_again.find(Look.AFTER_LOST_ANSWER, find) is None  # not parked
        _PARKING.reset(parking)
        unrestarted = LookAgain(window=WINDOW, clock=lambda: now[0])
        parking = _PARKING.set(True)
        with pytest.raises(StillUncertain) as parked:
            await unrestarted.find(Look.AFTER_LOST_ANSWER, find)
        _PARKING.reset(parking)
        assert parked.value.deadline == 160.0 and parked.value.lost.sent_at == 99.9
    finally:
        _LOST.reset(token)


def uncertain(rounds: int, deadline: float = 160.0) -> StepFailed:
    cause = StillUncertain(deadline, WINDOW)
    cause.rounds = rounds
    return StepFailed("room", cause)


@pytest.mark.parametrize(
    ("failure", "stopping", "again"),
    [
        (uncertain(1), False, 160.0),  # taken up again once its window has passed
        (uncertain(ROUNDS - 1), False, 160.0),
        (uncertain(ROUNDS), False, None),  # left uncertain ROUNDS times: interrupted
        (uncertain(1), True, None),  # the run stops: interrupted now
        (StepFailed("room", PermanentError("no", method="POST", path="/x")), False, None),
    ],
)
def test_when_a_waiting_row_is_worked_on_again(
    failure: StepFailed, stopping: bool, again: float | None
) -> None:
    assert again_after(failure, stopping) == again


async def test_a_request_whose_wait_times_out_as_the_gate_opens_sends_again() -> None:
    """The portal answers another request at the instant a waiting request's wait times out:
    the waiter sends again through the open gate; it does not probe a portal already back."""
    gate, _now = gate_clock()
    assert await gate.ride(False) is True  # the first request found the outage: the probe

    class OpensAsItTimesOut(OutageGate):
        async def _opened(self, seconds: float) -> bool:
            gate.answered()  # the probe's answer came in the same turn of the loop
            return False

    gate.__class__ = OpensAsItTimesOut
    assert await gate.ride(False) is False
    assert gate.probes == 1 and not gate.closed
