"""Pleth and respiration shapes, and the decoded pleth's beats at the pulse rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from drivers.registry import make_decoder
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario
from simulator.waveforms import pleth_beat_shape, resp_breath_shape


def test_pleth_beat_has_upstroke_peak_dicrotic_notch_and_diastolic_wave() -> None:
    phase = np.linspace(0, 1, 1001)
    shape = pleth_beat_shape(phase)
    peak = int(np.argmax(shape))
    assert shape[peak] == pytest.approx(1.0, abs=1e-3)
    maxima = signal.argrelextrema(shape, np.greater)[0]
    minima = signal.argrelextrema(shape, np.less)[0]
    assert len(maxima) == 2 and maxima[0] == peak  # systolic peak, then the diastolic wave
    notch = minima[(minima > maxima[0]) & (minima < maxima[1])]
    assert len(notch) == 1
    assert 0.3 < shape[notch[0]] < shape[maxima[1]] < 0.9
    # Upstroke is steeper than the fall: rising to the peak takes less phase than falling back.
    assert peak < 0.25 * len(phase)
    assert shape[0] < 0.05 and shape[-1] < 0.1  # beat starts and ends at the foot


def test_breath_rises_faster_than_it_falls() -> None:
    phase = np.linspace(0, 1, 1001)
    shape = resp_breath_shape(phase)
    assert np.argmax(shape) < 0.45 * len(phase)
    assert shape[0] == pytest.approx(0) and shape[-1] == pytest.approx(0, abs=1e-9)


def decoded(name: str, seconds: int):
    bedside = SimulatedBedside(load_scenario(name), seed=2)
    oximeter, resp = make_decoder("nonin2"), make_decoder("simresp")
    pleth, wave = [], []
    for t in range(1, seconds + 1):
        sent = bedside.advance(float(t))
        pleth.append(oximeter.feed(sent["oximeter"]).pleth)
        wave.append(resp.feed(sent["resp"]).wave)
    return bedside, np.concatenate(pleth), np.concatenate(wave)


@pytest.mark.parametrize(("name", "bpm"), [("tachycardia", 138), ("bradycardia", 42)])
def test_decoded_pleth_peaks_at_the_beat_rate(name: str, bpm: float) -> None:
    bedside, pleth, _ = decoded(name, 120)
    late = pleth[60 * 75 :]  # after the change has settled
    peaks, _ = signal.find_peaks(late, distance=int(75 * 60 / 200), prominence=20)
    rate = 60.0 * 75.0 / np.median(np.diff(peaks))
    assert rate == pytest.approx(bpm, abs=4)
    model_hr = np.mean([bedside.model.vitals_at(t).hr_bpm for t in range(60, 121)])
    assert rate == pytest.approx(model_hr, abs=2)


def test_pleth_amplitude_follows_perfusion() -> None:
    _, strong, _ = decoded("steady", 20)
    low = load_scenario("steady")
    low.patient["pi_percent"] = 0.4
    bedside = SimulatedBedside(low, seed=2)
    decoder = make_decoder("nonin2")
    weak = np.concatenate(
        [decoder.feed(bedside.advance(float(t))["oximeter"]).pleth for t in range(1, 21)]
    )
    assert np.ptp(weak[750:]) < 0.5 * np.ptp(strong[750:])


def test_respiration_wave_breathes_at_the_rate() -> None:
    _, _, wave = decoded("steady", 120)
    peaks, _ = signal.find_peaks(wave, distance=25 * 2, prominence=0.5)
    rate = 60.0 * 25.0 / np.median(np.diff(peaks))
    assert rate == pytest.approx(14, abs=2)
