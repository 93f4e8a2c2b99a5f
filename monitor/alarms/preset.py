"""Alarm presets: every id, threshold, priority and delay in one TOML file a test loads.

docs/clinical.md keeps clinical numbers out of the code; a preset file is the one
place they live. A preset may name a `base` preset and override parts of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from drivers.errors import VitalmonError, shown
from drivers.files import parse_toml, read_text_file
from monitor.alarms.builtin_checks import builtin_fixed_problem, builtin_kept_problem
from monitor.alarms.ranges import setting_problem
from monitor.alarms.state import LimitSetting

DEFAULT_PRESET = "ketamine-adult"
PRIORITIES = ("low", "medium", "high")
KINDS = ("physiological", "technical")
COMPARATORS = ("<", "<=", ">", ">=")
# Measures a physiological rule may compare: numerics fields, then NIBP reading fields.
NUMERIC_MEASURES = ("spo2", "pr", "rr", "etco2", "fico2")
NIBP_MEASURES = ("nibp_sys", "nibp_dia", "nibp_map", "nibp_sys_rise")
MEASURES = NUMERIC_MEASURES + NIBP_MEASURES
# Per-rule timing numbers a technical (or special) rule may carry.
EXTRA_KEYS = (
    "escalate_to",
    "escalate_after_s",
    "apnea_s",
    "silence_s",
    "stale_s",
    "overdue_s",
    "raised_by",
    "hysteresis",
)
BASIC_KEYS = ("id", "kind", "priority", "delay_s", "message", "measure", "compare", "threshold")
# What a nurse may set on a physiological alarm (docs/clinical.md "Setting ranges").
SETTING_RANGE_KEYS = ("range", "may_switch_off", "beyond", "apnea_range")
ALARM_KEYS = frozenset((*BASIC_KEYS, "unit", "enabled", *EXTRA_KEYS, *SETTING_RANGE_KEYS))


class PresetError(VitalmonError):
    """A preset that cannot be found or read."""


def priority_rank(priority: str | None) -> int:
    """low < medium < high; None (nothing) ranks below all."""
    return -1 if priority is None else PRIORITIES.index(priority)


@dataclass(frozen=True, slots=True)
class SettingRange:
    """What a nurse may set on one physiological alarm; anything else is refused."""

    low: float  # the threshold's allowed range, inclusive
    high: float
    may_switch_off: bool
    beyond: str | None = None  # a critical alarm's non-critical partner: stays beyond its limit
    apnea_range: tuple[float, float] | None = None  # RR_LOW_CRITICAL's apnea time


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """One alarm condition as the preset defines it."""

    id: str
    kind: str
    priority: str
    delay_s: float
    message: str
    measure: str | None = None
    compare: str | None = None
    threshold: float | None = None
    unit: str = ""
    enabled: bool = True
    extra: dict[str, object] = field(default_factory=dict)
    setting: SettingRange | None = None  # None: technical, nothing a nurse may set

    def number(self, key: str) -> float:
        """A timing number the rule needs (e.g. `stale_s`); the preset must have it."""
        value = self.extra.get(key)
        if not isinstance(value, int | float):
            raise PresetError(f"alarm {self.id}: missing number '{key}'")
        return float(value)


@dataclass(frozen=True, slots=True)
class SatSecondsSpec:
    mode: str  # "delay" | "satseconds"
    setting: float
    choices: tuple[float, ...]
    crossings: int
    crossing_window_s: float


@dataclass(frozen=True, slots=True)
class Behaviour:
    audio_pause_s: float
    alarm_pause_s: float
    break_through: str  # this priority or higher, new during an audio pause, sounds at once
    max_pause_s: float  # the longest timed pause a command may ask for ("off" is untimed)
    ack_timeout_s: float  # an acknowledged high physiological alarm sounds again after this


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    description: str
    alarms: dict[str, AlarmSpec]  # in file order
    satseconds: SatSecondsSpec
    behaviour: Behaviour
    delay_ranges: dict[str, tuple[float, float]]  # priority -> a physiological delay's range
    baseline: dict[str, float] = field(default_factory=dict)
    source: str = ""
    # The document it was parsed from, `base` chain resolved: a recording keeps it
    # (monitor/config.py), so replay needs neither the file nor its base.
    doc: dict[str, object] = field(default_factory=dict)


def _presets_dir() -> Traversable:
    return resources.files("monitor.alarms") / "presets"


def builtin_presets() -> list[str]:
    return sorted(e.name[:-5] for e in _presets_dir().iterdir() if e.name.endswith(".toml"))


def _read(name_or_path: str) -> tuple[dict, str, str]:
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        try:
            text = read_text_file(path, "preset file")
        except OSError as exc:
            raise PresetError(f"cannot read preset file '{path}': {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise PresetError(f"cannot read preset file '{path}': {exc.reason}") from None
        source = str(path)
    else:
        if name_or_path not in builtin_presets():
            names = ", ".join(builtin_presets())
            raise PresetError(f"unknown alarm preset '{shown(name_or_path)}' (built in: {names})")
        entry = _presets_dir() / f"{name_or_path}.toml"
        text, source = entry.read_text(encoding="utf-8"), entry.name
    return _toml(text, source), source, text


def _toml(text: str, source: str) -> dict:
    try:
        return parse_toml(text, source)
    except ValueError as exc:
        raise PresetError(str(exc)) from None


def _merged(doc: dict, source: str, depth: int = 0) -> dict:
    """Resolve `base = "..."`: tables merge key by key, alarms by id."""
    base_name = doc.get("base")
    if base_name is None:
        return doc
    if depth > 4:
        raise PresetError(f"{source}: 'base' chain too deep")
    base_doc, base_source, _ = _read(str(base_name))
    base = _merged(base_doc, base_source, depth + 1)
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items() if k != "alarm"}
    for key, value in doc.items():
        if key in ("alarm", "base"):
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    alarms = {a.get("id"): dict(a) for a in _alarm_tables(base, base_source)}
    for raw in _alarm_tables(doc, source):
        alarms[raw.get("id")] = {**alarms.get(raw.get("id"), {}), **raw}
    out["alarm"] = list(alarms.values())
    return out


def _alarm_tables(doc: dict, source: str) -> list[dict]:
    """`[[alarm]]`: an array of tables (`alarm = 5` is one line, not a traceback)."""
    tables = doc.get("alarm", [])
    if not isinstance(tables, list):
        raise PresetError(f"{source}: 'alarm' must be an array of [[alarm]] tables")
    for i, raw in enumerate(tables, start=1):
        if not isinstance(raw, dict):
            raise PresetError(f"{source}: [[alarm]] #{i} must be a table, not {raw!r}")
    return tables


def _num(where: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PresetError(f"{where}: '{key}' must be a number, not {value!r}")
    if not math.isfinite(value):
        raise PresetError(f"{where}: '{key}' must be a finite number, not {value!r}")
    return float(value)


def _flag(where: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise PresetError(f"{where}: '{key}' must be true or false, not {value!r}")
    return value


def _text(where: str, key: str, value: object) -> str:
    """Text the screen shows: a number or a table here is a mistake, not a message."""
    if not isinstance(value, str):
        raise PresetError(f"{where}: '{key}' must be text, not {type(value).__name__}")
    return value


def _one_of(where: str, key: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise PresetError(f"{where}: '{key}' must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _pair(where: str, key: str, value: object) -> tuple[float, float]:
    """`[low, high]`: two finite numbers, low <= high."""
    if not isinstance(value, list) or len(value) != 2:
        raise PresetError(f"{where}: '{key}' must be [low, high], not {value!r}")
    low, high = (_num(where, key, v) for v in value)
    if low > high:
        raise PresetError(f"{where}: '{key}' must be [low, high] with low <= high")
    return low, high


def _setting_range(raw: dict, where: str, kind: str) -> SettingRange | None:
    """A physiological alarm's range (required); a technical one has none to give."""
    given = [k for k in SETTING_RANGE_KEYS if k in raw]
    if kind == "technical":
        if given:
            raise PresetError(
                f"{where}: a technical alarm has no setting a nurse may change: remove '{given[0]}'"
            )
        if raw.get("enabled", True) is not True:
            raise PresetError(f"{where}: a technical alarm can never be switched off")
        return None
    if "range" not in raw:
        raise PresetError(f"{where}: missing 'range' ([low, high] a nurse may set)")
    if "may_switch_off" not in raw:
        raise PresetError(f"{where}: missing 'may_switch_off' (true or false)")
    low, high = _pair(where, "range", raw["range"])
    beyond = raw.get("beyond")
    if beyond is not None and not isinstance(beyond, str):
        raise PresetError(f"{where}: 'beyond' must be an alarm id, not {beyond!r}")
    apnea = raw.get("apnea_range")
    if ("apnea_s" in raw) != (apnea is not None):
        raise PresetError(f"{where}: 'apnea_s' and 'apnea_range' go together")
    return SettingRange(
        low=low,
        high=high,
        may_switch_off=_flag(where, "may_switch_off", raw["may_switch_off"]),
        beyond=beyond,
        apnea_range=None if apnea is None else _pair(where, "apnea_range", apnea),
    )


