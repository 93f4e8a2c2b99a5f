"""Limit changes and preset restores: applied at once, each one in the alarm log."""

from __future__ import annotations

import pytest

from drivers.errors import VitalmonError
from monitor.alarms import load_preset
from tests.alarm_helpers import Bench


def test_limits_disclose_threshold_unit_priority_delay() -> None:
    limits = Bench().engine.limits()
    assert set(limits) == set(load_preset().alarms)
    spo2 = limits["SPO2_LOW"]
    assert (spo2.threshold, spo2.unit, spo2.priority, spo2.delay_s, spo2.enabled) == (
        90,
        "%",
        "medium",
        15,
        True,
    )
    assert spo2.satseconds is None
    assert limits["SPO2_PROBE_OFF"].threshold is None


def test_threshold_change_is_logged_and_applies() -> None:
    bench = Bench()
    bench.command(1, "set_limit", alarm_id="PR_HIGH", threshold=100)
    (record,) = bench.engine.log
    assert (record["id"], record["state"], record["t"]) == ("PR_HIGH", "limit_changed", 1.0)
    assert record["changes"] == {"threshold": {"from": 120.0, "to": 100.0}}
    assert "threshold 120 -> 100" in record["message"]
    assert bench.engine.limits()["PR_HIGH"].threshold == 100
    bench.seconds(2, 13, pr=110)
    assert bench.onsets() == [(12.0, "PR_HIGH")]


def test_delay_change_applies() -> None:
    bench = Bench()
    bench.command(1, "set_limit", alarm_id="PR_HIGH", delay_s=3)
    bench.seconds(2, 6, pr=125)
    assert bench.onsets() == [(5.0, "PR_HIGH")]


def test_disabling_an_alarm_ends_it_and_keeps_it_off() -> None:
    bench = Bench()
    bench.seconds(1, 12, pr=125)
    bench.command(12, "set_limit", alarm_id="PR_HIGH", enabled=False)
    assert bench.states("PR_HIGH")[-2:] == [(12.0, "PR_HIGH", "disabled"), (12.0, "PR_HIGH", "end")]
    bench.seconds(12, 40, pr=125)
    assert bench.shown() == []
    bench.command(40, "set_limit", alarm_id="PR_HIGH", enabled=True)
    bench.seconds(40, 51, pr=125)
    assert bench.onsets()[-1] == (50.0, "PR_HIGH")


def test_a_latched_critical_alarm_cannot_be_switched_off() -> None:
    bench = Bench()
    bench.numerics(1, spo2=84)
    bench.numerics(2)
    with pytest.raises(VitalmonError, match="may not be switched off"):
        bench.command(3, "set_limit", alarm_id="SPO2_LOW_CRITICAL", enabled=False)
    assert bench.shown() == ["SPO2_LOW_CRITICAL"]


def test_an_unchanged_setting_is_not_logged() -> None:
    bench = Bench()
    bench.command(1, "set_limit", alarm_id="PR_HIGH", threshold=120)
    assert bench.engine.log == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"alarm_id": "NOPE", "threshold": 1}, "unknown alarm_id 'NOPE'"),
        ({"threshold": 1}, "unknown alarm_id None"),
        ({"alarm_id": "PR_HIGH", "threshold": "high"}, "threshold must be a number"),
        ({"alarm_id": "PR_HIGH", "threshold": float("nan")}, "threshold must be a number"),
        ({"alarm_id": "PR_HIGH", "delay_s": float("inf")}, "delay_s must be"),
        ({"alarm_id": "PR_HIGH", "delay_s": -1}, "delay_s must be"),
        ({"alarm_id": "PR_HIGH", "enabled": "no"}, "enabled must be"),
        ({"alarm_id": "PR_HIGH", "priority": "low"}, "unknown argument 'priority'"),
        ({"alarm_id": "SPO2_PROBE_OFF", "threshold": 3}, "technical alarm: it has no setting"),
        ({"alarm_id": "SPO2_LOW", "satseconds": 30}, "satseconds must be one of 10, 25, 50, 100"),
        ({"alarm_id": "PR_HIGH", "satseconds": 25}, "SPO2_LOW only"),
    ],
)
def test_bad_set_limit_changes_nothing(args: dict, needle: str) -> None:
    bench = Bench()
    before = bench.engine.limits()
    with pytest.raises(VitalmonError, match=needle):
        bench.command(1, "set_limit", **args)
    assert bench.engine.limits() == before
    assert bench.engine.log == []


