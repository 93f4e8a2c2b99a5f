"""Alarm settings: the preset's defaults, a nurse's change checked, and what it changed.

Pure functions, so the checks a `set_limit` command goes through are tested
without an engine; the engine applies and logs the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from monitor.alarms.preset import Preset
from monitor.alarms.rules import finite_number
from monitor.alarms.state import LimitSetting
from monitor.commands import CommandError

SETTING_KEYS = ("threshold", "enabled", "delay_s", "satseconds")


def limits_from(preset: Preset) -> dict[str, LimitSetting]:
    """Every alarm's setting as the preset defines it."""
    sat = preset.satseconds
    return {
        spec.id: LimitSetting(
            threshold=spec.threshold,
            unit=spec.unit,
            priority=spec.priority,
            delay_s=spec.delay_s,
            enabled=spec.enabled,
            satseconds=sat.setting if spec.id == "SPO2_LOW" and sat.mode == "satseconds" else None,
        )
        for spec in preset.alarms.values()
    }


def fmt(value: object) -> str:
    """A setting as the log message shows it: 90, not 90.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
    if "satseconds" in args:
        value = args["satseconds"]
        if alarm_id != "SPO2_LOW":
            raise CommandError("set_limit: satseconds applies to SPO2_LOW only")
        if value is not None and value not in satseconds_choices:
            listed = ", ".join(fmt(c) for c in satseconds_choices)
            raise CommandError(f"set_limit: satseconds must be one of {listed} or null")
        new = replace(new, satseconds=finite_number(value))
    return new


def limit_changes(old: LimitSetting, new: LimitSetting) -> dict[str, dict[str, object]]:
    """{setting: {"from", "to"}} for every setting that differs (what the log records)."""
    return {
        key: {"from": getattr(old, key), "to": getattr(new, key)}
        for key in SETTING_KEYS
        if getattr(old, key) != getattr(new, key)
    }
