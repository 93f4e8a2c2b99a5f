"""What a preset file may not do to the built-in alarms, as problems in words.

docs/clinical.md "Setting ranges": a preset may change the built-in alarms' settings
within their ranges, and narrow a range; it may not drop an alarm, change its kind,
widen a range, let a critical alarm be switched off, or touch a technical alarm
(which has no setting). Pure functions over the TOML tables (by alarm id), so
monitor.alarms.preset raises the one error type with the words these give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Tables = Mapping[object, Mapping[str, object]]

# What a preset may not change on a built-in technical alarm (it has no setting).
TECHNICAL_FIXED = ("priority", "delay_s", "escalate_to", "escalate_after_s", "silence_s", "stale_s")
# What a preset may not change on a built-in physiological alarm.
PHYSIOLOGICAL_FIXED = ("measure", "compare", "priority", "beyond")


def builtin_kept_problem(theirs: Tables, mine: Tables) -> str | None:
    """Every built-in alarm still there, of the same kind."""
    for alarm_id, base in theirs.items():
        if alarm_id not in mine:
            return (
                f"the built-in alarm {alarm_id} is missing "
                "(a preset may change an alarm's settings, never drop it)"
            )
        if mine[alarm_id].get("kind") != base.get("kind"):
            return (
                f"alarm {alarm_id} must stay {base.get('kind')} "
                "(a preset may not change an alarm's kind)"
            )
    return None


def builtin_fixed_problem(theirs: Tables, mine: Tables) -> str | None:
    """What no preset may change on a built-in alarm (asked once the preset parses)."""
    for alarm_id, base in theirs.items():
        if base.get("kind") != "technical":
            problem = _physiological_problem(mine[alarm_id], base)
            if problem is not None:
                return f"{alarm_id}: {problem}"
            continue
        for key in TECHNICAL_FIXED:
            if mine[alarm_id].get(key) != base.get(key):
                return (
                    f"{alarm_id} is a technical alarm: its '{key}' is fixed "
                    f"({base.get(key)!r}; technical alarms have no setting)"
                )
    return None


def _physiological_problem(mine: Mapping[str, object], base: Mapping[str, object]) -> str | None:
    for key in PHYSIOLOGICAL_FIXED:
        if mine.get(key) != base.get(key):
            return f"its '{key}' is fixed ({base.get(key)!r})"
    if mine.get("may_switch_off") is True and base.get("may_switch_off") is not True:
        return "it may not be switched off (a preset cannot allow it)"
    for key in ("range", "apnea_range"):
        wide, narrow = base.get(key), mine.get(key)
        if not (isinstance(wide, list) and isinstance(narrow, list) and len(narrow) == 2):
            continue
        if all(_finite(v) for v in narrow) and not wide[0] <= narrow[0] <= narrow[1] <= wide[1]:
            return f"'{key}' {narrow} may narrow the built-in {wide}, never widen it"
    return None


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
