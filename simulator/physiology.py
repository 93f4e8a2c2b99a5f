"""A patient's vital signs over data time: scenario targets, ketamine, lags, noise.

The model runs on a grid of whole data seconds. Second k is computed from
second k-1 (first-order lags, the drug's kinetics, slow wander, the phases of
the heartbeat and the breath), so the numbers are a pure function of the
scenario, the seed and k: the same whatever step size the caller advances by.
A time between two seconds is interpolated; waveforms use the phases, which
advance inside second k at that second's rates (`SecondState`).

What it models, and why:
- SpO2 lags a change of oxygenation by ~25 s (circulation and the oximeter's
  averaging): first-order lag `SPO2_LAG_S`. Hypoventilation lowers the target
  through a slower lag (the oxygen stores), so apnea desaturates after a while.
- Ketamine (timeline key `ketamine_mg_per_kg_h`): plasma level follows the
  infusion rate with a ~8 min half-time, the effect site follows plasma with
  ~2 min; BP and HR rise with the effect-site level (sympathomimetic), PI falls
  a little (vasoconstriction), breathing slows only above ~1 mg/kg/h, and it all
  wears off after the stop.
- Respiratory variation: HR (sinus arrhythmia) and BP swing with the breath.
- Noise: white jitter per second plus a slow wander (AR(1), ~1 min).
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from simulator.scenario import DEVICE_KEYS, DRUG_KEYS, Scenario

VITALS = ("hr_bpm", "spo2_percent", "pi_percent", "rr_bpm", "sys_mmhg", "dia_mmhg")
# Per-second jitter and slow-wander sizes (standard deviations, each in its vital's unit).
JITTER_SD = (0.8, 0.25, 0.05, 0.3, 1.5, 1.0)
WANDER_SD = (1.5, 0.3, 0.15, 0.4, 2.5, 1.8)
WANDER_TAU_S = 60.0
NOISE_BLOCK_S = 64  # noise is drawn a block of seconds at a time (one generator per block)

SPO2_LAG_S = 25.0  # SpO2 behind a change in oxygenation (circulation + averaging)
O2_STORE_LAG_S = 40.0  # oxygen stores buffer hypoventilation before saturation falls
HYPOVENT_RR_BPM = 8.0  # below this rate saturation starts to fall...
HYPOVENT_MAX_DROP = 25.0  # ...down to this many points at apnea

KETAMINE_PLASMA_HALF_S = 8 * 60.0
KETAMINE_EFFECT_HALF_S = 2 * 60.0
# Effects per unit of effect-site level (1.0 = the level a 1 mg/kg/h infusion settles at).
KETAMINE_SYS_MMHG = 45.0
KETAMINE_DIA_MMHG = 22.0
KETAMINE_HR_BPM = 20.0
KETAMINE_PI_PERCENT = -0.8
KETAMINE_RESP_THRESHOLD = 1.0  # respiratory depression only above this level
KETAMINE_RR_PER_UNIT = 8.0

RSA_HR_BPM = 1.5  # sinus arrhythmia: HR swings +- this with each breath
RESP_SYS_MMHG = 2.5  # systolic swings +- this with each breath
CHECKPOINT_EVERY_S = 300
RECENT_SECONDS = 120


@dataclass(frozen=True, slots=True)
class VitalSigns:
    hr_bpm: float
    spo2_percent: float
    pi_percent: float
    rr_bpm: float
    sys_mmhg: float
    dia_mmhg: float
    map_mmhg: float = float("nan")

    def __post_init__(self) -> None:
        if math.isnan(self.map_mmhg):
            # The usual estimate when only systolic and diastolic are known.
            object.__setattr__(
                self, "map_mmhg", self.dia_mmhg + (self.sys_mmhg - self.dia_mmhg) / 3.0
            )


@dataclass(frozen=True, slots=True)
class DeviceState:
    """Faults the scenario imposes on the virtual devices at a moment."""

    oximeter_fault: str = "none"
    nibp_error: int = 0
    nibp_silent: bool = False
    resp_silent: bool = False
    capno_adapter_off: bool = False
    capno_zero_required: bool = False
    capno_obstruction: float = 0.0


@dataclass(frozen=True, slots=True)
class SecondState:
    """The model at the end of whole second `k`; waveforms in (k-1, k] use these rates.

    `beat_phase` and `resp_phase` (0..1) are the phases reached at time k; at an
    earlier time t in the second, phase = beat_phase - (k - t) * hr_bpm / 60.
    """

    k: int
    vitals: VitalSigns
    beat_phase: float
    resp_phase: float
    breath_depth: float  # tidal depth relative to a normal breath (0 = apnea)
    breath_rate_bpm: float  # the rate the breath phase advanced at (no display jitter)
    ketamine_effect: float  # effect-site level, in mg/kg/h-at-steady-state units


@dataclass(frozen=True, slots=True)
class _Hidden:
    """What carries from one second to the next besides the outputs."""

    spo2_lagged: float
    hypovent_drop: float
    plasma: float
    effect: float
    wander: tuple[float, ...]


def _decay(tau_s: float) -> float:
    return math.exp(-1.0 / tau_s)


class PatientModel:
    """Vitals from the scenario timeline, passed through the physiology above."""

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        self.scenario = scenario
        self._seed = seed
        self._noise_blocks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._recent: OrderedDict[int, tuple[SecondState, _Hidden]] = OrderedDict()
        self._checkpoints: dict[int, tuple[SecondState, _Hidden]] = {}
        # Device states hold from one timeline step to the next: one per step (a sorted
        # timeline, as loading makes it), asked for several times a data second.
        self._step_times = [step.at_s for step in scenario.timeline]
        self._steps_sorted = self._step_times == sorted(self._step_times)
        self._device_states: dict[int, DeviceState] = {}
        self._targets_t = math.nan  # the time `_targets` are for (NaN: none yet)
        self._targets: dict[str, float] = {}
        self._a_spo2 = _decay(SPO2_LAG_S)
        self._a_store = _decay(O2_STORE_LAG_S)
        self._a_plasma = _decay(KETAMINE_PLASMA_HALF_S / math.log(2))
        self._a_effect = _decay(KETAMINE_EFFECT_HALF_S / math.log(2))
        self._a_wander = _decay(WANDER_TAU_S)
        self._wander_kick = [sd * math.sqrt(1 - self._a_wander**2) for sd in WANDER_SD]

    # --- timeline -------------------------------------------------------------

    def target(self, key: str, t_s: float) -> float:
        """The scenario's target for a vital at `t_s` (ramps are linear), before physiology."""
        if t_s != self._targets_t:  # a second asks for ~8 targets, all at one time
            self._targets_t, self._targets = t_s, self._targets_at(t_s)
        return self._targets[key]

    def _targets_at(self, t_s: float) -> dict[str, float]:
        """Every vital's target at `t_s`, in one pass over the timeline."""
        values = dict(self.scenario.patient)
        for step in self.scenario.timeline:
            if t_s < step.at_s:
                break
            ramping = step.ramp_s > 0 and t_s < step.at_s + step.ramp_s
            for key, goal in step.targets.items():
                if ramping:
                    value = values[key]
                    values[key] = value + (goal - value) * (t_s - step.at_s) / step.ramp_s
                else:
                    values[key] = goal
        return values

    def _held(self, defaults: dict[str, object], attr: str, t_s: float) -> dict[str, object]:
        state = dict(defaults)
        for step in self.scenario.timeline:
            if step.at_s > t_s:
                break
            state.update(getattr(step, attr))
        return state

    def device_state_at(self, t_s: float) -> DeviceState:
        if not self._steps_sorted:
            return DeviceState(**self._held(DEVICE_KEYS, "devices", t_s))  # type: ignore[arg-type]
        steps_in = bisect.bisect_right(self._step_times, t_s)  # the steps _held applies
        state = self._device_states.get(steps_in)
        if state is None:
            state = DeviceState(**self._held(DEVICE_KEYS, "devices", t_s))  # type: ignore[arg-type]
            self._device_states[steps_in] = state
        return state

    def infusion_rate_at(self, t_s: float) -> float:
        """Ketamine infusion rate (mg/kg/h) the timeline sets at `t_s`."""
        return float(self._held(DRUG_KEYS, "drugs", t_s)["ketamine_mg_per_kg_h"])  # type: ignore[arg-type]

    # --- the grid ---------------------------------------------------------------

    def vitals_at(self, t_s: float) -> VitalSigns:
        """Vitals at any data time (between whole seconds: interpolated)."""
        k = math.ceil(t_s - 1e-9)
        here = self.second(k).vitals
        frac = k - t_s
        if frac <= 1e-9:
            return here
        before = self.second(k - 1).vitals
        mixed = {
            f: getattr(here, f) + (getattr(before, f) - getattr(here, f)) * frac
            for f in (*VITALS, "map_mmhg")
        }
        return VitalSigns(**mixed)

    def second(self, k: int) -> SecondState:
        """The model at whole second `k` (k <= 0 is the resting start)."""
        return self._point(max(k, 0))[0]

    def _point(self, k: int) -> tuple[SecondState, _Hidden]:
        found = self._recent.get(k)
        if found is not None:
            return found
        newest = next(reversed(self._recent), None)
        if newest is not None and newest < k:
            j, point = newest, self._recent[newest]
        else:  # going back in time (rare): restart from the last checkpoint before k
            j = max((c for c in self._checkpoints if c <= k), default=-1)
            point = self._checkpoints[j] if j >= 0 else self._initial()
            j = point[0].k
            self._recent.clear()
            self._remember(j, point)
        while j < k:
            j += 1
            point = self._step(point, j)
            self._remember(j, point)
        return point

    def _remember(self, k: int, point: tuple[SecondState, _Hidden]) -> None:
        self._recent[k] = point  # a new second: the newest (the map keeps insertion order)
        while len(self._recent) > RECENT_SECONDS:
            self._recent.popitem(last=False)
        if k % CHECKPOINT_EVERY_S == 0:
            self._checkpoints[k] = point

    def _noise(self, k: int) -> tuple[list[float], list[float]]:
        """(jitter, wander kick) standard normals for second k, drawn a block at a time."""
        block = k // NOISE_BLOCK_S
        draws = self._noise_blocks.get(block)
        if draws is None:
            rng = np.random.default_rng([self._seed, block])
            draws = rng.standard_normal((NOISE_BLOCK_S, 2, len(VITALS)))
            self._noise_blocks[block] = draws
            if len(self._noise_blocks) > 4:
                self._noise_blocks.popitem(last=False)
        row = draws[k % NOISE_BLOCK_S]
        return row[0].tolist(), row[1].tolist()

    def _initial(self) -> tuple[SecondState, _Hidden]:
        hidden = _Hidden(
            spo2_lagged=self.target("spo2_percent", 0.0),
            hypovent_drop=self._hypovent_target(self.target("rr_bpm", 0.0)),
            plasma=0.0,
            effect=0.0,
            wander=(0.0,) * len(VITALS),
        )
        state = self._outputs(0, hidden, beat_phase=0.0, resp_phase=0.0, jitter=[0.0] * len(VITALS))
        return state, hidden

    @staticmethod
    def _hypovent_target(rr_bpm: float) -> float:
        shortfall = max(0.0, HYPOVENT_RR_BPM - rr_bpm) / HYPOVENT_RR_BPM
        return HYPOVENT_MAX_DROP * shortfall**1.5

    def _step(self, point: tuple[SecondState, _Hidden], k: int) -> tuple[SecondState, _Hidden]:
        prev_state, prev = point
        jitter, kick = self._noise(k)
        wander = tuple(
            w * self._a_wander + s * n
            for w, s, n in zip(prev.wander, self._wander_kick, kick, strict=True)
        )
        rate = self.infusion_rate_at(k - 1.0)
        plasma = rate + (prev.plasma - rate) * self._a_plasma
        effect = plasma + (prev.effect - plasma) * self._a_effect
        rr_now = self._rr(k, effect, wander)
        drop_goal = self._hypovent_target(rr_now)
        hypovent = drop_goal + (prev.hypovent_drop - drop_goal) * self._a_store
        spo2_goal = self.target("spo2_percent", float(k)) - hypovent
        spo2_lagged = spo2_goal + (prev.spo2_lagged - spo2_goal) * self._a_spo2
        hidden = _Hidden(spo2_lagged, hypovent, plasma, effect, wander)
        state = self._outputs(k, hidden, prev_state.beat_phase, prev_state.resp_phase, jitter)
        return state, hidden

    def _rr(self, k: int, effect: float, wander: tuple[float, ...]) -> float:
        depression = max(0.0, effect - KETAMINE_RESP_THRESHOLD) * KETAMINE_RR_PER_UNIT
        target = self.target("rr_bpm", float(k))
        if target <= 0.0:
            return 0.0  # apnea is apnea: no wander brings a breath back
        return max(0.0, target - depression + wander[3])

    def _outputs(
        self,
        k: int,
        hidden: _Hidden,
        beat_phase: float,
        resp_phase: float,
        jitter: list[float],
    ) -> SecondState:
        t = float(k)
        e = hidden.effect
        w = hidden.wander
        rr = self._rr(k, e, w)
        resp_phase = (resp_phase + rr / 60.0) % 1.0
        breath = math.sin(2 * math.pi * resp_phase)
        hr = (
            self.target("hr_bpm", t)
            + KETAMINE_HR_BPM * e
            + w[0]
            + jitter[0] * JITTER_SD[0]
            + (RSA_HR_BPM * breath if rr > 0 else 0.0)
        )
        hr = max(20.0, hr)
        beat_phase = (beat_phase + hr / 60.0) % 1.0
        spo2 = min(100.0, max(40.0, hidden.spo2_lagged + w[1] + jitter[1] * JITTER_SD[1]))
        pi = max(
            0.05,
            self.target("pi_percent", t)
            + KETAMINE_PI_PERCENT * e
            + w[2]
            + jitter[2] * JITTER_SD[2],
        )
        sys = (
            self.target("sys_mmhg", t)
            + KETAMINE_SYS_MMHG * e
            + w[4]
            + jitter[4] * JITTER_SD[4]
            + RESP_SYS_MMHG * breath * min(1.0, rr / 10.0)
        )
        dia = self.target("dia_mmhg", t) + KETAMINE_DIA_MMHG * e + w[5] + jitter[5] * JITTER_SD[5]
        dia = min(dia, sys - 10.0)
        rr_shown = 0.0 if rr <= 0.0 else max(0.0, rr + jitter[3] * JITTER_SD[3])
        vitals = VitalSigns(hr, spo2, pi, rr_shown, sys, dia)
        target_rr = max(self.target("rr_bpm", t), 1e-6)
        depth = min(1.5, rr / target_rr) if rr > 0 else 0.0
        return SecondState(k, vitals, beat_phase, resp_phase, depth, rr, e)
