"""`vitalmon alarm-sound`: the WAV is measured as QA would, against IEC 60601-1-8
(docs/clinical.md "Alarm sounds"), and it is the very PCM the speaker is given."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.ui.sound import AlarmSound, SilentSink
from tests.conftest import run_vitalmon

SIGNALS = load_alarm_signals()


def _wav(tmp_path: Path, priority: str) -> tuple[np.ndarray, int, bytes]:
    out = tmp_path / f"{priority}.wav"
    done = run_vitalmon("alarm-sound", priority, "--out", str(out))
    assert done.returncode == 0, done.stderr
    with wave.open(str(out), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    return np.frombuffer(raw, "<i2").astype(np.float64) / 32767, rate, raw


def _envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """Peak amplitude over one period of the lowest tone (a running maximum)."""
    win = int(rate / 400) + 1
    padded = np.pad(np.abs(samples), (win // 2, win - win // 2 - 1))
    return np.lib.stride_tricks.sliding_window_view(padded, win).max(axis=1)


def _pulses(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(start, end) in ms of each pulse, between its 10 % amplitude points."""
    env = _envelope(samples, rate)
    on = env > 0.1 * env.max()
    assert not on[0] and not on[-1]  # the cycle begins and ends in silence
    edges = np.flatnonzero(np.diff(on.astype(np.int8)))
    starts, ends = edges[::2] + 1, edges[1::2] + 1
    return [(a / rate * 1000, b / rate * 1000) for a, b in zip(starts, ends, strict=False)]


def _rise_ms(samples: np.ndarray, rate: int, start_ms: float) -> float:
    env = _envelope(samples, rate)
    peak = env.max()
    i = int(start_ms / 1000 * rate)
    i10 = i + int(np.argmax(env[i:] >= 0.1 * peak))
    i90 = i + int(np.argmax(env[i:] >= 0.9 * peak))
    return (i90 - i10) / rate * 1000


def test_high_priority_is_the_3_plus_2_rhythm(tmp_path) -> None:
    samples, rate, _ = _wav(tmp_path, "high")
    pulses = _pulses(samples, rate)
    assert len(pulses) == 10
    td = [b - a for a, b in pulses]
    gaps = [pulses[i + 1][0] - pulses[i][1] for i in range(9)]
    assert all(75 <= d <= 200 for d in td), td
    ts = [gaps[i] for i in (0, 1, 3, 5, 6, 8)]  # within the groups x x x / x x
    assert all(50 <= g <= 125 for g in ts), gaps
    mean_td, mean_ts = float(np.mean(td)), float(np.mean(ts))
    for i in (2, 7):  # 3rd-4th and 8th-9th: one pulse left out, 2 ts + td
        assert abs(gaps[i] - (2 * mean_ts + mean_td)) < 5, gaps
    assert 350 <= gaps[4] <= 1300, gaps  # 5th-6th
    assert gaps[4] > gaps[2] + 50  # the long pause is heard as the split of the 10
    cycle_s = len(samples) / rate
    assert 2.5 <= cycle_s <= 15  # the burst repeats after one cycle
    assert cycle_s == pytest.approx(SIGNALS.audio["high"].repeat_s, abs=0.01)


@pytest.mark.parametrize(("priority", "count"), [("medium", 3), ("low", 2)])
def test_medium_and_low_pulses(tmp_path, priority, count) -> None:
    samples, rate, _ = _wav(tmp_path, priority)
    pulses = _pulses(samples, rate)
    assert len(pulses) == count
    assert all(125 <= b - a <= 250 for a, b in pulses), pulses
    gaps = [pulses[i + 1][0] - pulses[i][1] for i in range(count - 1)]
    assert all(125 <= g <= 250 for g in gaps), gaps
    cycle_s = len(samples) / rate
    if priority == "medium":
        assert 2.5 <= cycle_s <= 30
    else:
        assert cycle_s < 1  # once per onset: the burst alone


@pytest.mark.parametrize("priority", ["high", "medium", "low"])
def test_rise_and_spectrum(tmp_path, priority) -> None:
    samples, rate, _ = _wav(tmp_path, priority)
    (start, end), *_ = _pulses(samples, rate)
    rise = _rise_ms(samples, rate, start - 5)
    assert 0.10 * (end - start) - 1.5 <= rise <= 0.20 * (end - start) + 1.5, (rise, end - start)
    one = samples[int(start / 1000 * rate) : int(end / 1000 * rate)]
    n = 1 << 16
    spectrum = np.abs(np.fft.rfft(one * np.hanning(len(one)), n=n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    f0 = freqs[np.argmax(spectrum)]
    assert 150 <= f0 <= 1000
    peak = spectrum.max()

    def level_db(f: float) -> float:
        band = (freqs > f - 15) & (freqs < f + 15)
        return 20 * np.log10(spectrum[band].max() / peak)

    in_band = [k * f0 for k in range(2, 20) if 300 <= k * f0 <= 4000 and level_db(k * f0) > -15]
    assert len(in_band) >= 4, in_band
    assert level_db(1.5 * f0) < -30  # a clean harmonic tone


@pytest.mark.parametrize("priority", ["high", "medium", "low"])
def test_wav_is_what_the_speaker_plays(tmp_path, priority) -> None:
    _, _, raw = _wav(tmp_path, priority)
    sink = SilentSink()
    sound = AlarmSound(sink, lambda *a, **k: None)

    class Alarm:
        id, sounding = "X", True

    Alarm.priority = priority
    assert sound.step(priority, [Alarm()], 0.0) == priority
    assert sink.last_pcm == raw


def test_alarm_sound_refuses_to_overwrite(tmp_path) -> None:
    out = tmp_path / "x.wav"
    out.write_bytes(b"keep")
    done = run_vitalmon("alarm-sound", "high", "--out", str(out))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep"