def _alarm(raw: dict, where: str) -> AlarmSpec:
    unknown = set(raw) - ALARM_KEYS
    if unknown:
        raise PresetError(f"{where}: unknown key '{sorted(unknown)[0]}'")
    alarm_id = raw.get("id")
    if not isinstance(alarm_id, str) or not alarm_id:
        raise PresetError(f"{where}: missing 'id'")
    where = f"{where} ({alarm_id})"
    kind = _one_of(where, "kind", raw.get("kind"), KINDS)
    measure = compare = threshold = None
    if kind == "physiological":
        measure = _one_of(where, "measure", raw.get("measure"), MEASURES)
        compare = _one_of(where, "compare", raw.get("compare"), COMPARATORS)
        threshold = _num(where, "threshold", raw.get("threshold"))
    extra = {k: raw[k] for k in EXTRA_KEYS if k in raw}
    if "escalate_to" in extra:
        _one_of(where, "escalate_to", extra["escalate_to"], PRIORITIES)
    setting = _setting_range(raw, where, kind)
    numbers = [k for k in extra if k.endswith("_s") or k == "hysteresis"]
    for key in numbers:
        if _num(where, key, extra[key]) < 0:
            raise PresetError(f"{where}: '{key}' must not be negative")
    delay = _num(where, "delay_s", raw.get("delay_s", 0))
    if delay < 0:
        raise PresetError(f"{where}: 'delay_s' must not be negative")
    return AlarmSpec(
        id=alarm_id,
        kind=kind,
        priority=_one_of(where, "priority", raw.get("priority"), PRIORITIES),
        delay_s=delay,
        message=_text(where, "message", raw.get("message", alarm_id)),
        measure=measure,
        compare=compare,
        threshold=threshold,
        unit=_text(where, "unit", raw.get("unit", "")),
        enabled=_flag(where, "enabled", raw.get("enabled", True)),
        extra=extra,
        setting=setting,
    )


