"""The limits dialog for a nurse, as data (no Qt): groups, plain names, ranges, refusals.

docs/clinical.md "Setting ranges": grouped by parameter in the order of the tiles, each
limit with its plain name, the current value and the range it may be set in; the
delay disclosed (IEC 60601-1-8); refusals in words. The words come from the same
check the engine applies to `set_limit` (monitor.alarms.ranges), so the dialog can
never allow what the engine refuses, nor the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.alarms.limits import checked_limit
from monitor.alarms.preset import NIBP_MEASURES, Preset
from monitor.alarms.ranges import fmt, span
from monitor.alarms.state import LimitSetting
from monitor.commands import CommandError
from monitor.present.actions import LimitEdit

# (heading, measures) in the order of the tiles: SpO2, pulse, NIBP, breathing.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SpO₂", ("spo2",)),
    ("Pulse rate", ("pr",)),
    ("Blood pressure (NIBP)", NIBP_MEASURES),
    ("Breathing and capnography", ("rr", "etco2", "fico2")),
)
TECHNICAL_HEADING = "Technical alarms (always on, no setting)"
# Where each measure's current value comes from: a numerics field or the last NIBP reading.
CURRENT_KEYS = {"nibp_sys": "sys", "nibp_dia": "dia", "nibp_map": "map"}


@dataclass(frozen=True, slots=True)
class LimitRow:
    """One alarm as the dialog shows it."""

    alarm_id: str
    name: str  # plain words: "SpO2 critically low"
    priority: str
    unit: str
    threshold: float | None  # None: technical
    low: float | None  # the range a nurse may set
    high: float | None
    range_text: str  # "85-95 %"
    current_text: str  # "now 97 %", "now --"
    may_switch_off: bool
    enabled: bool
    delay_s: float
    delay_low: float | None  # None: the delay is not a nurse's setting
    delay_high: float | None
    delay_text: str  # how the delay is disclosed when it is not adjustable
    apnea_s: float | None = None
    apnea_low: float | None = None
    apnea_high: float | None = None
    decimals: int = 0
    marker: str = ""  # the tile's arrows: "▼" low, "▼▼" critically low, "▲", "▲▲"


@dataclass(frozen=True, slots=True)
class LimitGroup:
    heading: str
    rows: tuple[LimitRow, ...]


def _current(measure: str | None, current: Mapping[str, object], unit: str) -> str:
    value = current.get(CURRENT_KEYS.get(measure or "", measure or ""))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "now --"
    return f"now {value:g} {unit}".strip()


def _row(preset: Preset, setting: LimitSetting, alarm_id: str, current: Mapping) -> LimitRow:
    spec = preset.alarms[alarm_id]
    rng = spec.setting
    if rng is None:  # technical
        return LimitRow(
            alarm_id, spec.message, setting.priority, "", None, None, None, "", "", False,
            True, setting.delay_s, None, None,
            f"after {fmt(setting.delay_s)} s" if setting.delay_s else "at once",
        )  # fmt: skip
    delay_low: float | None = preset.delay_ranges[spec.priority][0]
    delay_high: float | None = preset.delay_ranges[spec.priority][1]
    delay_text = ""
    if setting.satseconds is not None:
        delay_low = delay_high = None
        delay_text = f"SatSeconds {fmt(setting.satseconds)}"
    elif spec.measure in NIBP_MEASURES:
        delay_low = delay_high = None
        delay_text = "on each reading"
    apnea = rng.apnea_range or (None, None)
    values = (rng.low, rng.high, setting.threshold or 0.0)
    decimals = 0 if all(float(v).is_integer() for v in values) else 1
    return LimitRow(
        alarm_id=alarm_id,
        name=spec.message,
        priority=setting.priority,
        unit=spec.unit,
        threshold=setting.threshold,
        low=rng.low,
        high=rng.high,
        range_text=span(rng.low, rng.high, spec.unit),
        current_text=_current(spec.measure, current, spec.unit),
        may_switch_off=rng.may_switch_off,
        enabled=setting.enabled,
        delay_s=setting.delay_s,
        delay_low=delay_low,
        delay_high=delay_high,
        delay_text=delay_text,
        apnea_s=setting.apnea_s,
        apnea_low=apnea[0],
        apnea_high=apnea[1],
        decimals=decimals,
        marker=("▼" if spec.compare in ("<", "<=") else "▲") * (2 if rng.beyond else 1),
    )


def limit_groups(
    preset: Preset, limits: Mapping[str, LimitSetting], current: Mapping[str, object]
) -> list[LimitGroup]:
    """Every alarm, grouped as the tiles are, then the technical ones; `current` holds the
    latest numerics fields and NIBP reading (`sys`, `dia`, `map`)."""
    groups = []
    for heading, measures in GROUPS:
        rows = tuple(
            _row(preset, limits[spec.id], spec.id, current)
            for spec in preset.alarms.values()
            if spec.measure in measures and spec.id in limits
        )
        if rows:
            groups.append(LimitGroup(heading, rows))
    technical = tuple(
        _row(preset, limits[s.id], s.id, current)
        for s in preset.alarms.values()
        if s.setting is None and s.id in limits
    )
    if technical:
        groups.append(LimitGroup(TECHNICAL_HEADING, technical))
    return groups


def _args(alarm_id: str, now: LimitSetting, edit: LimitEdit) -> dict[str, object]:
    args: dict[str, object] = {"alarm_id": alarm_id}
    if edit.threshold is not None and now.threshold is not None and edit.threshold != now.threshold:
        args["threshold"] = edit.threshold
    if edit.enabled != now.enabled:
        args["enabled"] = edit.enabled
    if edit.delay_s is not None and edit.delay_s != now.delay_s:
        args["delay_s"] = edit.delay_s
    if edit.apnea_s is not None and now.apnea_s is not None and edit.apnea_s != now.apnea_s:
        args["apnea_s"] = edit.apnea_s
    return args


def plan_changes(
    preset: Preset, limits: Mapping[str, LimitSetting], edits: Mapping[str, LimitEdit]
) -> tuple[list[dict[str, object]], list[str]]:
    """The `set_limit` commands for the nurse's edits, in an order the engine accepts one by
    one (e.g. a critical limit moved out of the way before its partner follows), and the
    refusals in words. Any refusal: send nothing, say why."""
    pending = [a for i, e in edits.items() if i in limits and len(a := _args(i, limits[i], e)) > 1]
    state = dict(limits)
    ordered: list[dict[str, object]] = []
    while pending:
        for args in pending:
            try:
                new = checked_limit(preset, state, str(args["alarm_id"]), args)
            except CommandError:
                continue
            state[str(args["alarm_id"])] = new
            ordered.append(args)
            pending.remove(args)
            break
        else:
            break
    problems = []
    for args in pending:
        try:
            checked_limit(preset, state, str(args["alarm_id"]), args)
        except CommandError as exc:
            problems.append(str(exc).removeprefix("set_limit: "))
    return ordered, problems