def test_restore_preset_logs_every_change_back() -> None:
    bench = Bench()
    bench.command(1, "set_limit", alarm_id="PR_HIGH", threshold=100, delay_s=5)
    bench.command(2, "set_limit", alarm_id="SPO2_LOW", enabled=False)
    bench.command(3, "restore_preset")
    assert bench.engine.limits() == Bench().engine.limits()
    restored = [(r["id"], r["state"]) for r in bench.engine.log if r["t"] == 3.0]
    assert restored == [
        ("INACTIVATION", "preset_restored"),
        ("SPO2_LOW", "enabled"),
        ("PR_HIGH", "limit_changed"),
    ]


def test_restore_another_preset_by_name() -> None:
    bench = Bench()
    bench.command(1, "restore_preset", name="ketamine-adult-satseconds")
    assert bench.engine.limits()["SPO2_LOW"].satseconds == 25
    assert bench.engine.preset.name == "ketamine-adult-satseconds"
    with pytest.raises(VitalmonError, match="unknown alarm preset"):
        bench.command(2, "restore_preset", name="nope")


# docs/clinical.md "Setting ranges": id -> (threshold range, may be switched off)
CLINICAL_RANGES = {
    "SPO2_LOW": ((85, 95), True),
    "SPO2_LOW_CRITICAL": ((80, 90), False),
    "PR_HIGH": ((100, 150), True),
    "PR_HIGH_CRITICAL": ((120, 180), False),
    "PR_LOW": ((40, 60), True),
    "PR_LOW_CRITICAL": ((30, 50), False),
    "NIBP_SYS_HIGH": ((140, 200), True),
    "NIBP_SYS_HIGH_CRITICAL": ((160, 220), False),
    "NIBP_SYS_LOW": ((70, 110), True),
    "NIBP_DIA_HIGH": ((80, 120), True),
    "NIBP_DIA_HIGH_CRITICAL": ((90, 130), False),
    "NIBP_MAP_HIGH": ((100, 140), True),
    "NIBP_MAP_LOW": ((50, 70), True),
    "NIBP_SYS_RISE": ((10, 50), True),
    "RR_HIGH": ((20, 40), True),
    "RR_LOW": ((6, 12), True),
    "RR_LOW_CRITICAL": ((4, 8), False),
    "ETCO2_HIGH": ((45, 65), True),
    "ETCO2_LOW": ((15, 30), True),
    "FICO2_HIGH": ((2, 10), True),
}


def test_the_preset_carries_the_clinical_setting_ranges() -> None:
    preset = load_preset()
    ranged = {i: s.setting for i, s in preset.alarms.items() if s.setting is not None}
    assert {i: ((r.low, r.high), r.may_switch_off) for i, r in ranged.items()} == CLINICAL_RANGES
    assert all(s.kind == "technical" for i, s in preset.alarms.items() if i not in ranged)
    assert ranged["RR_LOW_CRITICAL"].apnea_range == (15, 30)
    assert preset.delay_ranges["high"] == (0, 10) and preset.delay_ranges["medium"] == (0, 30)
    assert preset.behaviour.ack_timeout_s == 120


def _outside(alarm_id: str) -> list[float]:
    low, high = CLINICAL_RANGES[alarm_id][0]
    return [low - 1, high + 1]


@pytest.mark.parametrize(
    ("alarm_id", "value"),
    [(i, v) for i in CLINICAL_RANGES for v in _outside(i)],
)
def test_a_threshold_outside_its_range_is_refused_naming_it(alarm_id: str, value: float) -> None:
    bench = Bench()
    low, high = CLINICAL_RANGES[alarm_id][0]
    with pytest.raises(VitalmonError, match=f"outside its range {low}-{high}"):
        bench.command(1, "set_limit", alarm_id=alarm_id, threshold=value)
    assert bench.engine.log == []


