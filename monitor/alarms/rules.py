"""Physiological rules: is a condition true for this record? No timing here (that is the engine's).

Only values the monitor trusts count: a numeric whose state is not `valid`
cannot raise (or hold) a physiological alarm; its technical alarm takes over.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from monitor.alarms.preset import AlarmSpec, SatSecondsSpec

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# Numerics fields whose validity sits in a `<field>_state` key.
STATE_KEYS = {
    "spo2": "spo2_state",
    "pr": "pr_state",
    "rr": "rr_state",
    "etco2": "etco2_state",
    "fico2": "etco2_state",
}
NIBP_FIELDS = {"nibp_sys": "sys", "nibp_dia": "dia", "nibp_map": "map"}


def finite_number(value: object) -> float | None:
    """A real, finite number, else None: records and command arguments are JSON, and
    JSON brings booleans, strings, NaN and Infinity where a number belongs."""
    if isinstance(value, float):  # the usual case first: asked ~40 times a data second
        return float(value) if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return None


def nibp_ok(record: Mapping[str, object]) -> bool:
    """An NIBP record that carries a finished, valid reading."""
    status = str(record.get("status", "ok"))
    return status in ("ok", "done", "valid") and finite_number(record.get("sys")) is not None


def nibp_value(
    record: Mapping[str, object], measure: str, baseline_sys: float | None
) -> float | None:
    if not nibp_ok(record):
        return None
    if measure == "nibp_sys_rise":
        sys = finite_number(record.get("sys"))
        if sys is None or not baseline_sys:
            return None
        return (sys - baseline_sys) / baseline_sys * 100.0
    return finite_number(record.get(NIBP_FIELDS[measure]))


@dataclass(frozen=True, slots=True)
class Rule:
    """A physiological alarm's comparison, worked out once from its spec: the engine asks
    each numeric rule every data second."""

    id: str
    measure: str
    test: Callable[[float, float], bool]
    margin: float  # hysteresis: moves the threshold this way while the condition holds
    state_key: str  # the numerics field that says whether `measure` is valid ("": none)

    @classmethod
    def of(cls, spec: AlarmSpec) -> Rule:
        if spec.measure is None or spec.compare is None:
            raise ValueError(f"alarm {spec.id} compares nothing")
        hysteresis = float(spec.extra.get("hysteresis", 0))  # type: ignore[arg-type]
        margin = hysteresis if spec.compare in ("<", "<=") else -hysteresis
        state_key = STATE_KEYS.get(spec.measure, "")
        return cls(spec.id, spec.measure, COMPARE[spec.compare], margin, state_key)

    def value(self, record: Mapping[str, object]) -> float | None:
        """The numerics field if present, not null and `valid` (absent state = valid)."""
        value = finite_number(record.get(self.measure))
        return value if record.get(self.state_key, "valid") == "valid" else None

    def holds(self, value: float | None, threshold: float, holding: bool = False) -> bool:
        """`value compare threshold`; while `holding` (the condition is already true) the
        threshold moves by the rule's hysteresis, so the value must clear it by that much."""
        if value is None:
            return False
        return self.test(value, threshold + self.margin if holding else threshold)


def apnea_seconds(record: Mapping[str, object]) -> float | None:
    """Seconds since the last breath, from `apnea_s` or `last_breath_t`; None if unknown."""
    apnea = finite_number(record.get("apnea_s"))
    if apnea is not None:
        return apnea
    last = finite_number(record.get("last_breath_t"))
    t = finite_number(record.get("t"))
    return None if last is None or t is None else t - last


class SatSeconds:
    """Nellcor SatSeconds: integrate (limit - SpO2) x s below the limit; alarm at `setting`.

    `crossings` downward crossings of the limit within `crossing_window_s` alarm at once,
    so a patient who keeps dipping just briefly is not missed.
    """

    def __init__(self, spec: SatSecondsSpec, setting: float) -> None:
        self.setting = setting
        self._crossings_needed = spec.crossings
        self._window_s = spec.crossing_window_s
        self._crossing_times: deque[float] = deque()
        self._below = False
        self._last_t: float | None = None
        self.integral = 0.0
        self.alarming = False

    def update(self, spo2: float | None, limit: float, t: float) -> bool:
        dt = 1.0 if self._last_t is None else min(max(t - self._last_t, 0.0), 1.0)
        self._last_t = t
        if spo2 is None or spo2 >= limit:
            self._below = False
            self.integral = 0.0
            self.alarming = False
            return False
        if not self._below:
            self._below = True
            self._crossing_times.append(t)
            dt = 1.0  # the first sample below stands for its whole second
        while self._crossing_times and t - self._crossing_times[0] > self._window_s:
            self._crossing_times.popleft()
        self.integral += (limit - spo2) * dt
        if self.integral >= self.setting or len(self._crossing_times) >= self._crossings_needed:
            self.alarming = True
        return self.alarming
