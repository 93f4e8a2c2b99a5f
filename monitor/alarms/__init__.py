"""Alarms by IEC 60601-1-8: presets (TOML), rules, technical watches and the engine."""

from monitor.alarms.engine import SYSTEM_ID, AlarmEngine
from monitor.alarms.preset import (
    DEFAULT_PRESET,
    Preset,
    PresetError,
    builtin_presets,
    load_preset,
    parse_preset,
)
from monitor.alarms.state import INACTIVATIONS, ActiveAlarm, AlarmDisplayState, LimitSetting

__all__ = [
    "DEFAULT_PRESET",
    "INACTIVATIONS",
    "SYSTEM_ID",
    "ActiveAlarm",
    "AlarmDisplayState",
    "AlarmEngine",
    "LimitSetting",
    "Preset",
    "PresetError",
    "builtin_presets",
    "load_preset",
    "parse_preset",
]
