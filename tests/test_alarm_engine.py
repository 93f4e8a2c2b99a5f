"""The alarm engine, table-driven in data time: raise, clear, delays, latching, pauses."""

from __future__ import annotations

import pytest

from drivers.errors import VitalmonError
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


@pytest.mark.parametrize(
    "alarm_id", sorted(i for i in NUMERIC_CASES if PRESET.alarms[i].delay_s > 0)
)
def test_numeric_alarm_delay_not_met_by_one_second(alarm_id: str) -> None:
    delay = int(PRESET.alarms[alarm_id].delay_s)
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


# alarm id -> (sys, dia, map) of a reading that raises it
NIBP_CASES = {
    "NIBP_SYS_HIGH": (165, 80, 105),
    "NIBP_SYS_HIGH_CRITICAL": (185, 85, 110),
    "NIBP_SYS_LOW": (85, 55, 65),
    "NIBP_DIA_HIGH": (150, 102, 118),
    "NIBP_DIA_HIGH_CRITICAL": (150, 112, 119),
    "NIBP_MAP_HIGH": (155, 99, 121),
    "NIBP_MAP_LOW": (95, 45, 59),
}


@pytest.mark.parametrize("alarm_id", sorted(NIBP_CASES))
def test_nibp_alarm_raised_by_one_reading_and_cleared_by_a_normal_one(alarm_id: str) -> None:
    bench = Bench()
    bench.nibp(10, 122, 78, 93)
    assert bench.onsets() == []
    bench.nibp(20, *NIBP_CASES[alarm_id])
    assert (20.0, alarm_id) in bench.onsets()
    bench.nibp(30, 122, 78, 93)
    assert (30.0, alarm_id, "end") in bench.states(alarm_id)


def test_nibp_threshold_edges() -> None:
    bench = Bench()
    bench.nibp(10, 159, 99, 120)  # all just inside the limits
    bench.nibp(20, 90, 60, 60)
    assert bench.onsets() == []
    bench.nibp(30, 160, 100, 121)
    assert {i for _, i in bench.onsets()} == {"NIBP_SYS_HIGH", "NIBP_DIA_HIGH", "NIBP_MAP_HIGH"}


def test_nibp_sys_rise_uses_the_baseline() -> None:
    bench = Bench(baseline_sys=120)
    bench.nibp(10, 149, 80, 100)  # +24 %
    assert bench.onsets() == []
    bench.nibp(20, 150, 80, 100)  # +25 %
    assert bench.onsets() == [(20.0, "NIBP_SYS_RISE")]
    assert bench.engine.display_state(20).alarms[0].priority == "low"


def test_nibp_sys_rise_needs_a_baseline() -> None:
    bench = Bench(baseline_sys=None)
    bench.nibp(20, 155, 80, 100)
    assert bench.onsets() == []


def test_failed_reading_raises_nibp_failed_and_keeps_pressure_alarms() -> None:
    bench = Bench()
    bench.nibp(10, 165, 80, 105)
    bench.nibp(20, None, None, None, status="failed", error_code=3)
    assert (20.0, "NIBP_FAILED") in bench.onsets()
    assert "NIBP_SYS_HIGH" in bench.shown()  # a failed reading says nothing about pressure
    bench.nibp(30, 120, 80, 93)
    assert (30.0, "NIBP_FAILED", "end") in bench.states()


def test_nibp_stale_after_one_hour() -> None:
    bench = Bench()
    bench.nibp(100, 120, 80, 93)
    bench.numerics(3699)
    assert "NIBP_STALE" not in bench.shown()
    bench.numerics(3700)
    assert bench.onsets() == [(3700.0, "NIBP_STALE")]
    bench.nibp(3710, 120, 80, 93)
    assert (3710.0, "NIBP_STALE", "end") in bench.states()


def test_a_stale_reading_no_longer_holds_its_pressure_alarm() -> None:
    bench = Bench()
    bench.nibp(100, 165, 80, 105)
    bench.numerics(3699)
    assert "NIBP_SYS_HIGH" in bench.shown()
    bench.numerics(3700)
    assert (3700.0, "NIBP_SYS_HIGH", "end") in bench.states()
    assert bench.shown() == ["NIBP_STALE"]


