"""The replay timeline (no Qt): how the recorded alarms and events are marked, and the
speeds offered. The marks themselves come from the recording (ReplayController.
timeline_marks, read from the session file's decoded layer), so the whole session is
marked before the replay reaches it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.present.session_view import running_time

# Replay speeds offered (None = as fast as the machine goes).
REPLAY_SPEEDS: tuple[float | None, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, None)
EVENT_COLOUR = "#e8e8e8"


class MarkLike(Protocol):
    """monitor.recording.replay.TimelineMark: an alarm onset or an event of a recording."""

    @property
    def t(self) -> float: ...

    @property
    def kind(self) -> str: ...  # "alarm" | "event"

    @property
    def label(self) -> str: ...

    @property
    def priority(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class MarkView:
    t: float
    colour: str
    label: str
    kind: str


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}x"


def mark_views(marks: Iterable[MarkLike]) -> list[MarkView]:
    """An alarm onset in its priority's colour; a session event in white."""
    colours = {p: v.colour for p, v in load_alarm_signals().visual.items()}
    return [
        MarkView(
            m.t,
            colours.get(m.priority or "", EVENT_COLOUR) if m.kind == "alarm" else EVENT_COLOUR,
            m.label,
            m.kind,
        )
        for m in marks
    ]


def position_text(t: float, duration_s: float) -> str:
    return f"{running_time(t)} / {running_time(duration_s)}"
