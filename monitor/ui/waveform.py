"""A sweeping waveform: fixed x axis, the newest sample overwrites the oldest, an erase bar."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from monitor.present.display import ERASE_BAR_S, changed_segments, sweep_layout, sweep_scale
from monitor.ringbuffer import RingBuffer
from monitor.ui import theme

SEGMENT_S = 0.5  # the sweep is drawn in pieces this long (see SweepPlot)
_EMPTY = np.zeros(0, dtype=np.float32)


class SweepPlot(pg.PlotWidget):
    def __init__(
        self,
        ring: RingBuffer,
        sample_rate_hz: float,
        colour: str,
        seconds: float = 8.0,
        fill: str | None = None,
    ):
        """`fill`: a brush colour to fill under the trace (the capnogram), whose scale
        is then set by the caller (`set_fixed_range`), not by the wave's auto-gain."""
        super().__init__()
        self.ring = ring
        self.width_samples = round(sample_rate_hz * seconds)
        self.erase = max(1, round(sample_rate_hz * ERASE_BAR_S))
        self._x = np.arange(self.width_samples, dtype=np.float32) / sample_rate_hz
        self.setBackground(theme.BACKGROUND)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setMenuEnabled(False)
        for axis in ("left", "bottom"):
            self.hideAxis(axis)
        self.setXRange(0, seconds, padding=0)
        self.enableAutoRange(axis="y", enable=False)
        self.y_range: tuple[float, float] | None = None
        self.colour = colour
        self.fixed_range: tuple[float, float] | None = None
        # The sweep in pieces of SEGMENT_S, each a bare curve item (a PlotDataItem around
        # it would work out bounds and display datasets every frame, for fixed axes): a
        # frame redraws the piece or two the write head moved through, and the view
        # repaints only their strip (pyqtgraph's minimal viewport update).
        self._segment = max(1, round(sample_rate_hz * SEGMENT_S))
        self.curves: list[pg.PlotCurveItem] = []
        for _ in range(0, self.width_samples, self._segment):
            curve = pg.PlotCurveItem(pen=pg.mkPen(colour, width=2), skipFiniteCheck=True)
            if fill is not None:
                curve.setFillLevel(0.0)
                curve.setBrush(pg.mkBrush(fill))
            self.addItem(curve)
            self.curves.append(curve)
        self.row = np.full(self.width_samples, np.nan, dtype=np.float32)
        self.drawn_total = 0  # samples ever written, as of the last refresh (latency bench)

    def refresh(self) -> None:
        if self.ring.total_written == self.drawn_total and self.drawn_total:
            return  # nothing new since the last frame: the curve on screen is current
        samples, total = self.ring.snapshot(self.width_samples)
        self.drawn_total = total
        row, _ = sweep_layout(samples, total, self.width_samples, self.erase)
        scale = self.fixed_range if self.fixed_range != self.y_range else None
        if self.fixed_range is None:
            scale = sweep_scale(row, self.y_range)
        if scale is not None:
            self.y_range = scale
            self.setYRange(*scale, padding=0)
        segments = changed_segments(self.row, row, self._segment)
        self.row = row
        self._redraw(segments)

    def _redraw(self, segments: np.ndarray) -> None:
        """Each piece reaches the next one's first sample, so the trace is unbroken."""
        for k in segments.tolist():
            first = k * self._segment
            end = min(first + self._segment + 1, self.width_samples)
            y = self.row[first:end]
            if np.isnan(y).all():  # an empty piece draws nothing (its bounds would be NaN)
                self.curves[k].setData(x=_EMPTY, y=_EMPTY)
            else:
                self.curves[k].setData(
                    x=self._x[first:end], y=y, connect="finite", skipFiniteCheck=True
                )

    def set_fixed_range(self, low: float, high: float) -> None:
        """A fixed scale in the wave's unit (mmHg for the capnogram)."""
        self.fixed_range = (low, high)

    def set_line_width(self, px: int) -> None:
        """Thicker traces on bigger screens, so the wave reads from as far as the numbers."""
        pen = pg.mkPen(self.colour, width=px)
        for curve in self.curves:
            curve.setPen(pen)

    def finite_points(self) -> int:
        return int(np.count_nonzero(np.isfinite(self.row)))
