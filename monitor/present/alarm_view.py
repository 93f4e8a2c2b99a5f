"""What the alarm bar and the tiles show for the alarm engine's state (no Qt).

The engine (`pipeline.alarms.display_state(t)`) says which alarms are active and
the inactivation state; this turns that into colours, flashing, text, icons and
countdowns, and says which tile an alarm belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from monitor.alarms.signals.priorities import load_alarm_signals


class ActiveAlarmLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def priority(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def onset_t(self) -> float: ...

    @property
    def condition_active(self) -> bool: ...

    @property
    def acknowledged(self) -> bool: ...


class LimitLike(Protocol):
    @property
    def threshold(self) -> float | None: ...

    @property
    def unit(self) -> str: ...

    @property
    def priority(self) -> str: ...

    @property
    def delay_s(self) -> float | None: ...

    @property
    def enabled(self) -> bool: ...


# Physiological alarm ids by the tile that shows their value (prefix match).
TILE_ALARM_PREFIXES: dict[str, tuple[str, ...]] = {
    "spo2": ("SPO2_LOW",),
    "pr": ("PR_",),
    "nibp": ("NIBP_SYS", "NIBP_DIA", "NIBP_MAP"),
    "rr": ("RR_",),
    "pi": (),
    "etco2": ("ETCO2_", "FICO2_", "RR_"),
}

# Inactivation state -> (icon name the UI draws, words on the bar).
INACTIVATION_LABELS: dict[str, tuple[str, str]] = {
    "none": ("", ""),
    "audio_paused": ("audio_paused", "Audio paused"),
    "alarm_paused": ("alarm_paused", "Alarms paused"),
    "audio_off": ("audio_off", "Audio OFF"),
    "alarm_off": ("alarm_off", "Alarms OFF"),
}

NO_ALARM_TEXT = "No alarms"


@dataclass(frozen=True, slots=True)
class AlarmBarView:
    message: str
    priority: str | None  # None = no alarm
    colour: str | None  # the priority colour, None when no alarm
    text_colour: str | None
    lit: bool  # bright phase of the flash (always True when steady)
    acknowledged: bool
    others: int  # alarms beyond the one shown
    others_text: str
    icon: str  # "" or an INACTIVATION_LABELS icon, or "acknowledged"
    inactivation_text: str  # e.g. "Audio paused 1:42"


def countdown(seconds: float | None) -> str:
    """m:ss, rounded up so a pause never reads 0:00 while still running."""
    if seconds is None:
        return ""
    whole = max(0, int(-(-seconds // 1)))
    return f"{whole // 60}:{whole % 60:02d}"


def alarm_bar_view(
    alarms: Sequence[ActiveAlarmLike],
    inactivation: str,
    pause_remaining_s: float | None,
    now_s: float,
) -> AlarmBarView:
    """The bar for the engine's state at display time `now_s` (drives the flash phase).

    `alarms` come highest priority first, then newest (the engine's order).
    """
    icon, words = INACTIVATION_LABELS.get(inactivation, ("", inactivation))
    inactivation_text = f"{words} {countdown(pause_remaining_s)}".strip() if words else ""
    if not alarms:
        return AlarmBarView(
            NO_ALARM_TEXT, None, None, None, True, False, 0, "", icon, inactivation_text
        )
    top = alarms[0]
    signal = load_alarm_signals().visual.get(top.priority)
    colour = signal.colour if signal else None
    text_colour = signal.text_colour if signal else None
    # An acknowledged (latched) alarm stays on screen, steady: the nurse has seen it.
    lit = True if (top.acknowledged or signal is None) else signal.lit(now_s)
    others = len(alarms) - 1
    if not icon and top.acknowledged:
        icon, inactivation_text = "acknowledged", "Acknowledged"
    return AlarmBarView(
        message=top.message or top.id,
        priority=top.priority,
        colour=colour,
        text_colour=text_colour,
        lit=lit,
        acknowledged=top.acknowledged,
        others=others,
        others_text=f"+{others} more" if others else "",
        icon=icon,
        inactivation_text=inactivation_text,
    )


def tile_alarm(alarms: Iterable[ActiveAlarmLike], tile: str) -> ActiveAlarmLike | None:
    """The highest-priority physiological alarm on this tile's value, if any."""
    prefixes = TILE_ALARM_PREFIXES.get(tile, ())
    for alarm in alarms:  # engine order: highest priority first
        if alarm.kind == "physiological" and alarm.id.startswith(prefixes) and prefixes:
            return alarm
    return None


@dataclass(frozen=True, slots=True)
class TileAlarmView:
    colour: str | None  # None = not in alarm
    lit: bool


def tile_alarm_view(alarm: ActiveAlarmLike | None, now_s: float) -> TileAlarmView:
    if alarm is None:
        return TileAlarmView(None, False)
    signal = load_alarm_signals().visual.get(alarm.priority)
    if signal is None:
        return TileAlarmView(None, False)
    lit = True if alarm.acknowledged else signal.lit(now_s)
    return TileAlarmView(signal.colour, lit)


# The limits each tile prints in small type: (label, low alarm id, high alarm id).
TILE_LIMITS: dict[str, tuple[tuple[str, str | None, str | None], ...]] = {
    "spo2": (("", "SPO2_LOW", None),),
    "pr": (("", "PR_LOW", "PR_HIGH"),),
    "rr": (("", "RR_LOW", "RR_HIGH"),),
    "nibp": (
        ("Sys", "NIBP_SYS_LOW", "NIBP_SYS_HIGH"),
        ("Dia", None, "NIBP_DIA_HIGH"),
        ("MAP", "NIBP_MAP_LOW", "NIBP_MAP_HIGH"),
    ),
    "pi": (),
    "etco2": (("", "ETCO2_LOW", "ETCO2_HIGH"), ("Fi", None, "FICO2_HIGH")),
}


def _limit(limits: Mapping[str, LimitLike], alarm_id: str | None, arrow: str) -> str:
    if alarm_id is None or alarm_id not in limits:
        return ""
    setting = limits[alarm_id]
    if not setting.enabled or setting.threshold is None:
        return f"{arrow}off"
    return f"{arrow}{setting.threshold:g}"


def limits_text(tile: str, limits: Mapping[str, LimitLike]) -> str:
    """e.g. '▲120 ▼50' for PR; '' when the engine knows no limits for the tile."""
    parts = []
    for label, low_id, high_id in TILE_LIMITS.get(tile, ()):
        pieces = [p for p in (_limit(limits, high_id, "▲"), _limit(limits, low_id, "▼")) if p]
        if pieces:
            parts.append(" ".join([label, *pieces]).strip())
    return "  ".join(parts)


def alarm_list_lines(alarms: Sequence[ActiveAlarmLike], t: float) -> list[str]:
    """Every alarm on screen, one line each, for the list behind the bar's "+N more"."""
    lines = []
    for alarm in alarms:
        state = []
        if alarm.acknowledged:
            state.append("acknowledged")
        if not alarm.condition_active:
            state.append("condition ended")
        extra = f" ({', '.join(state)})" if state else ""
        lines.append(
            f"{alarm.priority.upper():6}  {alarm.message or alarm.id}  ·  "
            f"{countdown(max(0.0, t - alarm.onset_t))} ago{extra}"
        )
    return lines