def test_nibp_comm_lost_from_link_and_from_a_silent_module() -> None:
    bench = Bench()
    bench.event(5, kind="link", channel="nibp", state="down", detail="")
    assert bench.onsets() == [(5.0, "NIBP_COMM_LOST")]
    bench.event(8, kind="link", channel="nibp", state="up", detail="")
    assert (8.0, "NIBP_COMM_LOST", "end") in bench.states()
    # The NIBP channel's own events (a module that stops answering commands).
    bench.event(20, kind="nibp", state="not_responding", message="no answer in 5 s")
    assert (20.0, "NIBP_COMM_LOST") in bench.onsets()
    bench.event(25, kind="nibp", state="started", message="retry")
    assert bench.shown() == ["NIBP_COMM_LOST"]
    bench.event(26, kind="nibp", state="responding", message="NIBP answers")
    assert (26.0, "NIBP_COMM_LOST", "end") in bench.states()
    bench.event(30, kind="nibp", state="not_responding", message="no answer in 5 s")
    bench.nibp(40, 120, 80, 93)
    assert (40.0, "NIBP_COMM_LOST", "end") in bench.states()


def test_apnea_from_apnea_s_or_last_breath_t() -> None:
    bench = Bench()
    bench.seconds(1, 30, rr=12, apnea_s=0)
    bench.numerics(30, rr=None, rr_state="missing", apnea_s=29)
    assert bench.onsets() == []
    bench.numerics(31, rr=None, rr_state="missing", apnea_s=30)
    assert bench.onsets() == [(31.0, "RR_LOW_CRITICAL")]
    other = Bench()
    other.numerics(39, rr=12, last_breath_t=9.5)
    assert other.onsets() == []
    other.numerics(40, rr=12, last_breath_t=9.5)
    assert other.onsets() == [(40.0, "RR_LOW_CRITICAL")]


def test_no_rr_in_numerics_no_rr_alarm() -> None:
    bench = Bench()
    bench.seconds(1, 60)  # rr is null, as without a respiration source
    assert bench.onsets() == []


def test_stale_or_missing_values_raise_no_physiological_alarm() -> None:
    bench = Bench()
    bench.seconds(1, 30, spo2=80, spo2_state="stale", pr=30, pr_state="stale")
    assert not [i for _, i in bench.onsets() if i.startswith(("SPO2_LOW", "PR_"))]


def test_satseconds_integrates_below_the_limit() -> None:
    bench = Bench(load_preset("ketamine-adult-satseconds"))
    assert bench.engine.limits()["SPO2_LOW"].satseconds == 25
    bench.seconds(1, 5)
    bench.seconds(5, 17, spo2=88)  # 12 s x 2 = 24 satseconds
    assert bench.onsets() == []
    bench.numerics(17, spo2=88)  # 26
    assert bench.onsets() == [(17.0, "SPO2_LOW")]
    bench.numerics(18, spo2=90)
    assert (18.0, "SPO2_LOW", "end") in bench.states()


def test_satseconds_short_dip_does_not_alarm_where_the_fixed_delay_would_not_either() -> None:
    bench = Bench(load_preset("ketamine-adult-satseconds"))
    bench.seconds(1, 5)
    bench.seconds(5, 10, spo2=89)  # 5 satseconds, then recovery resets the sum
    bench.seconds(10, 12)
    bench.seconds(12, 20, spo2=89)
    assert bench.onsets() == []


def test_satseconds_three_crossings_within_60_s_alarm_at_once() -> None:
    bench = Bench(load_preset("ketamine-adult-satseconds"))
    for start in (10, 30):
        bench.numerics(start, spo2=89)
        bench.numerics(start + 1)
    assert bench.onsets() == []
    bench.numerics(50, spo2=89)  # the third crossing, 40 s after the first
    assert bench.onsets() == [(50.0, "SPO2_LOW")]


def test_satseconds_crossings_further_apart_than_60_s_do_not_count() -> None:
    bench = Bench(load_preset("ketamine-adult-satseconds"))
    for start in (10, 45, 80):
        bench.numerics(start, spo2=89)
        bench.numerics(start + 1)
    assert bench.onsets() == []


def test_satseconds_selectable_by_set_limit() -> None:
    bench = Bench()
    bench.command(1, "set_limit", alarm_id="SPO2_LOW", satseconds=10)
    bench.seconds(2, 6, spo2=87)  # 3 per second: 12 >= 10 at the 4th second
    assert bench.onsets() == [(5.0, "SPO2_LOW")]
    (change,) = [r for r in bench.records if r["state"] == "limit_changed"]
    assert change["changes"] == {"satseconds": {"from": None, "to": 10.0}}


def test_acknowledge_silences_but_keeps_an_active_alarm() -> None:
    bench = Bench()
    bench.seconds(1, 12, pr=130)
    bench.command(11, "acknowledge", id="PR_HIGH")
    (alarm,) = bench.engine.display_state(11).alarms
    assert alarm.acknowledged and alarm.condition_active and not alarm.sounding
    assert bench.engine.display_state(11).audio_priority is None
    bench.numerics(12)
    assert bench.shown() == []


