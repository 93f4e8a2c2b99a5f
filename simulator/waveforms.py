"""Waveform synthesis in numpy: pleth and respiration as pure functions of phase.

The patient model hands out the phase of the heartbeat and of the breath at
every whole second (`SecondState`), and the rates inside it, so a sample's
value depends only on its time: any chunking of the stream renders the same
samples, which keeps the simulator's bytes identical at any step size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.physiology import SecondState

# Pleth beat over the beat phase (0 = foot of the upstroke): a systolic Gaussian, a
# smaller diastolic (reflected-wave) Gaussian, and the runoff of the vessels that
# falls back to the foot by the end of the beat. The dip before the diastolic wave
# is the dicrotic notch.
PLETH_SYSTOLIC = (0.16, 0.065, 1.0)  # centre, width, height
PLETH_DIASTOLIC = (0.45, 0.085, 0.28)
PLETH_RUNOFF = (0.8, 1.6, 0.13, 0.025)  # height, decay power, onset centre, onset width
RESP_INSPIRATION = 0.4  # fraction of a breath spent breathing in


def _beat_shape_raw(phase: np.ndarray) -> np.ndarray:
    out = np.zeros_like(phase, dtype=np.float64)
    for centre, width, height in (PLETH_SYSTOLIC, PLETH_DIASTOLIC):
        out += height * np.exp(-(((phase - centre) / width) ** 2))
    height, power, onset, onset_width = PLETH_RUNOFF
    out += height * (1.0 - phase) ** power / (1.0 + np.exp(-(phase - onset) / onset_width))
    return out


_PEAK = float(_beat_shape_raw(np.linspace(0.0, 1.0, 2001)).max())
TABLE_SIZE = 2048
_TABLE_PHASE = np.arange(TABLE_SIZE + 1) / TABLE_SIZE


def pleth_beat_shape(phase: np.ndarray) -> np.ndarray:
    """One beat of a photoplethysmogram over phase 0..1, peak 1: steep upstroke to the
    systolic peak, a slower fall to the dicrotic notch, the diastolic wave, runoff."""
    return _beat_shape_raw(np.asarray(phase, dtype=np.float64)) / _PEAK


def _table(shape: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return shape(_TABLE_PHASE)


def _lookup(table: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """A shape at phases 0..1 by linear interpolation in its precomputed table (fast)."""
    return np.interp(phase, _TABLE_PHASE, table)


def resp_breath_shape(phase: np.ndarray) -> np.ndarray:
    """One breath over phase 0..1 (0 = start of inspiration), 0..1: a smooth rise while
    breathing in, a longer exponential-like fall while breathing out."""
    phase = np.asarray(phase, dtype=np.float64)
    inspiring = phase < RESP_INSPIRATION
    rise = 0.5 - 0.5 * np.cos(np.pi * phase / RESP_INSPIRATION)
    x = (phase - RESP_INSPIRATION) / (1.0 - RESP_INSPIRATION)
    fall = (np.exp(-4.0 * x) - np.exp(-4.0)) / (1.0 - np.exp(-4.0))
    return np.where(inspiring, rise, fall)


_PLETH_TABLE = _table(pleth_beat_shape)
_RESP_TABLE = _table(resp_breath_shape)


@dataclass(frozen=True, slots=True)
class SamplePhases:
    """Each sample's second's model state, and its unwrapped beat and breath phases:
    values may be below 0; their integer part counts beats/breaths back from the end
    of the sample's second."""

    hr_bpm: np.ndarray
    breath_rate_bpm: np.ndarray
    pi_percent: np.ndarray
    breath_depth: np.ndarray
    beat: np.ndarray
    resp: np.ndarray


