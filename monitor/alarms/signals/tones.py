"""IEC 60601-1-8 alarm sounds as PCM samples, made with numpy (no Qt, so tests measure them).

A pulse is a fundamental with `harmonics` overtones (the standard asks for at
least four, so the sound is locatable and heard through hearing loss), shaped
by a raised-cosine rise and fall; pulses make bursts, bursts make the pattern
of one priority.
"""

from __future__ import annotations

import numpy as np

from monitor.alarms.signals.priorities import AlarmSignals, AudioSignal, load_alarm_signals


def pulse(signal: AudioSignal, rate_hz: int, ramp_fraction: float) -> np.ndarray:
    """One pulse, float32 in [-1, 1]; harmonic k has amplitude 1/sqrt(k) (within 15 dB)."""
    n = round(signal.pulse_ms / 1000 * rate_hz)
    t = np.arange(n, dtype=np.float64) / rate_hz
    wave = np.zeros(n, dtype=np.float64)
    for k in range(1, signal.harmonics + 2):
        wave += np.sin(2 * np.pi * k * signal.fundamental_hz * t) / np.sqrt(k)
    wave /= np.max(np.abs(wave))
    ramp = max(1, round(n * ramp_fraction))
    envelope = np.ones(n)
    edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    envelope[:ramp] = edge
    envelope[-ramp:] = edge[::-1]
    return (wave * envelope).astype(np.float32)


def pattern(priority: str, signals: AlarmSignals | None = None) -> np.ndarray:
    """The whole pattern of one priority (all bursts), float32 mono at the configured rate."""
    signals = signals or load_alarm_signals()
    signal = signals.audio[priority]
    rate = signals.sample_rate_hz
    one = pulse(signal, rate, signals.ramp_fraction)
    gap = np.zeros(round(signal.spacing_ms / 1000 * rate), dtype=np.float32)
    burst_parts: list[np.ndarray] = []
    for i in range(signal.pulses):
        burst_parts.append(one)
        if i < signal.pulses - 1:
            burst_parts.append(gap)
    burst = np.concatenate(burst_parts)
    between = np.zeros(round(signal.burst_gap_ms / 1000 * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for b in range(signal.bursts):
        parts.append(burst)
        if b < signal.bursts - 1:
            parts.append(between)
    return np.concatenate(parts) * np.float32(signals.volume)


def to_pcm16(samples: np.ndarray) -> bytes:
    """Signed 16-bit little-endian mono, what the audio sink plays."""
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767).astype("<i2").tobytes()
