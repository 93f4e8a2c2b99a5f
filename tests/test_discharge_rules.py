"""The discharge rule set (monitor/discharge.toml), table-tested at its edges, and the
checklist rules the screen paints (monitor/present/discharge_view.py)."""

from __future__ import annotations

import pytest

from monitor.discharge import assess, load_rules
from monitor.present.discharge_view import checklist, sign_off_args, sign_off_summary

RULES = load_rules()
BASE = (120.0, 80.0)
HOUR = RULES.recovery_min_s


@pytest.mark.parametrize(
    ("aldrete", "bp", "spo2", "recovery_s", "verdicts"),
    [
        (9, (144, 96), 92, HOUR, (True, True, True, True)),  # every edge exactly met
        (8, (144, 96), 92, HOUR, (False, True, True, True)),
        (10, (145, 80), 99, HOUR, (True, False, True, True)),  # systolic +20.8 %
        (10, (120, 97), 99, HOUR, (True, False, True, True)),  # diastolic +21 %
        (10, (95, 63), 99, HOUR, (True, False, True, True)),  # below: -20.8 %
        (10, (96, 64), 91, HOUR, (True, True, False, True)),
        (10, (120, 80), 97, HOUR - 1, (True, True, True, False)),
        (None, None, None, 0, (None, None, None, False)),
    ],
)
def test_each_criterion(aldrete, bp, spo2, recovery_s, verdicts) -> None:
    result = assess(aldrete, bp, BASE if bp else None, spo2, recovery_s)
    assert tuple(c.met for c in result.criteria) == verdicts
    assert result.ready is all(v is True for v in verdicts)


def test_checklist_and_sign_off_arguments() -> None:
    met = assess(9, (120, 80), BASE, 97, HOUR)
    assert [row.mark for row in checklist(met)] == ["\u2713"] * 4
    assert sign_off_summary(met) == "All discharge criteria met."
    assert sign_off_args(met, " RN Lee ", "") == {"kind": "sign_off", "by": "RN Lee"}
    short = assess(9, (120, 80), BASE, 97, 600)
    assert [row.state for row in checklist(short)] == ["met", "met", "met", "unmet"]
    assert "needs a reason" in sign_off_summary(short)
    with pytest.raises(ValueError, match="reason"):
        sign_off_args(short, "RN Lee", "   ")
    assert sign_off_args(short, "", "ward")["override_reason"] == "ward"
