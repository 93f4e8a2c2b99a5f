"""The alarm engine, table-driven in data time: raise, clear, delays, latching, pauses."""

from __future__ import annotations

import pytest

from monitor.alarms import load_preset
from tests.alarm_helpers import Bench

PRESET = load_preset()

# alarm id -> numerics fields that make its condition true (and only its own family's)
NUMERIC_CASES = {
    "SPO2_LOW": {"spo2": 89},
    "SPO2_LOW_CRITICAL": {"spo2": 85},
    "PR_HIGH": {"pr": 121},
    "PR_HIGH_CRITICAL": {"pr": 141},
    "PR_LOW": {"pr": 49},
    "PR_LOW_CRITICAL": {"pr": 39},
    "RR_HIGH": {"rr": 31},
    "RR_LOW": {"rr": 7},
    "RR_LOW_CRITICAL": {"rr": 6},
}


@pytest.mark.parametrize("alarm_id", sorted(NUMERIC_CASES))
def test_numeric_alarm_raised_after_its_delay_and_cleared(alarm_id: str) -> None:
    delay = int(PRESET.alarms[alarm_id].delay_s)
    bench = Bench()
    bench.seconds(1, 5)
    bench.seconds(5, 5 + delay + 1, **NUMERIC_CASES[alarm_id])
    assert (5.0 + delay, alarm_id) in bench.onsets()
    bench.seconds(6 + delay, 8 + delay)
    assert (6.0 + delay, alarm_id, "end") in bench.states(alarm_id)


@pytest.mark.parametrize("alarm_id", sorted(NUMERIC_CASES))
def test_numeric_alarm_delay_not_met_by_one_second(alarm_id: str) -> None:
    delay = int(PRESET.alarms[alarm_id].delay_s)
    if delay == 0:
        pytest.skip("no delay: raised on the first sample")
    bench = Bench()
    bench.seconds(1, 5)
    bench.seconds(5, 5 + delay, **NUMERIC_CASES[alarm_id])  # held delay - 1 s
    bench.seconds(5 + delay, 10 + delay)
    assert alarm_id not in {i for _, i in bench.onsets()}


def test_high_priority_physiological_alarm_latches_until_acknowledged() -> None:
    bench = Bench()
    bench.seconds(1, 3, spo2=84)
    bench.seconds(3, 6)
    assert "SPO2_LOW_CRITICAL" in bench.shown()
    state = bench.engine.display_state(5)
    (alarm,) = [a for a in state.alarms if a.id == "SPO2_LOW_CRITICAL"]
    assert not alarm.condition_active and alarm.sounding
    bench.command(6, "acknowledge")
    assert "SPO2_LOW_CRITICAL" not in bench.shown()
    assert (6.0, "SPO2_LOW_CRITICAL", "acknowledged") in bench.states()


def test_medium_alarm_does_not_latch() -> None:
    bench = Bench()
    bench.seconds(1, 13, pr=125)
    assert "PR_HIGH" in bench.shown()
    bench.seconds(13, 14)
    assert bench.shown() == []


def test_audio_pause_counts_down_and_resounds() -> None:
    bench = Bench()
    bench.seconds(1, 13, pr=125)
    assert bench.engine.display_state(12).audio_priority == "medium"
    bench.command(12, "pause_audio")
    state = bench.engine.display_state(42)
    assert state.inactivation == "audio_paused"
    assert state.pause_remaining_s == pytest.approx(90)
    assert state.audio_priority is None
    bench.seconds(13, 132, pr=125)
    assert bench.engine.display_state(131).audio_priority is None
    bench.seconds(132, 133, pr=125)
    assert bench.engine.display_state(132).inactivation == "none"
    assert bench.engine.display_state(132).audio_priority == "medium"
    assert (132.0, "PR_HIGH", "resound") in bench.states()