def _section(doc: dict, name: str, source: str) -> dict:
    value = doc.get(name)
    if not isinstance(value, dict):
        raise PresetError(f"{source}: missing table [{name}]")
    return value


def parse_preset(doc: dict, source: str) -> Preset:
    doc = _merged(doc, source)
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise PresetError(f"{source}: missing 'name' (a string)")
    alarms: dict[str, AlarmSpec] = {}
    for i, raw in enumerate(_alarm_tables(doc, source), start=1):
        spec = _alarm(raw, f"{source}: [[alarm]] #{i}")
        if spec.id in alarms:
            raise PresetError(f"{source}: alarm '{spec.id}' defined twice")
        alarms[spec.id] = spec
    if not alarms:
        raise PresetError(f"{source}: no [[alarm]] entries")
    sat = _section(doc, "satseconds", source)
    where = f"{source}: [satseconds]"
    raw_choices = sat.get("choices", [])
    if not isinstance(raw_choices, list):
        raise PresetError(f"{where}: 'choices' must be an array of numbers")
    choices = tuple(_num(where, "choices", c) for c in raw_choices)
    satseconds = SatSecondsSpec(
        mode=_one_of(where, "mode", sat.get("mode"), ("delay", "satseconds")),
        setting=_num(where, "setting", sat.get("setting")),
        choices=choices,
        crossings=int(_num(where, "crossings", sat.get("crossings"))),
        crossing_window_s=_num(where, "crossing_window_s", sat.get("crossing_window_s")),
    )
    if satseconds.setting not in choices:
        raise PresetError(f"{where}: 'setting' must be one of {choices}")
    beh = _section(doc, "behaviour", source)
    where = f"{source}: [behaviour]"
    behaviour = Behaviour(
        audio_pause_s=_num(where, "audio_pause_s", beh.get("audio_pause_s")),
        alarm_pause_s=_num(where, "alarm_pause_s", beh.get("alarm_pause_s")),
        break_through=_one_of(where, "break_through", beh.get("break_through"), PRIORITIES),
        max_pause_s=_num(where, "max_pause_s", beh.get("max_pause_s")),
        ack_timeout_s=_num(where, "ack_timeout_s", beh.get("ack_timeout_s")),
    )
    if behaviour.ack_timeout_s <= 0:
        raise PresetError(f"{where}: 'ack_timeout_s' must be above 0")
    where = f"{source}: [delay_range]"
    delay_ranges = {
        priority: _pair(where, priority, value)
        for priority, value in _section(doc, "delay_range", source).items()
    }
    for priority in PRIORITIES:
        if priority not in delay_ranges:
            raise PresetError(f"{where}: missing '{priority}' ([low, high] seconds)")
    baseline = {
        k: _num(f"{source}: [baseline]", k, v) for k, v in _section(doc, "baseline", source).items()
    }
    _check_settings(alarms, delay_ranges, source)
    return Preset(
        name=name,
        baseline=baseline,
        description=_text(source, "description", doc.get("description", "")),
        alarms=alarms,
        satseconds=satseconds,
        behaviour=behaviour,
        delay_ranges=delay_ranges,
        source=source,
        doc=doc,
    )


