"""IEC 60601-1-8 alarm sounds, measured on the PCM the sink would play."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from monitor.alarms.signals.audio_policy import AlarmAudioPolicy
from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.alarms.signals.tones import burst_cycle, pulse, to_pcm16

SIGNALS = load_alarm_signals()
RATE = SIGNALS.sample_rate_hz


@pytest.mark.parametrize("priority", ["high", "medium", "low"])
def test_the_toml_numbers_are_within_the_standard(priority) -> None:
    """The data file against IEC 60601-1-8 tables 3 and 4 (the WAV itself is measured in
    tests/test_alarm_sound.py)."""
    signal = SIGNALS.audio[priority]
    td_range, ts_range = {"high": ((75, 200), (50, 125))}.get(priority, ((125, 250), (125, 250)))
    assert td_range[0] <= signal.pulse_ms <= td_range[1]
    assert ts_range[0] <= signal.spacing_ms <= ts_range[1]
    assert 0.10 <= SIGNALS.rise_fraction <= 0.20
    assert 150 <= signal.fundamental_hz <= 1000
    in_band = [k * signal.fundamental_hz for k in range(2, signal.harmonics + 2)]
    assert sum(300 <= f <= 4000 for f in in_band) >= 4
    if priority == "high":
        assert signal.groups == (3, 2, 3, 2)
        skip = 2 * signal.spacing_ms + signal.pulse_ms
        assert signal.group_gaps_ms[0] == signal.group_gaps_ms[2] == skip
        assert 350 <= signal.group_gaps_ms[1] <= 1300
    else:
        assert signal.groups == ((3,) if priority == "medium" else (2,))


def test_onsets_follow_the_rhythm() -> None:
    high = SIGNALS.audio["high"]
    onsets = high.onsets_ms()
    step = high.pulse_ms + high.spacing_ms
    assert onsets[:3] == [0, step, 2 * step]
    assert onsets[3] - onsets[2] == high.pulse_ms + high.group_gaps_ms[0]


def test_a_pulse_has_its_harmonics() -> None:
    signal = SIGNALS.audio["high"]
    one = pulse(signal, RATE, SIGNALS.rise_fraction).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(one * np.hanning(len(one)), n=1 << 16))
    freqs = np.fft.rfftfreq(1 << 16, 1 / RATE)
    assert abs(freqs[np.argmax(spectrum)] - signal.fundamental_hz) < 10


def test_one_cycle_lasts_until_the_burst_repeats() -> None:
    for priority in ("high", "medium"):
        samples = burst_cycle(priority)
        assert len(samples) == round(SIGNALS.audio[priority].repeat_s * RATE)
    assert len(burst_cycle("low")) < RATE  # once per onset: no silence after it


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
