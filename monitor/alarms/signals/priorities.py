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
    """One priority's burst; times between the 10 % amplitude points (IEC 60601-1-8)."""

    groups: tuple[int, ...]  # pulses per group (high: 3, 2, 3, 2)
    pulse_ms: float  # td
    spacing_ms: float  # ts, silence between the pulses of a group
    group_gaps_ms: tuple[float, ...]  # silence between groups
    repeat_s: float  # burst start to burst start; 0 = once per onset
    fundamental_hz: float
    harmonics: int

    @property
    def pulses(self) -> int:
        return sum(self.groups)

    def onsets_ms(self) -> list[float]:
        """Where each pulse starts (its 10 % point), from the start of the burst."""
        out: list[float] = []
        at = 0.0
        for g, count in enumerate(self.groups):
            if g:
                at += self.group_gaps_ms[g - 1] - self.spacing_ms
            for _ in range(count):
                out.append(at)
                at += self.pulse_ms + self.spacing_ms
        return out


def _audio(raw: dict) -> AudioSignal:
    groups = tuple(int(n) for n in raw["groups"])
    gaps = tuple(float(g) for g in raw["group_gaps_ms"])
    if len(gaps) != len(groups) - 1:
        raise ValueError("alarm_signals.toml: one group gap between each two groups")
    return AudioSignal(
        groups=groups,
        pulse_ms=float(raw["pulse_ms"]),
        spacing_ms=float(raw["spacing_ms"]),
        group_gaps_ms=gaps,
        repeat_s=float(raw["repeat_s"]),
        fundamental_hz=float(raw["fundamental_hz"]),
        harmonics=int(raw["harmonics"]),
    )


@dataclass(frozen=True, slots=True)
class AlarmSignals:
    visual: dict[str, VisualSignal]
    audio: dict[str, AudioSignal]
    sample_rate_hz: int
    rise_fraction: float  # 10 % -> 90 % rise (and fall) as a fraction of td
    volume: float


@cache
def load_alarm_signals() -> AlarmSignals:
    text = resources.files("monitor").joinpath("alarms/signals/alarm_signals.toml").read_text()
    data = tomllib.loads(text)
    audio = data["audio"]
    return AlarmSignals(
        visual={p: VisualSignal(**data["visual"][p]) for p in PRIORITIES},
        audio={p: _audio(audio[p]) for p in PRIORITIES},
        sample_rate_hz=int(audio["sample_rate_hz"]),
        rise_fraction=float(audio["rise_fraction"]),
        volume=float(audio["volume"]),
    )