def phases_at(states: list[SecondState], seconds: np.ndarray, times: np.ndarray) -> SamplePhases:
    """Phases at `times`, each in data second `seconds[i]` (`states` holds those seconds
    in order, from `seconds[0]`); waveforms in (k-1, k] use second k's rates."""
    field = np.array(
        [
            (s.beat_phase, s.vitals.hr_bpm, s.resp_phase, s.breath_rate_bpm,
             s.vitals.pi_percent, s.breath_depth)
            for s in states
        ]
    )[seconds - states[0].k]  # fmt: skip
    back = seconds - times
    beat = field[:, 0] - back * field[:, 1] / 60.0
    resp = field[:, 2] - back * field[:, 3] / 60.0
    return SamplePhases(field[:, 1], field[:, 3], field[:, 4], field[:, 5], beat, resp)


def just_started(
    phase: np.ndarray, rate_per_min: float | np.ndarray, sample_rate_hz: float, samples: int = 1
) -> np.ndarray:
    """True where a beat/breath began within the last `samples` samples (phase just wrapped)."""
    return (phase % 1.0) < rate_per_min / 60.0 * samples / sample_rate_hz


class NoiseTable:
    """Deterministic noise by absolute sample index: a seeded table, looked up cyclically."""

    def __init__(self, seed: int, stream: int, size: int = 1 << 14) -> None:
        self._table = np.random.default_rng([seed, stream, 0xA5]).standard_normal(size)

    def at(self, index: np.ndarray) -> np.ndarray:
        return self._table[index % len(self._table)]

    def smooth(self, index: np.ndarray, span: int) -> np.ndarray:
        """Noise that changes over `span` samples (interpolated between table points)."""
        base, frac = np.divmod(index, span)
        a, b = self.at(base), self.at(base + 1)
        return a + (b - a) * (frac / span)


def pleth_samples(
    states: list[SecondState],
    seconds: np.ndarray,
    times: np.ndarray,
    noise: np.ndarray,
    motion: np.ndarray | None = None,
) -> tuple[np.ndarray, SamplePhases]:
    """Pleth in 0..1 (0.5 = baseline) at `times`, each in data second `seconds[i]`
    (`states` holds those seconds in order, from `seconds[0]`), and each sample's
    phases. Vectorised over many seconds, as the oximeter renders blocks.

    Amplitude follows perfusion, breathing moves the baseline and the amplitude a
    little; `motion` (an artifact: a hand moving) is added on top.
    """  # fmt: skip
    at = phases_at(states, seconds, times)
    amplitude = np.clip(0.03 + 0.08 * at.pi_percent, 0.02, 0.42)
    breath = np.sin(2 * np.pi * at.resp) * np.minimum(1.0, at.breath_depth)
    amplitude_mod = amplitude * (1.0 + 0.08 * breath)
    wave = 0.5 + amplitude_mod * (_lookup(_PLETH_TABLE, at.beat % 1.0) - 0.45)
    wave += 0.025 * breath + 0.004 * noise
    if motion is not None:
        wave += motion
    return np.clip(wave, 0.0, 1.0), at


def motion_artifact(times: np.ndarray, index: np.ndarray, noise: NoiseTable) -> np.ndarray:
    """A moving hand: slow irregular swings bigger than the pulse, and jerks."""
    sway = 0.16 * np.sin(2 * np.pi * 0.7 * times + 1.5 * np.sin(2 * np.pi * 0.11 * times))
    return sway + 0.12 * noise.smooth(index, 9) + 0.05 * noise.smooth(index + 7919, 3)


def resp_samples(
    states: list[SecondState], seconds: np.ndarray, times: np.ndarray, noise: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Respiration (impedance-like) in -1..1 at `times`, with each sample's breath phase and
    rate (/min); each in data second `seconds[i]`
    (`states` holds those seconds in order, from `seconds[0]`): the breath scaled by its
    depth, plus a small cardiac oscillation and noise; flat at apnea. Vectorised over
    many seconds at once, because respiration is rendered in blocks."""
    at = phases_at(states, seconds, times)
    depth = np.minimum(1.2, at.breath_depth)
    wave = depth * (2.0 * _lookup(_RESP_TABLE, at.resp % 1.0) - 1.0) * 0.8
    wave += 0.04 * np.sin(2 * np.pi * at.beat) + 0.015 * noise
    return np.clip(wave, -1.0, 1.0), at.resp, at.breath_rate_bpm
