"""What the NIBP tile shows (no Qt): the reading with its clock time and age, its
validity (docs/clinical.md: grey after 15 min, invalid after 1 h), the cuff pressure
while inflating, and the measuring mode.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from drivers.types import NibpReading, NibpStatus
from monitor.present.display import DASHES

STALE_AFTER_S = 15 * 60
INVALID_AFTER_S = 60 * 60


class NibpAge(enum.Enum):
    VALID = "valid"
    STALE = "stale"  # greyed
    INVALID = "invalid"  # dashes; the old reading only in small type
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class NibpTileView:
    main: str  # "122/78" or "--/--"
    map_text: str  # "(92)" or "(--)"
    when: str  # "12:41, 3 min ago"
    state: NibpAge
    cuff: str  # "Cuff 145 mmHg" while inflating, else ""
    mode: str  # "Manual", "Auto 5 min · next 12:46", "STAT"
    problem: str  # error text of a failed measurement, or ""


def age_text(age_s: float) -> str:
    if age_s < 60:
        return "just now"
    minutes = int(age_s // 60)
    if minutes < 120:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60:02d} min ago"


def clock(wall_start: datetime, t: float) -> str:
    """Local clock time (HH:MM) of data time `t`."""
    return (wall_start + timedelta(seconds=t)).astimezone().strftime("%H:%M")


def _value(v: int | None) -> str:
    return DASHES if v is None else str(v)


def mode_text(
    mode: str, interval_min: int | None, next_due_t: float | None, wall_start: datetime, t: float
) -> str:
    if mode == "stat":
        return "STAT"
    if mode == "program":
        label = "Program"
    elif mode == "interval" and interval_min:
        label = f"Auto {interval_min} min"
    else:
        return "Manual"
    if next_due_t is not None and next_due_t >= t:
        label += f" · next {clock(wall_start, next_due_t)}"
    return label


def nibp_tile_view(
    reading: NibpReading | None,
    reading_t: float | None,
    status: NibpStatus | None,
    cuff_mmhg: int | None,
    mode: str,
    interval_min: int | None,
    next_due_t: float | None,
    wall_start: datetime,
    t: float,
) -> NibpTileView:
    """The tile at data time `t` (the reading's age is measured in data time too)."""
    cuff = f"Cuff {cuff_mmhg} mmHg" if cuff_mmhg is not None else ""
    if status is NibpStatus.INFLATING and not cuff:
        cuff = "Measuring…"
    mode_line = mode_text(mode, interval_min, next_due_t, wall_start, t)
    if reading is None or reading_t is None:
        return NibpTileView(
            f"{DASHES}/{DASHES}",
            f"({DASHES})",
            "no reading yet",
            NibpAge.MISSING,
            cuff,
            mode_line,
            "",
        )
    age = max(0.0, t - reading_t)
    when = f"{clock(wall_start, reading_t)}, {age_text(age)}"
    problem = reading.error_text or (f"error {reading.error_code}" if reading.error_code else "")
    if not reading.ok:
        return NibpTileView(
            f"{DASHES}/{DASHES}",
            f"({DASHES})",
            when,
            NibpAge.MISSING,
            cuff,
            mode_line,
            problem or "measurement failed",
        )
    main = f"{_value(reading.systolic_mmhg)}/{_value(reading.diastolic_mmhg)}"
    map_text = f"({_value(reading.map_mmhg)})"
    if age >= INVALID_AFTER_S:
        return NibpTileView(
            f"{DASHES}/{DASHES}",
            f"({DASHES})",
            f"last {main} at {when} — too old",
            NibpAge.INVALID,
            cuff,
            mode_line,
            problem,
        )
    state = NibpAge.STALE if age >= STALE_AFTER_S else NibpAge.VALID
    return NibpTileView(main, map_text, when, state, cuff, mode_line, problem)
