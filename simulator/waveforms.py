"""Waveform synthesis in numpy, phase-continuous across calls."""

from __future__ import annotations

import numpy as np


def pleth_beat_shape(phase: np.ndarray) -> np.ndarray:
    """One beat of a photoplethysmogram over phase 0..1: upstroke, peak, dicrotic notch.

    A systolic Gaussian and a smaller, later diastolic one, on a decaying runoff;
    the notch is the dip between them. Peak normalised to 1.
    """
    systolic = np.exp(-(((phase - 0.20) / 0.085) ** 2))
    diastolic = 0.42 * np.exp(-(((phase - 0.47) / 0.10) ** 2))
    runoff = 0.18 * np.exp(-((phase - 0.20) / 0.55)) * (phase > 0.20)
    return (systolic + diastolic + runoff) / 1.02


class PlethSynth:
    """Beats follow the pulse rate; amplitude follows perfusion; breathing moves the baseline."""

    def __init__(self, sample_rate_hz: float) -> None:
        self.sample_rate_hz = sample_rate_hz
        self._beat_phase = 0.0
        self._resp_phase = 0.0

    def render(self, n: int, hr_bpm: float, pi_percent: float, rr_bpm: float) -> np.ndarray:
        """`n` samples in 0..1 (0.5 = baseline)."""
        dt = 1.0 / self.sample_rate_hz
        steps = np.arange(1, n + 1)
        beat = (self._beat_phase + steps * dt * hr_bpm / 60.0) % 1.0
        resp = (self._resp_phase + steps * dt * rr_bpm / 60.0) % 1.0
        if n:
            self._beat_phase = float(beat[-1])
            self._resp_phase = float(resp[-1])
        amplitude = np.clip(0.12 + 0.06 * pi_percent, 0.05, 0.45)
        wave = 0.5 + amplitude * (pleth_beat_shape(beat) - 0.45)
        wave += 0.03 * np.sin(2 * np.pi * resp)
        return np.clip(wave, 0.0, 1.0)
