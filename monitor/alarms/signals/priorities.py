"""How each alarm priority looks and sounds, loaded from `alarm_signals.toml` beside this.

The numbers are IEC 60601-1-8's (colours, flash rates, pulse patterns); keeping
them in one data file lets a test hold each against the standard's range.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

PRIORITIES: tuple[str, ...] = ("high", "medium", "low")
PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True, slots=True)
class VisualSignal:
    colour: str
    text_colour: str
    flash_hz: float  # 0 = steady
    duty: float

    def lit(self, now_s: float) -> bool:
        """Whether a flashing indicator is in its bright phase at display time `now_s`."""
        if self.flash_hz <= 0:
            return True
        phase = math.fmod(now_s * self.flash_hz, 1.0)
        return phase < self.duty


@dataclass(frozen=True, slots=True)
class AudioSignal:
    bursts: int
    pulses: int  # per burst
    pulse_ms: float
    spacing_ms: float
    burst_gap_ms: float
    repeat_s: float  # 0 = once per onset
    fundamental_hz: float
    harmonics: int


@dataclass(frozen=True, slots=True)
class AlarmSignals:
    visual: dict[str, VisualSignal]
    audio: dict[str, AudioSignal]
    sample_rate_hz: int
    ramp_fraction: float
    volume: float


@cache
def load_alarm_signals() -> AlarmSignals:
    text = resources.files("monitor").joinpath("alarms/signals/alarm_signals.toml").read_text()
    data = tomllib.loads(text)
    audio = data["audio"]
    return AlarmSignals(
        visual={p: VisualSignal(**data["visual"][p]) for p in PRIORITIES},
        audio={p: AudioSignal(**audio[p]) for p in PRIORITIES},
        sample_rate_hz=int(audio["sample_rate_hz"]),
        ramp_fraction=float(audio["ramp_fraction"]),
        volume=float(audio["volume"]),
    )
