"""Setting ranges: may an alarm be set like this? One answer, in words, for everyone asking.

docs/clinical.md "Setting ranges": a nurse's change outside an alarm's range is
refused with a message naming the range, whether it comes from `set_limit`, the
limits dialog or a preset file; so all three ask `setting_problem` here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from monitor.alarms.state import LimitSetting

if TYPE_CHECKING:
    from monitor.alarms.preset import AlarmSpec

LOWER = ("<", "<=")


def fmt(value: object) -> str:
    """A setting as messages show it: 90, not 90.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def span(low: float, high: float, unit: str) -> str:
    """'85-95 %', the way a range is named in every refusal."""
    return f"{fmt(low)}-{fmt(high)} {unit}".strip()


def plain_name(spec: AlarmSpec) -> str:
    """'SpO2 low (SPO2_LOW)': the words a nurse knows, then the id QA greps for."""
    return f"{spec.message} ({spec.id})"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _technical_problem(spec: AlarmSpec, new: LimitSetting) -> str | None:
    name = plain_name(spec)
    if not new.enabled:
        return f"{name} is a technical alarm: it can never be switched off"
    if new.threshold is not None or new.delay_s != spec.delay_s or new.apnea_s is not None:
        return f"{name} is a technical alarm: it has no setting to change"
    return None


def _partner_problem(
    spec: AlarmSpec,
    new: LimitSetting,
    limits: Mapping[str, LimitSetting],
    specs: Mapping[str, AlarmSpec],
) -> str | None:
    """A critical limit stays beyond its non-critical one, whichever of the two moves."""
    assert new.threshold is not None
    # (critical alarm, its limit if it is the one moving, its partner, the partner's likewise)
    pairs: list[tuple[AlarmSpec, float | None, AlarmSpec, float | None]] = []
    beyond = spec.setting.beyond if spec.setting is not None else None
    if beyond is not None and beyond in specs:
        pairs.append((spec, new.threshold, specs[beyond], None))
    pairs += [
        (other, None, spec, new.threshold)
        for other in specs.values()
        if other.setting is not None and other.setting.beyond == spec.id
    ]
    for critical, critical_t, plain, plain_t in pairs:
        c = critical_t if critical_t is not None else _threshold(limits, critical)
        p = plain_t if plain_t is not None else _threshold(limits, plain)
        if c is None or p is None:
            continue
        below = critical.compare in LOWER
        if (below and c < p) or (not below and c > p):
            continue
        side = "below" if below else "above"
        return (
            f"{plain_name(critical)} {fmt(c)} {critical.unit} must stay {side} "
            f"{plain_name(plain)} {fmt(p)} {plain.unit}".replace("  ", " ")
        )
    return None


def _threshold(limits: Mapping[str, LimitSetting], spec: AlarmSpec) -> float | None:
    setting = limits.get(spec.id)
    return setting.threshold if setting is not None else spec.threshold


def setting_problem(
    spec: AlarmSpec,
    new: LimitSetting,
    delay_ranges: Mapping[str, tuple[float, float]],
    limits: Mapping[str, LimitSetting],
    specs: Mapping[str, AlarmSpec],
) -> str | None:
    """Why `new` may not be `spec`'s setting (in words, naming the range); None if it may.

    `limits` are the other alarms' settings now (for the critical/non-critical pairs)."""
    if spec.kind == "technical" or spec.setting is None:
        return _technical_problem(spec, new)
    rng, name = spec.setting, plain_name(spec)
    if not _finite(new.threshold):
        return f"{name}: the limit must be a finite number"
    assert new.threshold is not None
    if not rng.low <= new.threshold <= rng.high:
        return (
            f"{name}: limit {fmt(new.threshold)} {spec.unit} is outside its range "
            f"{span(rng.low, rng.high, spec.unit)}".replace("  ", " ")
        )
    if not new.enabled and not rng.may_switch_off:
        return f"{name} may not be switched off"
    low, high = delay_ranges.get(spec.priority, (0.0, 0.0))
    if not _finite(new.delay_s) or not low <= new.delay_s <= high:
        return (
            f"{name}: delay {fmt(new.delay_s)} s is outside {span(low, high, 's')} "
            f"(the range for a {spec.priority}-priority alarm)"
        )
    if rng.apnea_range is not None and new.apnea_s is not None:
        a_low, a_high = rng.apnea_range
        if not _finite(new.apnea_s) or not a_low <= new.apnea_s <= a_high:
            return (
                f"{name}: apnea time {fmt(new.apnea_s)} s is outside its range "
                f"{span(a_low, a_high, 's')}"
            )
    hysteresis = spec.extra.get("hysteresis", 0)
    if isinstance(hysteresis, int | float) and hysteresis > rng.high - rng.low:
        return (
            f"{name}: hysteresis {fmt(hysteresis)} {spec.unit} is wider than its range "
            f"{span(rng.low, rng.high, spec.unit)}".replace("  ", " ")
        )
    return _partner_problem(spec, new, limits, specs)
