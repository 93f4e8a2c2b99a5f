"""The nurse's limits screen as data: groups in tile order, names, ranges, refusals in words."""

from __future__ import annotations

from monitor.alarms import load_preset
from monitor.alarms.limits import limits_from
from monitor.present.actions import LimitEdit
from monitor.present.limits_view import TECHNICAL_HEADING, limit_groups, plan_changes

PRESET = load_preset()
LIMITS = limits_from(PRESET)


def _edits(**changes: LimitEdit) -> dict[str, LimitEdit]:
    same = {i: LimitEdit(s.threshold, s.delay_s, s.enabled, s.apnea_s) for i, s in LIMITS.items()}
    return {**same, **changes}


def test_groups_follow_the_tiles_with_plain_names_ranges_and_current_values() -> None:
    groups = limit_groups(PRESET, LIMITS, {"spo2": 97, "pr": None, "sys": 128})
    assert [g.heading for g in groups] == [
        "SpO₂",
        "Pulse rate",
        "Blood pressure (NIBP)",
        "Breathing and capnography",
        TECHNICAL_HEADING,
    ]
    spo2 = {r.alarm_id: r for r in groups[0].rows}
    assert list(spo2) == ["SPO2_LOW", "SPO2_LOW_CRITICAL"]
    low, critical = spo2["SPO2_LOW"], spo2["SPO2_LOW_CRITICAL"]
    assert (low.name, low.range_text, low.current_text) == ("SpO2 low", "85-95 %", "now 97 %")
    assert (critical.name, critical.may_switch_off) == ("SpO2 critically low", False)
    assert (low.marker, critical.marker) == ("▼", "▼▼")  # as the tile shows them
    assert (low.delay_low, low.delay_high, critical.delay_high) == (0, 30, 10)
    assert groups[1].rows[0].current_text == "now --"
    nibp = {r.alarm_id: r for r in groups[2].rows}
    assert nibp["NIBP_SYS_HIGH"].current_text == "now 128 mmHg"
    assert nibp["NIBP_SYS_HIGH"].delay_text == "on each reading"
    rr = {r.alarm_id: r for r in groups[3].rows}
    assert (rr["RR_LOW_CRITICAL"].apnea_low, rr["RR_LOW_CRITICAL"].apnea_high) == (15, 30)
    technical = groups[4].rows
    assert all(r.threshold is None and not r.may_switch_off for r in technical)
    shown = [r.alarm_id for g in groups for r in g.rows]
    assert sorted(shown) == sorted(LIMITS)  # every alarm, once


def test_satseconds_is_disclosed_in_place_of_the_delay() -> None:
    preset = load_preset("ketamine-adult-satseconds")
    (row, _) = limit_groups(preset, limits_from(preset), {})[0].rows
    assert (row.delay_text, row.delay_low) == ("SatSeconds 25", None)


def test_only_what_was_edited_is_sent() -> None:
    changes, problems = plan_changes(PRESET, LIMITS, _edits(PR_HIGH=LimitEdit(130, 10, True)))
    assert (changes, problems) == ([{"alarm_id": "PR_HIGH", "threshold": 130}], [])
    edits = _edits(SPO2_LOW=LimitEdit(90, 20, False), RR_LOW_CRITICAL=LimitEdit(6, 0, True, 20))
    changes, _ = plan_changes(PRESET, LIMITS, edits)
    assert changes == [
        {"alarm_id": "SPO2_LOW", "enabled": False, "delay_s": 20},
        {"alarm_id": "RR_LOW_CRITICAL", "apnea_s": 20},
    ]


def test_a_pair_moved_together_is_sent_in_an_order_the_engine_takes() -> None:
    """SpO2 low 90 -> 85 needs the critical limit (85) moved to 80 first."""
    edits = _edits(SPO2_LOW=LimitEdit(85, 15, True), SPO2_LOW_CRITICAL=LimitEdit(80, 0, True))
    changes, problems = plan_changes(PRESET, LIMITS, edits)
    assert problems == []
    assert [c["alarm_id"] for c in changes] == ["SPO2_LOW_CRITICAL", "SPO2_LOW"]


def test_refusals_are_words_and_nothing_is_sent() -> None:
    edits = _edits(SPO2_LOW=LimitEdit(85, 15, True))  # onto the critical limit
    changes, problems = plan_changes(PRESET, LIMITS, edits)
    assert changes == []
    assert problems == [
        "SpO2 critically low (SPO2_LOW_CRITICAL) 85 % must stay below SpO2 low (SPO2_LOW) 85 %"
    ]
