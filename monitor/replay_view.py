"""The replay timeline (no Qt): where the recorded alarms and events sit, and the
speeds offered. Marks come from the session file's decoded layer, so the whole
session is marked before the replay reaches it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.alarm_signals import load_alarm_signals
from monitor.session_view import running_time

# Replay speeds offered (None = as fast as the machine goes).
REPLAY_SPEEDS: tuple[float | None, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, None)
EVENT_COLOUR = "#e8e8e8"


@dataclass(frozen=True, slots=True)
class TimelineMark:
    t: float
    colour: str
    label: str
    kind: str  # "alarm" | "event"


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}x"


def timeline_marks(
    alarms: Iterable[Mapping[str, object]], events: Iterable[Mapping[str, object]]
) -> list[TimelineMark]:
    """An alarm onset in its priority colour; a session event (not link chatter) in white."""
    colours = {p: v.colour for p, v in load_alarm_signals().visual.items()}
    marks = [
        TimelineMark(
            float(a["t"]),
            colours.get(str(a.get("priority")), EVENT_COLOUR),  # type: ignore[arg-type]
            str(a.get("id", "")),
            "alarm",
        )
        for a in alarms
        if a.get("state") == "onset"
    ]
    marks += [
        TimelineMark(float(e["t"]), EVENT_COLOUR, str(e.get("kind", "")), "event")  # type: ignore[arg-type]
        for e in events
        if e.get("kind") != "link"
    ]
    return sorted(marks, key=lambda m: m.t)


def position_text(t: float, duration_s: float) -> str:
    return f"{running_time(t)} / {running_time(duration_s)}"
