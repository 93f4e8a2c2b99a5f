"""A sweeping waveform: fixed x axis, the newest sample overwrites the oldest, an erase bar."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from monitor.present.display import ERASE_BAR_S, sweep_layout, sweep_scale
from monitor.ringbuffer import RingBuffer
from monitor.ui import theme


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
        self.curve = self.plot(
            pen=pg.mkPen(colour, width=2), connect="finite", skipFiniteCheck=True
        )
        if fill is not None:
            self.curve.setFillLevel(0.0)
            self.curve.setBrush(pg.mkBrush(fill))
        self.row = np.full(self.width_samples, np.nan, dtype=np.float32)
        self.drawn_total = 0  # samples ever written, as of the last refresh (latency bench)

    def refresh(self) -> None:
        if self.ring.total_written == self.drawn_total and self.drawn_total:
            return  # nothing new since the last frame: the curve on screen is current
        samples, total = self.ring.snapshot(self.width_samples)
        self.drawn_total = total
        self.row, _ = sweep_layout(samples, total, self.width_samples, self.erase)
        scale = self.fixed_range if self.fixed_range != self.y_range else None
        if self.fixed_range is None:
            scale = sweep_scale(self.row, self.y_range)
        if scale is not None:
            self.y_range = scale
            self.setYRange(*scale, padding=0)
        self.curve.setData(self._x, self.row, connect="finite", skipFiniteCheck=True)

    def set_fixed_range(self, low: float, high: float) -> None:
        """A fixed scale in the wave's unit (mmHg for the capnogram)."""
        self.fixed_range = (low, high)

    def set_line_width(self, px: int) -> None:
        """Thicker traces on bigger screens, so the wave reads from as far as the numbers."""
        self.curve.setPen(pg.mkPen(self.colour, width=px))

    def finite_points(self) -> int:
        return int(np.count_nonzero(np.isfinite(self.row)))
