"""When the alarm sound plays: which priority's pattern, and when it repeats.

The alarm engine decides which priority should sound (`audio_priority`, with
acknowledgement, pauses and break-through applied); this only turns that into
pattern starts and repeats at display (wall) time. Kept free of Qt so
the rules are tested without a sound device.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from monitor.alarms.signals.priorities import PRIORITY_RANK, AlarmSignals, load_alarm_signals


class AlarmLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def priority(self) -> str: ...

    @property
    def sounding(self) -> bool:
        """The engine's call: audio wanted now (acknowledgement, pauses applied)."""


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

    def step(self, priority: str | None, alarms: Iterable[AlarmLike], now_s: float) -> str | None:
        """The priority whose pattern should start at `now_s`, or None (keep as is).

        `priority` is the engine's `audio_priority` (None = silence): the engine decides
        what sounds; this decides when each pattern starts and repeats.
        """
        low_sounding = {a.id for a in alarms if a.priority == "low" and a.sounding}
        self._low_sounded &= low_sounding  # a low alarm that stopped may sound at its next onset
        if priority not in PRIORITY_RANK:
            self._playing = None
            return None
        if priority == "low":
            fresh = low_sounding - self._low_sounded
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
