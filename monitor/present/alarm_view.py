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

    @property
    def ack_remaining_s(self) -> float | None:  # a timed acknowledgement's countdown
        ...


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
        # a high physiological alarm sounds again when its acknowledgement times out
        left = countdown(top.ack_remaining_s)
        icon, inactivation_text = "acknowledged", f"Acknowledged {left}".strip()
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


# The limits each tile prints in small type: (label, low alarm ids, high alarm ids), each
# side non-critical first, then critical (docs/clinical.md: every tile shows its
# critical limits too).
TILE_LIMITS: dict[str, tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]] = {
    "spo2": (("", ("SPO2_LOW", "SPO2_LOW_CRITICAL"), ()),),
    "pr": (("", ("PR_LOW", "PR_LOW_CRITICAL"), ("PR_HIGH", "PR_HIGH_CRITICAL")),),
    "rr": (("", ("RR_LOW", "RR_LOW_CRITICAL"), ("RR_HIGH",)),),
    "nibp": (
        ("Sys", ("NIBP_SYS_LOW",), ("NIBP_SYS_HIGH", "NIBP_SYS_HIGH_CRITICAL")),
        ("Dia", (), ("NIBP_DIA_HIGH", "NIBP_DIA_HIGH_CRITICAL")),
        ("MAP", ("NIBP_MAP_LOW",), ("NIBP_MAP_HIGH",)),
    ),
    "pi": (),
    "etco2": (("", ("ETCO2_LOW",), ("ETCO2_HIGH",)), ("Fi", (), ("FICO2_HIGH",))),
}
WIDE_PIECES = 3  # more limits than this on a one-value tile go on two lines (high, low)
# The alarms a tile's crossed bell stands for: its limits, and the baseline rise on NIBP.
# With capnography the breathing rate is shown on the EtCO2 tile (the RR tile is hidden).
TILE_OFF_EXTRA: dict[str, tuple[str, ...]] = {
    "nibp": ("NIBP_SYS_RISE",),
    "etco2": ("RR_HIGH", "RR_LOW"),
}


def _limit(limits: Mapping[str, LimitLike], alarm_id: str, arrow: str) -> str:
    if alarm_id not in limits:
        return ""
    setting = limits[alarm_id]
    if not setting.enabled or setting.threshold is None:
        return f"{arrow}off"
    return f"{arrow}{setting.threshold:g}"


def limits_text(tile: str, limits: Mapping[str, LimitLike]) -> str:
    """e.g. '▲120 ▲▲140' over '▼50 ▼▼40' for PR (▲▲/▼▼: critical); '' when none are known."""
    parts = []
    groups = TILE_LIMITS.get(tile, ())
    for label, low_ids, high_ids in groups:
        highs = [p for n, i in enumerate(high_ids) if (p := _limit(limits, i, "▲" * (n + 1)))]
        lows = [p for n, i in enumerate(low_ids) if (p := _limit(limits, i, "▼" * (n + 1)))]
        if len(groups) == 1 and highs and lows and len(highs) + len(lows) > WIDE_PIECES:
            parts.append(" ".join(highs) + "\n" + " ".join(lows))  # a narrow tile: two lines
        elif highs or lows:
            parts.append(" ".join([label, *highs, *lows]).strip())
    return "  ".join(parts)


def tile_alarm_ids(tile: str) -> tuple[str, ...]:
    """Every alarm whose limit a tile shows (plus the tile's other physiological alarms)."""
    ids = [i for _, low, high in TILE_LIMITS.get(tile, ()) for i in (*low, *high)]
    return (*ids, *TILE_OFF_EXTRA.get(tile, ()))


def alarms_off(limits: Mapping[str, LimitLike], ids: Iterable[str] | None = None) -> list[str]:
    """The alarms switched off (of `ids`, default all), in the order given."""
    wanted = limits if ids is None else ids
    return [i for i in wanted if i in limits and not limits[i].enabled]


def alarms_off_text(limits: Mapping[str, LimitLike]) -> str:
    """The status strip's count: '2 alarms off', '' when every alarm is on."""
    count = len(alarms_off(limits))
    if not count:
        return ""
    return f"{count} alarm{'s' if count > 1 else ''} off"


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