def _check_settings(
    alarms: dict[str, AlarmSpec], delay_ranges: dict[str, tuple[float, float]], source: str
) -> None:
    """Every alarm's preset setting inside its own range, as a nurse's change must be."""
    limits = limits_of(alarms)
    for spec in alarms.values():
        beyond = spec.setting.beyond if spec.setting else None
        if beyond is not None and (beyond not in alarms or alarms[beyond].measure != spec.measure):
            raise PresetError(f"{source}: {spec.id}: 'beyond' must name an alarm on {spec.measure}")
        problem = setting_problem(spec, limits[spec.id], delay_ranges, limits, alarms)
        if problem is not None:
            raise PresetError(f"{source}: {problem}")


def limits_of(alarms: dict[str, AlarmSpec]) -> dict[str, LimitSetting]:
    """Each alarm's setting as its preset entry gives it (SatSeconds aside)."""
    return {
        spec.id: LimitSetting(
            threshold=spec.threshold,
            unit=spec.unit,
            priority=spec.priority,
            delay_s=spec.delay_s,
            enabled=spec.enabled,
            apnea_s=spec.number("apnea_s") if "apnea_s" in spec.extra else None,
        )
        for spec in alarms.values()
    }


def _builtin_tables(doc: dict, source: str) -> tuple[dict, dict]:
    """(the built-in default's alarm tables by id, this document's)."""
    builtin, builtin_source, _ = _read(DEFAULT_PRESET)
    theirs = {a.get("id"): a for a in _alarm_tables(builtin, builtin_source)}
    return theirs, {a.get("id"): a for a in _alarm_tables(doc, source)}


def completed_from_builtin(doc: dict) -> dict:
    """A preset document recorded before setting ranges existed, completed from the built-in
    default where it says nothing: each alarm's range keys, `[delay_range]`, and the
    behaviour keys that came with them. What the document does say is kept."""
    builtin, source, _ = _read(DEFAULT_PRESET)
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in doc.items()}
    for table in ("delay_range", "behaviour"):
        if isinstance(out.get(table), dict) and isinstance(builtin.get(table), dict):
            out[table] = {**builtin[table], **out[table]}
        elif table not in out:
            out[table] = dict(builtin[table])
    ranges = {
        a.get("id"): {k: a[k] for k in SETTING_RANGE_KEYS if k in a}
        for a in _alarm_tables(builtin, source)
    }
    tables = out.get("alarm")
    if isinstance(tables, list):
        out["alarm"] = [
            {**ranges.get(a.get("id"), {}), **a}
            if isinstance(a, dict) and a.get("kind") == "physiological" and "range" not in a
            else a
            for a in tables
        ]
    return out


def load_preset(name_or_path: str = DEFAULT_PRESET) -> Preset:
    """A bundled preset by name, or a user's TOML file by path."""
    doc, source, _ = _read(name_or_path)
    doc = _merged(doc, source)
    theirs, mine = _builtin_tables(doc, source)
    problem = builtin_kept_problem(theirs, mine)  # before parsing: the clearer message
    if problem is not None:
        raise PresetError(f"{source}: {problem}")
    preset = parse_preset(doc, source)
    problem = builtin_fixed_problem(theirs, mine)
    if problem is not None:
        raise PresetError(f"{source}: {problem}")
    return preset