def test_acknowledge_an_unknown_alarm_is_refused() -> None:
    bench = Bench()
    with pytest.raises(VitalmonError, match="no alarm 'PR_HIGH' is active"):
        bench.command(1, "acknowledge", id="PR_HIGH")


def test_display_orders_highest_priority_then_newest() -> None:
    bench = Bench()
    bench.seconds(1, 12, pr=125)  # PR_HIGH (medium) at 11
    bench.seconds(12, 14, pr=125, spo2=85)  # SPO2_LOW_CRITICAL (high) at 12
    bench.nibp(13, 165, 80, 105)  # NIBP_SYS_HIGH (medium) at 13
    assert bench.shown() == ["SPO2_LOW_CRITICAL", "NIBP_SYS_HIGH", "PR_HIGH"]
    assert bench.engine.display_state(13).audio_priority == "high"


def test_higher_priority_breaks_through_an_audio_pause() -> None:
    bench = Bench()
    bench.seconds(1, 12, pr=125)
    bench.command(11, "pause_audio")
    bench.seconds(12, 14, pr=125)
    assert bench.engine.display_state(13).audio_priority is None
    bench.nibp(14, 162, 80, 105)  # another medium: stays silent
    assert bench.engine.display_state(14).audio_priority is None
    bench.numerics(15, pr=125, spo2=84)  # high: breaks through
    state = bench.engine.display_state(15)
    assert state.inactivation == "audio_paused"
    assert state.audio_priority == "high"
    assert [a.id for a in state.alarms if a.sounding] == ["SPO2_LOW_CRITICAL"]
    (onset,) = [r for r in bench.records if r["id"] == "SPO2_LOW_CRITICAL"]
    assert onset["break_through"] is True


def test_pre_emptive_audio_pause_only_high_breaks_through() -> None:
    bench = Bench()
    bench.command(1, "pause_audio")
    bench.seconds(2, 14, pr=125)
    assert bench.engine.display_state(13).audio_priority is None
    bench.nibp(14, 185, 80, 110)
    assert bench.engine.display_state(14).audio_priority == "high"


def test_pause_audio_duration_resume_and_off() -> None:
    bench = Bench()
    bench.seconds(1, 12, pr=125)
    bench.command(11, "pause_audio", duration_s=30)
    assert bench.engine.display_state(21).pause_remaining_s == pytest.approx(20)
    bench.command(21, "pause_audio", resume=True)
    assert bench.engine.display_state(21).inactivation == "none"
    assert bench.engine.display_state(21).audio_priority == "medium"
    bench.command(22, "pause_audio", off=True)
    state = bench.engine.display_state(500)
    assert (state.inactivation, state.pause_remaining_s, state.audio_priority) == (
        "audio_off",
        None,
        None,
    )
    assert [a.id for a in state.alarms] == ["PR_HIGH"]  # still shown
    systems = [r["state"] for r in bench.records if r["id"] == "INACTIVATION"]
    assert systems == ["audio_paused", "pause_end", "audio_off"]


def test_pause_end_is_stamped_at_its_data_time_by_tick() -> None:
    bench = Bench()
    bench.command(10.5, "pause_audio")
    bench.engine.tick(130.4)
    assert bench.engine.inactivation == "audio_paused"
    bench.engine.tick(130.52)
    (end,) = [r for r in bench.records if r["state"] == "pause_end"]
    assert (end["t"], end["reason"]) == (130.5, "timeout")


def test_alarm_pause_hides_physiological_alarms_not_technical() -> None:
    bench = Bench()
    bench.command(1, "pause_alarms")
    bench.seconds(2, 14, pr=125)
    bench.event(13, kind="link", channel="nibp", state="down", detail="")
    state = bench.engine.display_state(13)
    assert state.inactivation == "alarm_paused"
    assert [a.id for a in state.alarms] == ["NIBP_COMM_LOST"]
    assert state.audio_priority == "medium"
    (onset,) = [r for r in bench.records if r["id"] == "PR_HIGH"]
    assert onset["inactivation"] == "alarm_paused"  # logged, not signalled
    bench.seconds(14, 122, pr=125)
    assert bench.engine.display_state(121).inactivation == "none"
    assert "PR_HIGH" in bench.shown()
    assert (121.0, "PR_HIGH", "resound") in bench.states()
    assert (121.0, "NIBP_COMM_LOST", "resound") not in bench.states()


