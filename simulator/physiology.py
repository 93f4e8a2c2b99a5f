"""A patient's vital signs over data time: scenario targets, ramps and small noise.

Deterministic for a seed: the same scenario and seed give the same numbers,
whatever the step size the caller advances by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scenario import DEVICE_KEYS, Scenario

NOISE_STEP_S = 1.0
# Standard deviation of the slow wander of each vital, in its own unit.
NOISE_SD = {
    "hr_bpm": 1.2,
    "spo2_percent": 0.35,
    "pi_percent": 0.08,
    "rr_bpm": 0.5,
    "sys_mmhg": 2.0,
    "dia_mmhg": 1.5,
}


@dataclass(frozen=True, slots=True)
class VitalSigns:
    hr_bpm: float
    spo2_percent: float
    pi_percent: float
    rr_bpm: float
    sys_mmhg: float
    dia_mmhg: float

    @property
    def map_mmhg(self) -> float:
        return self.dia_mmhg + (self.sys_mmhg - self.dia_mmhg) / 3.0


@dataclass(frozen=True, slots=True)
class DeviceState:
    """Faults the scenario imposes on the virtual devices at a moment."""

    oximeter_fault: str = "none"
    nibp_error: int = 0
    nibp_silent: bool = False


class PatientModel:
    """Targets from the timeline, approached linearly over each step's ramp."""

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        self.scenario = scenario
        self._seed = seed
        self._noise_cache: dict[int, np.ndarray] = {}

    def _target(self, key: str, t_s: float) -> float:
        value = self.scenario.patient[key]
        for step in self.scenario.timeline:
            if t_s < step.at_s or key not in step.targets:
                continue
            goal = step.targets[key]
            if step.ramp_s > 0 and t_s < step.at_s + step.ramp_s:
                frac = (t_s - step.at_s) / step.ramp_s
                value = value + (goal - value) * frac
            else:
                value = goal
        return value

    def _noise(self, t_s: float) -> np.ndarray:
        """Smooth noise: one random point per second per vital, interpolated."""
        k = int(np.floor(t_s / NOISE_STEP_S))
        frac = t_s / NOISE_STEP_S - k
        a, b = self._noise_point(k), self._noise_point(k + 1)
        return a + (b - a) * frac

    def _noise_point(self, k: int) -> np.ndarray:
        point = self._noise_cache.get(k)
        if point is None:
            rng = np.random.default_rng([self._seed, max(k, 0)])
            point = rng.standard_normal(len(NOISE_SD)) * np.array(list(NOISE_SD.values()))
            if len(self._noise_cache) > 8:
                self._noise_cache.clear()
            self._noise_cache[k] = point
        return point

    def device_state_at(self, t_s: float) -> DeviceState:
        state = dict(DEVICE_KEYS)
        for step in self.scenario.timeline:
            if step.at_s <= t_s:
                state.update(step.devices)
        return DeviceState(**state)  # type: ignore[arg-type]

    def vitals_at(self, t_s: float) -> VitalSigns:
        noise = dict(zip(NOISE_SD, self._noise(t_s), strict=True))
        values = {key: self._target(key, t_s) + noise[key] for key in NOISE_SD}
        values["spo2_percent"] = min(100.0, values["spo2_percent"])
        values["pi_percent"] = max(0.05, values["pi_percent"])
        return VitalSigns(**values)
