"""What the screen shows, computed without Qt: sweep layout and tile text.

The GUI only paints these results, so every rule here is testable headless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.numerics import NumericReading, ValueState
from monitor.records import as_float

DASHES = "--"
ERASE_BAR_S = 0.25


def sweep_layout(
    samples: np.ndarray, total_written: int, width: int, erase: int
) -> tuple[np.ndarray, int]:
    """Place the newest samples on a fixed-width sweep, oldest overwritten left to right.

    `samples` are the newest ones, oldest first; `total_written` counts every sample
    ever written, so sample i has absolute index `total_written - len(samples) + i`
    and sits at column `index % width`. The `erase` columns ahead of the write head
    are blanked (NaN), which draws the erase bar. Returns the row and the head column.
    """
    row = np.full(width, np.nan, dtype=np.float32)
    take = samples[-width:]
    first_index = total_written - len(take)
    columns = (first_index + np.arange(len(take))) % width
    row[columns] = take
    head = (total_written - 1) % width if total_written else 0
    if erase > 0 and total_written:
        row[(head + 1 + np.arange(min(erase, width - 1))) % width] = np.nan
    return row, head


def changed_columns(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The columns of a sweep row that differ (NaN = no sample, equal to NaN)."""
    return np.flatnonzero((before != after) & ~(np.isnan(before) & np.isnan(after)))


def changed_segments(changed: np.ndarray, segment: int) -> np.ndarray:
    """The pieces of `segment` columns a sweep must redraw for the `changed` columns. A
    piece also draws the next one's first column (so the trace is unbroken): a change
    there is its change too."""
    pieces = np.concatenate((changed // segment, (changed[changed % segment == 0] - 1) // segment))
    return np.unique(pieces[pieces >= 0])


def changed_spans(changed: np.ndarray, width: int) -> list[tuple[int, int]]:
    """The stretches of columns (first, last) whose drawing a change alters: each run
    of changed columns with its neighbours, to which its line segments reach."""
    if changed.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(changed) > 1)
    firsts = np.concatenate(([changed[0]], changed[breaks + 1]))
    lasts = np.concatenate((changed[breaks], [changed[-1]]))
    return [
        (max(a - 1, 0), min(b + 1, width - 1))
        for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True)
    ]


def sweep_scale(
    row: np.ndarray, current: tuple[float, float] | None, margin: float = 0.08
) -> tuple[float, float] | None:
    """A new vertical range for a sweep, or None to keep the current one.

    Like a monitor's auto-gain: the scale changes only when the wave leaves it or fills
    less than half of it, so the trace does not breathe with every beat (and the plot
    does not recompute its range every frame).
    """
    finite = row[np.isfinite(row)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    span = max(hi - lo, 1e-6)
    wanted = (lo - margin * span, hi + margin * span)
    if current is None:
        return wanted
    c_lo, c_hi = current
    outside = lo < c_lo or hi > c_hi
    too_small = span < 0.5 * (c_hi - c_lo)
    return wanted if outside or too_small else None


@dataclass(frozen=True, slots=True)
class TileText:
    text: str
    state: ValueState


def reading_from_record(record: dict[str, object], key: str) -> NumericReading:
    """A value of a `numerics` record with its `<key>_state` ("valid" when none is given)."""
    value = record.get(key)
    if value is None:
        return NumericReading(None, ValueState.MISSING)
    try:
        state = ValueState(record.get(f"{key}_state", "valid"))
    except ValueError:
        state = ValueState.VALID
    return NumericReading(as_float(value), state)


def format_reading(reading: NumericReading, decimals: int = 0) -> TileText:
    """Dashes when missing; the held number (greyed by the GUI) when stale."""
    if reading.value is None or reading.state is ValueState.MISSING:
        return TileText(DASHES, ValueState.MISSING)
    return TileText(f"{reading.value:.{decimals}f}", reading.state)


RR_NOT_MONITORED = "RR not monitored"


def rr_tile(monitored: bool, reading: NumericReading) -> tuple[TileText, str]:
    """The RR tile's value and note. With no breathing source configured it says so in
    words: dashes would read as a dropout (docs/clinical.md)."""
    if not monitored:
        return TileText("", ValueState.MISSING), RR_NOT_MONITORED
    return format_reading(reading), ""


@dataclass(frozen=True, slots=True)
class FontSizes:
    """Pixel sizes for a window; the main numerics stay readable at 3 m (>= ~80 px at 768)."""

    value_px: int  # SpO2, PR, NIBP sys/dia
    secondary_px: int  # PI, RR, MAP
    label_px: int  # tile labels and units
    small_px: int  # limits, reading time, cuff
    bar_px: int  # the alarm message
    strip_px: int  # session strip and soft keys
    line_px: int  # waveform trace width


REFERENCE_SIZE = (1366, 768)


def font_sizes(width: int, height: int) -> FontSizes:
    """Scale from the 1366x768 reference by the tighter of the two axes (to 4K and beyond)."""
    scale = max(0.5, min(width / REFERENCE_SIZE[0], height / REFERENCE_SIZE[1]))

    def px(base: float) -> int:
        return max(8, round(base * scale))

    return FontSizes(
        px(96), px(56), px(20), px(16), px(30), px(17), min(3, max(2, round(2 * scale)))
    )
