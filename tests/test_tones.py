"""IEC 60601-1-8 alarm sounds, measured on the PCM the sink would play."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from monitor.alarms.signals.audio_policy import AlarmAudioPolicy
from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.alarms.signals.tones import pattern, pulse, to_pcm16

SIGNALS = load_alarm_signals()
RATE = SIGNALS.sample_rate_hz


def _pulses(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample indices of each pulse, from a 10 ms RMS envelope."""
    win = round(0.01 * RATE)
    envelope = np.sqrt(np.convolve(samples.astype(np.float64) ** 2, np.ones(win) / win, "same"))
    on = envelope > 0.5 * envelope.max()
    edges = np.flatnonzero(np.diff(on.astype(np.int8)))
    starts, ends = edges[::2] + 1, edges[1::2] + 1
    if on[0]:
        starts = np.concatenate(([0], starts))
    runs = zip(starts.tolist(), ends.tolist(), strict=False)
    return [(a, b) for a, b in runs if b - a > 0.02 * RATE]  # envelope ripple is not a pulse


@pytest.mark.parametrize(
    ("priority", "count", "min_ms", "max_ms"),
    [("high", 10, 75, 200), ("medium", 3, 125, 250), ("low", 2, 125, 250)],
)
def test_pattern_has_the_iec_pulse_count_and_durations(priority, count, min_ms, max_ms) -> None:
    pulses = _pulses(pattern(priority))
    assert len(pulses) == count
    for start, end in pulses:
        # half-amplitude width of a pulse with 15 % raised-cosine ramps ~ the nominal length
        assert min_ms <= (end - start) / RATE * 1000 <= max_ms


def test_high_priority_is_two_bursts_of_five() -> None:
    pulses = _pulses(pattern("high"))
    gaps = [(pulses[i + 1][0] - pulses[i][1]) / RATE for i in range(len(pulses) - 1)]
    long_gaps = [i for i, g in enumerate(gaps) if g > 0.3]
    assert long_gaps == [4]  # the only long silence is after the fifth pulse


@pytest.mark.parametrize("priority", ["high", "medium", "low"])
def test_pulse_is_150_to_1000_hz_with_at_least_four_harmonics(priority) -> None:
    signal = SIGNALS.audio[priority]
    assert 150 <= signal.fundamental_hz <= 1000
    one = pulse(signal, RATE, SIGNALS.ramp_fraction).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(one * np.hanning(len(one)), n=1 << 16))
    freqs = np.fft.rfftfreq(1 << 16, 1 / RATE)
    f0 = freqs[np.argmax(spectrum)]
    assert abs(f0 - signal.fundamental_hz) < 10
    peak = spectrum.max()

    def level_db(f: float) -> float:
        band = (freqs > f - 15) & (freqs < f + 15)
        return 20 * np.log10(spectrum[band].max() / peak)

    harmonics = [level_db(k * f0) for k in range(2, 6)]
    assert all(level > -15 for level in harmonics), harmonics  # IEC: within 15 dB
    assert level_db(1.5 * f0) < -30  # and nothing between: a clean harmonic tone


def test_pcm16_is_clipped_signed_little_endian() -> None:
    pcm = to_pcm16(np.array([0.0, 1.0, -1.0, 2.0], dtype=np.float32))
    assert np.frombuffer(pcm, "<i2").tolist() == [0, 32767, -32767, 32767]


def test_visual_signals_follow_iec_ranges() -> None:
    high, medium, low = (SIGNALS.visual[p] for p in ("high", "medium", "low"))
    assert 1.4 <= high.flash_hz <= 2.8 and 0.2 <= high.duty <= 0.6
    assert 0.4 <= medium.flash_hz <= 0.8 and 0.2 <= medium.duty <= 0.6
    assert low.flash_hz == 0 and low.lit(0.3) and low.lit(123.4)
    lit = [high.lit(i / 1000) for i in range(1000)]  # one second
    assert 0.2 <= sum(lit) / 1000 <= 0.6
    assert 2 <= sum(1 for a, b in itertools.pairwise(lit) if b and not a) + lit[0] <= 3
    assert 2.5 <= SIGNALS.audio["high"].repeat_s <= 15
    assert 2.5 <= SIGNALS.audio["medium"].repeat_s <= 30


class _Alarm:
    def __init__(self, id, priority, sounding=True):
        self.id, self.priority, self.sounding = id, priority, sounding


def test_patterns_repeat_at_their_interval_and_low_sounds_once() -> None:
    policy = AlarmAudioPolicy()
    medium = _Alarm("PR_HIGH", "medium")
    assert policy.step("medium", [medium], 0.0) == "medium"
    assert policy.step("medium", [medium], 1.0) is None
    repeat = SIGNALS.audio["medium"].repeat_s
    assert policy.step("medium", [medium], repeat + 0.01) == "medium"
    high = _Alarm("SPO2_LOW_CRITICAL", "high")
    assert policy.step("high", [high, medium], repeat + 0.5) == "high"  # at once, not queued
    assert policy.step(None, [high, medium], repeat + 1) is None  # paused: silence
    assert policy.playing is None
    assert policy.step("high", [high, medium], repeat + 2) == "high"  # sounds again after pause
    low = AlarmAudioPolicy()
    probe = _Alarm("SPO2_PROBE_OFF", "low")
    assert low.step("low", [probe], 0.0) == "low"
    assert [low.step("low", [probe], s) for s in (1.0, 20.0, 100.0)] == [None, None, None]
    assert low.step("low", [probe, _Alarm("NIBP_STALE", "low")], 101.0) == "low"
