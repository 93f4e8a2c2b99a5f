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


def test_disabling_removes_a_latched_alarm() -> None:
    bench = Bench()
    bench.numerics(1, spo2=84)
    bench.numerics(2)
    assert bench.shown() == ["SPO2_LOW_CRITICAL"]
    bench.command(3, "set_limit", alarm_id="SPO2_LOW_CRITICAL", enabled=False)
    assert bench.shown() == []


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
        ({"alarm_id": "SPO2_PROBE_OFF", "threshold": 3}, "has no threshold"),
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
