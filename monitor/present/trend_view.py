"""What the trend window plots (no Qt): which numerics, their limit lines, event labels,
and the zoom/pan arithmetic, so the rules are tested without a window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.alarms.state import LimitSetting


@dataclass(frozen=True, slots=True)
class TrendPlot:
    key: str  # "spo2", "pr", "nibp", "pi", "rr", "etco2"
    title: str
    series: tuple[tuple[str, str], ...]  # (column, colour)
    y_range: tuple[float, float]
    points: bool = False  # NIBP: one point per reading


TREND_PLOTS: tuple[TrendPlot, ...] = (
    TrendPlot("spo2", "SpO₂ %", (("spo2", "#00e5ff"),), (70, 100)),
    TrendPlot("pr", "PR /min", (("pr", "#00e676"),), (30, 160)),
    TrendPlot(
        "nibp",
        "NIBP mmHg",
        (("sys", "#ff6e6e"), ("dia", "#ff9e80"), ("map", "#ffffff")),
        (40, 200),
        points=True,
    ),
    TrendPlot("rr", "RR /min", (("rr", "#ffd740"),), (0, 40)),
    TrendPlot("etco2", "EtCO₂ mmHg", (("etco2", "#fff59d"), ("fico2", "#bcaaa4")), (0, 80)),
    TrendPlot("pi", "PI %", (("pi", "#80d8ff"),), (0, 10)),
)

# Alarm id prefix -> the trend plot its limit is drawn on.
LIMIT_PLOTS: dict[str, str] = {
    "SPO2_": "spo2",
    "PR_": "pr",
    "NIBP_": "nibp",
    "RR_": "rr",
    "ETCO2_": "etco2",
    "FICO2_": "etco2",
}


def limit_lines(limits: Mapping[str, LimitSetting]) -> list[tuple[str, float, str]]:
    """(plot, value, colour of the priority) for each enabled threshold limit."""
    colours = {p: v.colour for p, v in load_alarm_signals().visual.items()}
    out = []
    for alarm_id, setting in sorted(limits.items()):
        threshold = setting.threshold
        if threshold is None or not setting.enabled:
            continue
        if "RISE" in alarm_id:  # baseline-relative (%), not an absolute line
            continue
        plot = next((p for prefix, p in LIMIT_PLOTS.items() if alarm_id.startswith(prefix)), None)
        if plot is None:
            continue
        colour = colours.get(setting.priority, "#888888")
        out.append((plot, float(threshold), colour))
    return out


# Events drawn as markers: what the nurse marked and the phases (not device chatter).
MARKED_EVENTS = frozenset(
    {
        "infusion_start",
        "infusion_stop",
        "rate_change",
        "bolus",
        "adverse_effect",
        "rescue_drug",
        "note",
        "aldrete",
        "sign_off",
        "phase",
    }
)


def marked_events(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in events if e.get("kind") in MARKED_EVENTS]


def label_row(index: int, rows: int = 4) -> float:
    """Where along the marker line its label sits (0..1): successive labels step down so
    markers close in time do not print over each other."""
    return 0.95 - 0.2 * (index % rows)


def event_label(event: Mapping[str, object]) -> str:
    kind = str(event.get("kind", "event"))
    words = kind.replace("_", " ")
    for key in ("effect", "dose_mg_per_kg_h", "dose_mg", "drug", "score", "text", "phase"):
        if key in event and event[key] not in (None, ""):
            words += f": {event[key]}"
            break
    return words


def visible_range(
    current: tuple[float, float],
    session: tuple[float, float],
    zoom: float = 1.0,
    shift: float = 0.0,
    min_width_s: float = 60.0,
) -> tuple[float, float]:
    """Zoom about the centre by `zoom` (0.5 = in), shift by `shift` widths, kept inside the
    session (data time) and never narrower than `min_width_s`."""
    t0, t1 = current
    start, end = session
    width = max(min_width_s, (t1 - t0) * zoom)
    width = min(width, max(min_width_s, end - start))
    centre = (t0 + t1) / 2 + shift * (t1 - t0)
    lo = centre - width / 2
    lo = min(max(lo, start), max(start, end - width))
    return lo, lo + width
