"""Waveform synthesis in numpy: pleth and respiration as pure functions of phase.

The patient model hands out the phase of the heartbeat and of the breath at
every whole second (`SecondState`), and the rates inside it, so a sample's
value depends only on its time: any chunking of the stream renders the same
samples, which keeps the simulator's bytes identical at any step size.
"""

from __future__ import annotations

import numpy as np

from simulator.physiology import SecondState

# Pleth beat as three Gaussians over the beat phase (0 = foot of the upstroke):
# (centre, width, height) of the systolic wave, the late-systolic shoulder and
# the diastolic (reflected) wave. The dip between the last two is the dicrotic notch.
PLETH_COMPONENTS = ((0.17, 0.075, 1.0), (0.30, 0.07, 0.34), (0.52, 0.10, 0.42))
PLETH_PEAK_PHASE = 0.17
RESP_INSPIRATION = 0.4  # fraction of a breath spent breathing in


def _beat_shape_raw(phase: np.ndarray) -> np.ndarray:
    out = np.zeros_like(phase, dtype=np.float64)
    for centre, width, height in PLETH_COMPONENTS:
        out += height * np.exp(-(((phase - centre) / width) ** 2))
    return out


_PEAK = float(_beat_shape_raw(np.linspace(0.0, 1.0, 2001)).max())


def pleth_beat_shape(phase: np.ndarray) -> np.ndarray:
    """One beat of a photoplethysmogram over phase 0..1, peak 1: steep upstroke to the
    systolic peak, a slower fall to the dicrotic notch, the diastolic wave, runoff."""
    return _beat_shape_raw(np.asarray(phase, dtype=np.float64)) / _PEAK


def resp_breath_shape(phase: np.ndarray) -> np.ndarray:
    """One breath over phase 0..1 (0 = start of inspiration), 0..1: a smooth rise while
    breathing in, a longer exponential-like fall while breathing out."""
    phase = np.asarray(phase, dtype=np.float64)
    inspiring = phase < RESP_INSPIRATION
    rise = 0.5 - 0.5 * np.cos(np.pi * phase / RESP_INSPIRATION)
    x = (phase - RESP_INSPIRATION) / (1.0 - RESP_INSPIRATION)
    fall = (np.exp(-4.0 * x) - np.exp(-4.0)) / (1.0 - np.exp(-4.0))
    return np.where(inspiring, rise, fall)


def phases_in_second(state: SecondState, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(beat, resp) phases at `times` inside (k-1, k] of `state`'s second k, unwrapped:
    values may be below 0; their integer part counts beats/breaths back from time k."""
    back = state.k - times
    beat = state.beat_phase - back * state.vitals.hr_bpm / 60.0
    resp = state.resp_phase - back * state.breath_rate_bpm / 60.0
    return beat, resp


def just_started(phase: np.ndarray, rate_per_min: float, sample_rate_hz: float, samples: int = 1):
    """True where a beat/breath began within the last `samples` samples (phase just wrapped)."""
    return (phase % 1.0) < rate_per_min / 60.0 * samples / sample_rate_hz


class NoiseTable:
    """Deterministic noise by absolute sample index: a seeded table, looked up cyclically."""

    def __init__(self, seed: int, stream: int, size: int = 1 << 14) -> None:
        self._table = np.random.default_rng([seed, stream, 0xA5]).standard_normal(size)

    def at(self, index: np.ndarray) -> np.ndarray:
        return self._table[index % len(self._table)]


def pleth_samples(
    state: SecondState, times: np.ndarray, noise: np.ndarray, artifact: bool = False
) -> np.ndarray:
    """Pleth in 0..1 (0.5 = baseline) at `times` in second `state.k`.

    Amplitude follows perfusion, breathing moves the baseline and the amplitude a
    little; an artifact (motion) adds large slow swings and spikes.
    """
    beat, resp = phases_in_second(state, times)
    pi = state.vitals.pi_percent
    amplitude = float(np.clip(0.10 + 0.07 * pi, 0.03, 0.42))
    breath = np.sin(2 * np.pi * resp) * min(1.0, state.breath_depth)
    amplitude_mod = amplitude * (1.0 + 0.08 * breath)
    wave = 0.5 + amplitude_mod * (pleth_beat_shape(beat % 1.0) - 0.45)
    wave += 0.025 * breath + 0.004 * noise
    if artifact:
        wave += 0.22 * np.sin(2 * np.pi * 0.9 * times) + 0.12 * noise
    return np.clip(wave, 0.0, 1.0)


def resp_samples(state: SecondState, times: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Respiration (impedance-like) in -1..1 at `times` in second `state.k`: the breath,
    scaled by its depth, plus a small cardiac oscillation and noise; flat at apnea."""
    beat, resp = phases_in_second(state, times)
    depth = min(1.2, state.breath_depth)
    wave = depth * (2.0 * resp_breath_shape(resp % 1.0) - 1.0) * 0.8
    wave += 0.04 * np.sin(2 * np.pi * beat) + 0.015 * noise
    return np.clip(wave, -1.0, 1.0)
