"""IEC 60601-1-8 alarm sounds as PCM samples, made with numpy (no Qt, so tests measure them).

A pulse is a fundamental with `harmonics` overtones (the standard asks for at
least four, so the sound is locatable and heard through hearing loss), shaped
by a raised-cosine rise and fall; the pulses of one priority, placed by
`AudioSignal.onsets_ms`, make its burst. `cycle_pcm` is the one synthesis both
the speaker (monitor/ui/sound.py) and `vitalmon alarm-sound` use, so the WAV a
QA engineer measures is what the patient's nurse hears.
"""

from __future__ import annotations

import math

import numpy as np

from monitor.alarms.signals.priorities import AlarmSignals, AudioSignal, load_alarm_signals

# A raised-cosine ramp 0 -> 1 crosses 10 % and 90 % this fraction of its length apart.
_RISE_SPAN = (math.acos(-0.8) - math.acos(0.8)) / math.pi
# ... and crosses 10 % this fraction of its length after it begins.
_TEN_PERCENT_AT = math.acos(0.8) / math.pi


def _ramp_ms(signal: AudioSignal, rise_fraction: float) -> float:
    """Length of the whole ramp whose 10 % -> 90 % rise is `rise_fraction` of td."""
    return rise_fraction * signal.pulse_ms / _RISE_SPAN


def pulse(signal: AudioSignal, rate_hz: int, rise_fraction: float) -> np.ndarray:
    """One pulse, float32 in [-1, 1], td long between its 10 % points; harmonic k has
    amplitude 1/sqrt(k) (all within 15 dB of the fundamental)."""
    ramp_ms = _ramp_ms(signal, rise_fraction)
    total_ms = signal.pulse_ms + 2 * _TEN_PERCENT_AT * ramp_ms
    n = round(total_ms / 1000 * rate_hz)
    t = np.arange(n, dtype=np.float64) / rate_hz
    wave = np.zeros(n, dtype=np.float64)
    for k in range(1, signal.harmonics + 2):
        wave += np.sin(2 * np.pi * k * signal.fundamental_hz * t) / np.sqrt(k)
    wave /= np.max(np.abs(wave))
    ramp = max(1, round(ramp_ms / 1000 * rate_hz))
    envelope = np.ones(n)
    edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    envelope[:ramp] = edge
    envelope[-ramp:] = edge[::-1]
    return (wave * envelope).astype(np.float32)


def burst_cycle(priority: str, signals: AlarmSignals | None = None) -> np.ndarray:
    """One burst of `priority` and the silence until it repeats (none for a low
    priority that sounds once), float32 mono at the configured rate."""
    signals = signals or load_alarm_signals()
    signal = signals.audio[priority]
    rate = signals.sample_rate_hz
    one = pulse(signal, rate, signals.rise_fraction)
    onsets = [round(ms / 1000 * rate) for ms in signal.onsets_ms()]
    burst_end = onsets[-1] + len(one)
    length = max(burst_end, round(signal.repeat_s * rate))
    out = np.zeros(length, dtype=np.float32)
    for start in onsets:  # every pulse shifted alike by its lead-in below 10 %
        out[start : start + len(one)] += one
    return out * np.float32(signals.volume)


def cycle_pcm(priority: str, signals: AlarmSignals | None = None) -> bytes:
    """What the speaker plays for one cycle of `priority`, as 16-bit PCM."""
    return to_pcm16(burst_cycle(priority, signals))


def to_pcm16(samples: np.ndarray) -> bytes:
    """Signed 16-bit little-endian mono, what the audio sink plays."""
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767).astype("<i2").tobytes()