# Each range's ends are accepted (the partner moved out of the way first where needed).
@pytest.mark.parametrize(("alarm_id", "end"), [(i, e) for i in CLINICAL_RANGES for e in (0, 1)])
def test_a_threshold_at_either_end_of_its_range_is_accepted(alarm_id: str, end: int) -> None:
    bench = Bench()
    preset = bench.engine.preset
    value = CLINICAL_RANGES[alarm_id][0][end]
    for other in preset.alarms.values():  # clear the critical/non-critical pair's way
        if other.setting is None or other.measure != preset.alarms[alarm_id].measure:
            continue
        if other.id != alarm_id and (
            other.setting.beyond == alarm_id or preset.alarms[alarm_id].setting.beyond == other.id
        ):
            critical = other.setting.beyond == alarm_id
            lower = other.compare in ("<", "<=")
            far = other.setting.low if lower == critical else other.setting.high
            bench.command(1, "set_limit", alarm_id=other.id, threshold=far)
    bench.command(2, "set_limit", alarm_id=alarm_id, threshold=value)
    assert bench.engine.limits()[alarm_id].threshold == value


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        # what the issue found accepted without a word
        ({"alarm_id": "SPO2_LOW_CRITICAL", "threshold": 0}, "outside its range 80-90 %"),
        ({"alarm_id": "SPO2_LOW_CRITICAL", "enabled": False}, "may not be switched off"),
        ({"alarm_id": "OXIMETER_COMM_LOST", "enabled": False}, "can never be switched off"),
        ({"alarm_id": "SPO2_PROBE_OFF", "enabled": False}, "can never be switched off"),
        ({"alarm_id": "RR_LOW_CRITICAL", "threshold": -5}, "outside its range 4-8 /min"),
        ({"alarm_id": "PR_LOW", "delay_s": 100000}, "delay 100000 s is outside 0-30 s"),
        ({"alarm_id": "PR_LOW_CRITICAL", "delay_s": 11}, "delay 11 s is outside 0-10 s"),
        ({"alarm_id": "SPO2_ARTIFACT", "delay_s": 3}, "technical alarm: it has no setting"),
        ({"alarm_id": "RR_LOW_CRITICAL", "apnea_s": 60}, "apnea time 60 s is outside its range"),
        ({"alarm_id": "RR_LOW_CRITICAL", "apnea_s": float("nan")}, "apnea_s must be a number"),
        ({"alarm_id": "PR_HIGH", "apnea_s": 20}, "PR_HIGH has no apnea time"),
        ({"alarm_id": "SPO2_LOW", "threshold": float("inf")}, "threshold must be a number"),
        # a critical limit stays beyond its non-critical one, whichever moves
        (
            {"alarm_id": "SPO2_LOW_CRITICAL", "threshold": 90},
            "must stay below SpO2 low \\(SPO2_LOW\\)",
        ),
        ({"alarm_id": "SPO2_LOW", "threshold": 85}, "must stay below SpO2 low \\(SPO2_LOW\\) 85"),
        (
            {"alarm_id": "PR_HIGH_CRITICAL", "threshold": 120},
            "must stay above Pulse rate high \\(PR_HIGH\\)",
        ),
        (
            {"alarm_id": "NIBP_DIA_HIGH", "threshold": 110},
            "must stay above Diastolic pressure high \\(NIBP_DIA_HIGH\\)",
        ),
    ],
)
def test_settings_outside_the_rules_are_refused(args: dict, needle: str) -> None:
    bench = Bench()
    before = bench.engine.limits()
    with pytest.raises(VitalmonError, match=needle):
        bench.command(1, "set_limit", **args)
    assert bench.engine.limits() == before


def test_switching_off_what_may_be_switched_off_and_a_changed_apnea_time() -> None:
    bench = Bench()
    bench.command(1, "set_limit", alarm_id="SPO2_LOW", enabled=False)
    bench.command(2, "set_limit", alarm_id="RR_LOW_CRITICAL", apnea_s=20)
    assert not bench.engine.limits()["SPO2_LOW"].enabled
    bench.seconds(3, 25, rr=12, apnea_s=21)
    assert bench.onsets() == [(3.0, "RR_LOW_CRITICAL")]
    (change,) = [r for r in bench.records if r["id"] == "RR_LOW_CRITICAL" and "changes" in r]
    assert change["changes"] == {"apnea_s": {"from": 30.0, "to": 20.0}}