def test_alarm_off_until_resumed() -> None:
    bench = Bench()
    bench.command(1, "pause_alarms", off=True)
    bench.seconds(2, 300, pr=125)
    state = bench.engine.display_state(299)
    assert (state.inactivation, state.alarms, state.pause_remaining_s) == ("alarm_off", (), None)
    bench.command(300, "pause_alarms", resume=True)
    assert bench.shown() == ["PR_HIGH"]


def test_bad_pause_arguments() -> None:
    bench = Bench()
    with pytest.raises(VitalmonError, match="duration_s"):
        bench.command(1, "pause_audio", duration_s=0)
    with pytest.raises(VitalmonError, match="unknown argument 'minutes'"):
        bench.command(1, "pause_alarms", minutes=2)
    with pytest.raises(VitalmonError, match="off must be true or false"):
        bench.command(1, "pause_alarms", off="yes")
    assert bench.engine.inactivation == "none"


def test_hysteresis_holds_an_alarm_until_the_value_clears_the_limit() -> None:
    bench = Bench()
    bench.seconds(1, 12, pr=121)
    assert bench.onsets() == [(11.0, "PR_HIGH")]
    bench.seconds(12, 20, pr=119)  # back under 120, not yet by the 2 /min hysteresis
    assert bench.shown() == ["PR_HIGH"]
    bench.numerics(20, pr=118)
    assert (20.0, "PR_HIGH", "end") in bench.states()


def test_hysteresis_holds_a_started_alarm_at_the_limit() -> None:
    bench = Bench()
    for t in range(1, 12):
        bench.numerics(t, rr=7 if t % 2 else 6)  # RR_LOW_CRITICAL: <= 6, hysteresis 1
    assert [(t, s) for t, i, s in bench.states("RR_LOW_CRITICAL")] == [(2.0, "onset")]
    bench.numerics(12, rr=8)
    assert bench.states("RR_LOW_CRITICAL")[-1] == (12.0, "RR_LOW_CRITICAL", "end")


# (values second by second from t=1, the onset expected or None): the delay counts the
# raw limit crossing; a value back inside the raw limit restarts it (docs/clinical.md).
HYSTERESIS_DELAY_CASES = [
    ("SPO2_LOW", [{"spo2": 89}] + [{"spo2": 90}] * 14, None),  # the nuisance alarm
    ("SPO2_LOW", [{"spo2": 89 if t % 2 else 90} for t in range(1, 20)], None),
    ("SPO2_LOW", [{"spo2": 89}] * 16, 16.0),
    ("SPO2_LOW", [{"spo2": 89}] * 5 + [{"spo2": 90}] + [{"spo2": 89}] * 16, 22.0),
    ("PR_HIGH", [{"pr": 121}] + [{"pr": 119}] * 12, None),
    ("PR_HIGH", [{"pr": 121}] * 11, 11.0),
    ("RR_LOW", [{"rr": 7}] + [{"rr": 8}] * 40, None),
]


@pytest.mark.parametrize(("alarm_id", "values", "onset"), HYSTERESIS_DELAY_CASES)
def test_hysteresis_never_shortens_a_delay(alarm_id: str, values: list, onset) -> None:
    bench = Bench()
    for t, fields in enumerate(values, start=1):
        bench.numerics(t, **fields)
    expected = [] if onset is None else [(onset, alarm_id)]
    assert bench.onsets([alarm_id]) == expected


def test_a_latched_alarm_whose_condition_returns_is_a_new_onset() -> None:
    bench = Bench()
    bench.numerics(1, spo2=84)
    bench.numerics(2)
    bench.numerics(3, spo2=84)
    assert bench.states("SPO2_LOW_CRITICAL") == [
        (1.0, "SPO2_LOW_CRITICAL", "onset"),
        (2.0, "SPO2_LOW_CRITICAL", "end"),
        (3.0, "SPO2_LOW_CRITICAL", "onset"),
    ]
    (alarm,) = [a for a in bench.engine.display_state(3).alarms if a.id == "SPO2_LOW_CRITICAL"]
    assert (alarm.onset_t, alarm.condition_active) == (3.0, True)


def test_acknowledge_during_an_alarm_pause_leaves_hidden_alarms_alone() -> None:
    bench = Bench()
    bench.seconds(1, 12, pr=125)
    bench.command(11, "pause_alarms")
    bench.command(12, "acknowledge")
    assert [s for _, _, s in bench.states("PR_HIGH")] == ["onset", "paused"]
    bench.command(13, "pause_alarms", resume=True)
    (alarm,) = bench.engine.display_state(13).alarms
    assert (alarm.id, alarm.acknowledged, alarm.sounding) == ("PR_HIGH", False, True)


