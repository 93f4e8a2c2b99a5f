"""When the alarm sound plays: which priority's pattern, and when it repeats.

The alarm engine decides what is active and whether audio is paused; this only
turns its display state into sound at display (wall) time. Kept free of Qt so
the rules are tested without a sound device.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from monitor.alarm_signals import PRIORITY_RANK, AlarmSignals, load_alarm_signals

SILENCING_STATES = frozenset({"audio_paused", "alarm_paused", "audio_off", "alarm_off"})


class AlarmLike(Protocol):
    id: str
    priority: str
    condition_active: bool
    acknowledged: bool


def sounding_priority(alarms: Iterable[AlarmLike], inactivation: str) -> str | None:
    """The highest priority among alarms that should sound now, or None.

    Acknowledged alarms and those only latched on screen (condition gone) are silent;
    any audio-inactivation state silences everything (the engine lifts it for a
    break-through of a higher priority).
    """
    if inactivation in SILENCING_STATES:
        return None
    best: str | None = None
    for alarm in alarms:
        if alarm.acknowledged or not alarm.condition_active:
            continue
        if best is None or PRIORITY_RANK.get(alarm.priority, 0) > PRIORITY_RANK[best]:
            best = alarm.priority if alarm.priority in PRIORITY_RANK else best
    return best


@dataclass
class AlarmAudioPolicy:
    """Feed it the alarms every display frame; it says when to start a pattern."""

    signals: AlarmSignals = field(default_factory=load_alarm_signals)
    _playing: str | None = None
    _started_s: float = float("-inf")
    _low_sounded: set[str] = field(default_factory=set)

    @property
    def playing(self) -> str | None:
        """The priority whose pattern is sounding (and repeating), None when silent."""
        return self._playing

    def step(self, alarms: Iterable[AlarmLike], inactivation: str, now_s: float) -> str | None:
        """The priority whose pattern should start at `now_s`, or None (keep as is)."""
        alarms = list(alarms)
        priority = sounding_priority(alarms, inactivation)
        active_low = {a.id for a in alarms if a.priority == "low" and a.condition_active}
        self._low_sounded &= active_low  # a low alarm that ended may sound again next onset
        if priority is None:
            self._playing = None
            return None
        if priority == "low":
            fresh = {
                a.id
                for a in alarms
                if a.priority == "low" and a.condition_active and not a.acknowledged
            } - self._low_sounded
            if self._playing == "low" and not fresh:
                return None
            if not fresh and self.signals.audio["low"].repeat_s <= 0:
                return None
            self._low_sounded |= fresh
        elif priority == self._playing:
            repeat = self.signals.audio[priority].repeat_s
            if repeat <= 0 or now_s - self._started_s < repeat:
                return None
        self._playing = priority
        self._started_s = now_s
        return priority
