"""Alarm settings: the preset's defaults, a nurse's change checked, and what it changed.

Pure functions, so the checks a `set_limit` command goes through are tested
without an engine; the engine applies and logs the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from monitor.alarms.preset import Preset, limits_of
from monitor.alarms.ranges import fmt, plain_name, setting_problem, span
from monitor.alarms.rules import finite_number
from monitor.alarms.state import LimitSetting
from monitor.commands import CommandError

SETTING_KEYS = ("threshold", "enabled", "delay_s", "satseconds", "apnea_s")
SET_LIMIT_ARGS = frozenset(("alarm_id", *SETTING_KEYS))
__all__ = ["SETTING_KEYS", "changed_limit", "checked_limit", "fmt", "limit_changes", "limits_from"]


def limits_from(preset: Preset) -> dict[str, LimitSetting]:
    """Every alarm's setting as the preset defines it."""
    limits = limits_of(preset.alarms)
    if "SPO2_LOW" in limits and preset.satseconds.mode == "satseconds":
        limits["SPO2_LOW"] = replace(limits["SPO2_LOW"], satseconds=preset.satseconds.setting)
    return limits


def changed_limit(
    alarm_id: str,
    old: LimitSetting,
    args: Mapping[str, object],
    satseconds_choices: tuple[float, ...],
) -> LimitSetting:
    """`old` with a `set_limit` command's changes; CommandError if any is not allowed."""
    new = old
    if "threshold" in args:
        value = args["threshold"]
        if old.threshold is None:
            raise CommandError(f"set_limit: {alarm_id} has no threshold")
        threshold = finite_number(value)
        if threshold is None:
            raise CommandError("set_limit: threshold must be a number")
        new = replace(new, threshold=threshold)
    if "enabled" in args:
        if not isinstance(args["enabled"], bool):
            raise CommandError("set_limit: enabled must be true or false")
        new = replace(new, enabled=args["enabled"])
    if "delay_s" in args:
        value = args["delay_s"]
        delay = finite_number(value)
        if delay is None or delay < 0:
            raise CommandError("set_limit: delay_s must be a number of seconds >= 0")
        new = replace(new, delay_s=delay)
    if "apnea_s" in args:
        if old.apnea_s is None:
            raise CommandError(f"set_limit: {alarm_id} has no apnea time")
        apnea = finite_number(args["apnea_s"])
        if apnea is None:
            raise CommandError("set_limit: apnea_s must be a number of seconds")
        new = replace(new, apnea_s=apnea)
    if "satseconds" in args:
        value = args["satseconds"]
        if alarm_id != "SPO2_LOW":
            raise CommandError("set_limit: satseconds applies to SPO2_LOW only")
        if value is not None and value not in satseconds_choices:
            listed = ", ".join(fmt(c) for c in satseconds_choices)
            raise CommandError(f"set_limit: satseconds must be one of {listed} or null")
        new = replace(new, satseconds=finite_number(value))
    return new


def checked_limit(
    preset: Preset, limits: Mapping[str, LimitSetting], alarm_id: str, args: Mapping[str, object]
) -> LimitSetting:
    """`changed_limit`, then refused (CommandError naming the range) unless the preset allows it."""
    spec = preset.alarms[alarm_id]
    if spec.setting is None:
        fixed = f"{plain_name(spec)} is a technical alarm: it has no setting"
        if args.get("enabled") is False:
            fixed += " and can never be switched off"
        raise CommandError(f"set_limit: {fixed}")
    try:
        new = changed_limit(alarm_id, limits[alarm_id], args, preset.satseconds.choices)
    except CommandError as exc:  # NaN, infinity, a string: say what is allowed
        raise CommandError(f"{exc} ({allowed_text(preset, alarm_id)})") from None
    problem = setting_problem(spec, new, preset.delay_ranges, limits, preset.alarms)
    if problem is not None:
        raise CommandError(f"set_limit: {problem}")
    return new


def allowed_text(preset: Preset, alarm_id: str) -> str:
    """'SPO2_LOW: limit 85-95 %, delay 0-30 s', what a refusal of a bad value names."""
    spec = preset.alarms[alarm_id]
    assert spec.setting is not None
    rng = spec.setting
    low, high = preset.delay_ranges[spec.priority]
    text = f"{alarm_id}: limit {span(rng.low, rng.high, spec.unit)}, delay {span(low, high, 's')}"
    if rng.apnea_range is not None:
        text += f", apnea time {span(*rng.apnea_range, 's')}"
    return text


def limit_changes(old: LimitSetting, new: LimitSetting) -> dict[str, dict[str, object]]:
    """{setting: {"from", "to"}} for every setting that differs (what the log records)."""
    return {
        key: {"from": getattr(old, key), "to": getattr(new, key)}
        for key in SETTING_KEYS
        if getattr(old, key) != getattr(new, key)
    }
