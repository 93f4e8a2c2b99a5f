"""What the alarm engine shows: immutable snapshots the GUI reads from any thread."""

from __future__ import annotations

from dataclasses import dataclass

INACTIVATIONS = ("none", "audio_paused", "alarm_paused", "audio_off", "alarm_off")


@dataclass(frozen=True, slots=True)
class LimitSetting:
    """One alarm's current setting, as the limits dialog discloses it."""

    threshold: float | None  # None for technical alarms
    unit: str
    priority: str
    delay_s: float
    enabled: bool
    satseconds: float | None = None  # set when SatSeconds replaces delay_s (SPO2_LOW)
    apnea_s: float | None = None  # no breath this long raises it too (RR_LOW_CRITICAL)

    def to_json(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "unit": self.unit,
            "priority": self.priority,
            "delay_s": self.delay_s,
            "enabled": self.enabled,
            "satseconds": self.satseconds,
            "apnea_s": self.apnea_s,
        }


@dataclass(frozen=True, slots=True)
class ActiveAlarm:
    """An alarm on screen: its condition may have ended (a latched high alarm)."""

    id: str
    priority: str  # "high" | "medium" | "low"
    kind: str  # "physiological" | "technical"
    message: str
    onset_t: float
    condition_active: bool
    acknowledged: bool
    sounding: bool  # audio wanted now (after acknowledgement and inactivation)
    ack_remaining_s: float | None = None  # acknowledged high physiological: until it resounds

    @property
    def latched(self) -> bool:
        return not self.condition_active


@dataclass(frozen=True, slots=True)
class AlarmDisplayState:
    t: float
    alarms: tuple[ActiveAlarm, ...]  # highest priority first, then newest
    inactivation: str  # one of INACTIVATIONS
    pause_remaining_s: float | None  # countdown of a timed pause, else None
    audio_priority: str | None  # the tone to play now, None = silence