# (what is active when the audio pause begins, the new condition, does it sound at once?)
# docs/clinical.md: a new high-priority condition breaks through, whatever else sounds;
# a new medium one waits for the pause to end.
BREAK_THROUGH_CASES = [
    ({"spo2": 84}, "PR_HIGH_CRITICAL", True),  # high sounding, a new high: the apnea case
    ({"spo2": 84}, "NIBP_SYS_HIGH", False),  # high sounding, a new medium
    ({}, "PR_HIGH_CRITICAL", True),  # nothing sounding, a new high
    ({}, "NIBP_SYS_HIGH", False),
    ({"pr": 125}, "SPO2_LOW_CRITICAL", True),  # medium sounding, a new high
    ({"pr": 141}, "PR_HIGH_CRITICAL", False),  # the same high, still on: paused
]
NEW_CONDITION = {
    "PR_HIGH_CRITICAL": lambda b, t: b.seconds(t, t + 11, pr=141, spo2=b.spo2),
    "SPO2_LOW_CRITICAL": lambda b, t: b.seconds(t, t + 1, spo2=84, pr=b.pr),
    "NIBP_SYS_HIGH": lambda b, t: b.nibp(t, 165, 80, 105),
}


@pytest.mark.parametrize(("before", "new", "sounds"), BREAK_THROUGH_CASES)
def test_break_through_an_audio_pause(before: dict, new: str, sounds: bool) -> None:
    bench = Bench()
    bench.spo2, bench.pr = before.get("spo2", 97), before.get("pr", 72)
    bench.seconds(1, 12, spo2=bench.spo2, pr=bench.pr)
    bench.command(12, "pause_audio")
    NEW_CONDITION[new](bench, 20)
    onsets = [r for r in bench.records if r["id"] == new and r["state"] == "onset"]
    state = bench.engine.display_state(bench.t)
    (alarm,) = [a for a in state.alarms if a.id == new]
    assert alarm.sounding is sounds
    if onsets and onsets[-1]["t"] >= 12:
        assert onsets[-1].get("break_through", False) is sounds
        assert onsets[-1]["inactivation"] == "audio_paused"


def test_a_high_alarm_that_ends_and_returns_during_a_pause_breaks_through() -> None:
    bench = Bench()
    bench.numerics(1, spo2=84)
    bench.command(2, "pause_audio")
    bench.numerics(3, spo2=97)  # ends (latched)
    bench.numerics(4, spo2=84)  # back: a new condition
    (onset,) = [r for r in bench.records if r["state"] == "onset" and r["t"] == 4.0]
    assert onset["break_through"] is True
    assert bench.engine.display_state(4).audio_priority == "high"


def test_an_acknowledged_high_alarm_resounds_after_the_ack_timeout() -> None:
    timeout = PRESET.behaviour.ack_timeout_s
    bench = Bench()
    bench.seconds(1, 2, spo2=84)
    bench.command(2, "acknowledge", id="SPO2_LOW_CRITICAL")
    due = bench.engine.next_due(2)  # a fast replay must stop there
    assert 2 + timeout - 0.5 < due <= 2 + timeout
    bench.engine.tick(2 + timeout - 0.5)
    assert bench.engine.display_state().audio_priority is None
    (alarm,) = bench.engine.display_state().alarms
    assert alarm.ack_remaining_s == pytest.approx(0.5)  # the bar's countdown
    bench.engine.tick(2 + timeout + 0.3)
    resound = bench.records[-1]
    assert (resound["t"], resound["id"], resound["state"], resound["reason"]) == (
        2 + timeout,
        "SPO2_LOW_CRITICAL",
        "resound",
        "ack_timeout",
    )
    assert bench.engine.display_state().audio_priority == "high"
    bench.command(130, "acknowledge")  # acknowledged again: another full timeout
    bench.engine.tick(130 + timeout - 1)
    assert bench.engine.display_state().audio_priority is None
    bench.engine.tick(130 + timeout)
    assert bench.states("SPO2_LOW_CRITICAL")[-1] == (130 + timeout, "SPO2_LOW_CRITICAL", "resound")


def test_no_resound_once_the_condition_ended_nor_for_a_medium_alarm() -> None:
    timeout = PRESET.behaviour.ack_timeout_s
    bench = Bench()
    bench.seconds(1, 12, spo2=84, pr=125)  # SPO2_LOW_CRITICAL (high), PR_HIGH (medium)
    bench.command(12, "acknowledge")
    bench.seconds(12, 40, spo2=97, pr=125)  # the desaturation ends
    bench.seconds(40, int(12 + timeout + 30), pr=125)
    assert [s for _, i, s in bench.states() if s == "resound"] == []
    assert bench.engine.display_state().audio_priority is None
