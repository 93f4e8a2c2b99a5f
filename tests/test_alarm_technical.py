"""Technical alarms from device status, link events, silence, and the `technical_alarm` command."""

from __future__ import annotations

import pytest

from drivers.errors import VitalmonError
from tests.alarm_helpers import Bench


def test_probe_off_low_then_high_after_30_s() -> None:
    bench = Bench()
    bench.seconds(1, 5)
    bench.seconds(5, 35, oximeter_status=["sensor_off"], spo2_state="stale")
    assert bench.onsets() == [(5.0, "SPO2_PROBE_OFF")]
    assert bench.engine.display_state(34).alarms[0].priority == "low"
    bench.numerics(35, oximeter_status=["sensor_off"], spo2=None, spo2_state="missing")
    assert (35.0, "SPO2_PROBE_OFF", "escalated") in bench.states()
    (alarm,) = bench.engine.display_state(35).alarms
    assert (alarm.priority, alarm.sounding) == ("high", True)
    bench.numerics(36)
    assert (36.0, "SPO2_PROBE_OFF", "end") in bench.states()
    assert bench.shown() == []  # technical alarms do not latch


def test_probe_off_escalation_resets_acknowledgement() -> None:
    bench = Bench()
    bench.seconds(1, 10, oximeter_status=["sensor_off"])
    bench.command(9, "acknowledge")
    assert bench.engine.display_state(9).audio_priority is None
    bench.seconds(10, 32, oximeter_status=["sensor_off"])
    assert bench.engine.display_state(31).audio_priority == "high"


@pytest.mark.parametrize("flag", ["searching", "out_of_track", "sensor_alarm", "no_signal"])
def test_no_signal_flags(flag: str) -> None:
    bench = Bench()
    bench.seconds(1, 3)
    bench.numerics(3, oximeter_status=[flag])
    assert bench.onsets() == [(3.0, "SPO2_NO_SIGNAL")]
    bench.numerics(4)
    assert (4.0, "SPO2_NO_SIGNAL", "end") in bench.states()


def test_no_valid_value_while_frames_arrive_is_no_signal() -> None:
    bench = Bench()
    bench.numerics(3, spo2=None, spo2_state="missing")
    assert bench.onsets() == [(3.0, "SPO2_NO_SIGNAL")]


def test_artifact_held_more_than_10_s() -> None:
    bench = Bench()
    bench.seconds(1, 11, oximeter_status=["artifact"])  # 9 s: nothing
    bench.numerics(11)
    bench.seconds(20, 31, oximeter_status=["artifact"])  # 10 s
    assert bench.onsets() == [(30.0, "SPO2_ARTIFACT")]


def test_oximeter_link_down_alarms_at_once() -> None:
    bench = Bench()
    bench.seconds(1, 5)
    bench.event(5.3, kind="link", channel="oximeter", state="down", detail="vanished")
    assert bench.onsets() == [(5.3, "OXIMETER_COMM_LOST")]
    assert bench.engine.display_state(5.3).audio_priority == "high"
    # No frames while down; probe-off and no-signal stay quiet behind comm lost.
    bench.seconds(6, 9, spo2=None, spo2_state="missing", oximeter_last_frame_t=None)
    assert [i for _, i in bench.onsets()] == ["OXIMETER_COMM_LOST"]
    bench.event(9, kind="link", channel="oximeter", state="up", detail="")
    bench.numerics(10)
    assert (10.0, "OXIMETER_COMM_LOST", "end") in bench.states()


def test_oximeter_silent_for_10_s() -> None:
    bench = Bench()
    bench.seconds(1, 20)
    for t in range(20, 30):  # last frame at 19.5, then silence (values go stale)
        bench.numerics(t, oximeter_last_frame_t=19.5, spo2_state="stale")
    assert bench.onsets() == []
    bench.numerics(30, oximeter_last_frame_t=19.5, spo2_state="stale")  # 10.5 s
    assert bench.onsets() == [(30.0, "OXIMETER_COMM_LOST")]


def test_oximeter_that_never_sends_a_frame() -> None:
    bench = Bench()
    bench.seconds(1, 12, spo2=None, pr=None, spo2_state="missing", oximeter_last_frame_t=None)
    assert bench.onsets() == [(11.0, "OXIMETER_COMM_LOST")]


def test_no_update_watchdog_at_30_s() -> None:
    bench = Bench()
    # Frames arrive but carry no valid value for 30 s (e.g. endless searching).
    bench.seconds(1, 31, spo2=None, spo2_state="missing", oximeter_status=["searching"])
    assert "SPO2_NO_UPDATE" not in {i for _, i in bench.onsets()}
    bench.numerics(31, spo2=None, spo2_state="missing", oximeter_status=["searching"])
    assert (31.0, "SPO2_NO_UPDATE") in bench.onsets()


def test_no_oximeter_no_oximeter_alarms() -> None:
    bench = Bench()
    for t in range(1, 100):
        bench.engine.on_record({"type": "numerics", "t": float(t), "rr": None})
    assert bench.onsets() == []


@pytest.mark.parametrize(
    ("alarm_id", "priority"),
    [("RECORDING_FAILED", "high"), ("ALARM_AUDIO_FAILED", "medium"), ("HL7_LINK_LOST", "low")],
)
def test_technical_alarm_command(alarm_id: str, priority: str) -> None:
    bench = Bench()
    bench.command(5, "technical_alarm", id=alarm_id, active=True, message="disk full")
    (alarm,) = bench.engine.display_state(5).alarms
    assert (alarm.id, alarm.priority, alarm.kind) == (alarm_id, priority, "technical")
    assert alarm.message.endswith(": disk full")
    bench.command(9, "technical_alarm", id=alarm_id, active=False)
    assert bench.states(alarm_id) == [(5.0, alarm_id, "onset"), (9.0, alarm_id, "end")]
    bench.command(12, "technical_alarm", id=alarm_id, active=True)
    (alarm,) = bench.engine.display_state(12).alarms
    assert "disk full" not in alarm.message


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"id": "SPO2_LOW", "active": True}, "id must be one of"),
        ({"id": "RECORDING_FAILED", "active": "yes"}, "active must be true or false"),
    ],
)
def test_technical_alarm_command_refuses_bad_args(args: dict, needle: str) -> None:
    with pytest.raises(VitalmonError, match=needle):
        Bench().command(1, "technical_alarm", **args)


def test_escalation_breaks_through_an_audio_pause() -> None:
    bench = Bench()
    bench.seconds(1, 5, oximeter_status=["sensor_off"])
    bench.command(4, "pause_audio")
    assert bench.engine.display_state(4).audio_priority is None
    bench.seconds(5, 32, oximeter_status=["sensor_off"])
    state = bench.engine.display_state(31)
    assert (state.inactivation, state.audio_priority) == ("audio_paused", "high")
