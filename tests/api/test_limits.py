"""The pause gate."""

from __future__ import annotations

from bulk_onboard.api.limits import ClientStats, PauseGate

from .conftest import FakeTime, LogCapture


async def test_gate_open_by_default_and_pause_only_moves_later(fake_time: FakeTime) -> None:
    stats = ClientStats()
    gate = PauseGate(clock=fake_time.clock, sleep=fake_time.sleep, stats=stats)
    assert not gate.paused
    await gate.wait()
    assert fake_time.sleeps == []
    gate.pause(5, reason="429")
    gate.pause(2, reason="429")  # earlier than the current resume time: ignored
    assert gate.remaining() == 5
    assert stats.pauses == 1
    await gate.wait()
    assert fake_time.sleeps == [5]
    assert not gate.paused


async def test_a_pause_extended_while_waiting_is_waited_out(
    fake_time: FakeTime, log_capture: LogCapture
) -> None:
    stats = ClientStats()
    gate = PauseGate(clock=fake_time.clock, sleep=fake_time.sleep, stats=stats)
    calls = 0

    async def sleep_and_extend(seconds: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            gate.pause(seconds + 3, reason="429")  # another 429 arrives meanwhile
        await fake_time.sleep(seconds)

    gate._sleep = sleep_and_extend
    gate.pause(4, reason="429")
    await gate.wait()
    assert fake_time.sleeps == [4, 3]
    assert stats.pauses == 1
    assert stats.paused_seconds == 7
    assert len(log_capture.events("run_paused")) == 1
    assert log_capture.events("run_paused")[0]["resume_in"] == 4
