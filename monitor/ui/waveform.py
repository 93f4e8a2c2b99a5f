"""A sweeping waveform: fixed x axis, the newest sample overwrites the oldest, an erase bar."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QBrush, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from monitor.present.display import (
    ERASE_BAR_S,
    changed_columns,
    changed_segments,
    changed_spans,
    sweep_layout,
    sweep_scale,
)
from monitor.ringbuffer import RingBuffer
from monitor.ui import theme

SEGMENT_S = 0.5  # the trace is kept as paths this long (see SweepTrace)


class SweepTrace(pg.GraphicsObject):
    """The trace of a sweep, kept as one painter path per piece of SEGMENT_S.

    A frame rebuilds the path of the piece or two the write head moved through and
    asks for a repaint of just the columns that changed; a repaint draws the pieces
    that strip crosses. (A pyqtgraph curve redrew the whole sweep, and worked out its
    bounds and screen vectors again, at every frame: ~1 ms a sweep alone, now ~0.5.)
    Each piece reaches the next one's first sample, so the trace is unbroken."""

    def __init__(self, rate_hz: float, width: int, pen: QPen, fill: str | None) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._x = np.arange(width, dtype=np.float64) / rate_hz
        self._segment = max(1, round(rate_hz * SEGMENT_S))
        self._rate = rate_hz
        self.row = np.full(width, np.nan, dtype=np.float32)
        pieces = -(-width // self._segment)
        self.paths: list[QPainterPath | None] = [None] * pieces  # None: nothing to draw
        self._fills: list[QPainterPath | None] = [None] * pieces
        self._brush = QBrush(pg.mkColor(fill)) if fill is not None else None
        self._pen = pen
        self._bounds = QRectF(0.0, 0.0, width / rate_hz, 1.0)
        self._margin = 2 / self._rate  # how far the pen reaches beyond a sample (show_row)

    def set_pen(self, pen: QPen) -> None:
        self._pen = pen
        self.update()

    def show_row(self, row: np.ndarray, y_range: tuple[float, float] | None) -> None:
        """The new row: the pieces it changed are built again, and only the stretches
        of columns it changed are repainted."""
        changed = changed_columns(self.row, row)
        self.row = row
        self._fit(y_range)
        for k in changed_segments(changed, self._segment).tolist():
            self._build(k)
        # The pen reaches beyond its samples by half its width (and a pixel for the
        # rounding): so far either side a stretch is repainted and the pieces drawn.
        pixel = self.pixelWidth()
        self._margin = (self._pen.widthF() / 2 + 1) * pixel if pixel > 0 else 2 / self._rate
        top, height = self._bounds.top(), self._bounds.height()
        for first, last in changed_spans(changed, len(self._x)):
            left = self._x[first] - self._margin
            self.update(QRectF(left, top, self._x[last] + self._margin - left, height))

    def _fit(self, y_range: tuple[float, float] | None) -> None:
        """Bounds that hold the view's range (the whole item is repainted when they
        change), widened only for samples outside it and for the fill's floor."""
        finite = self.row[np.isfinite(self.row)]
        if y_range is None and not finite.size:
            return
        low, high = y_range if y_range is not None else (np.inf, -np.inf)
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
        if self._brush is not None:
            low = min(low, 0.0)
        bounds = QRectF(self._bounds.left(), low, self._bounds.width(), max(high - low, 1e-6))
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds

    def _build(self, k: int) -> None:
        first = k * self._segment
        end = min(first + self._segment + 1, len(self._x))
        x, y = self._x[first:end], self.row[first:end]
        finite = np.isfinite(y)
        if not finite.any():
            self.paths[k] = self._fills[k] = None
            return
        self.paths[k] = pg.arrayToQPath(x, y, connect="finite")
        if self._brush is not None:
            self._fills[k] = _fill_path(x, y, finite)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        # The pieces whose pen reaches the strip; piece k draws samples k * segment to
        # (k + 1) * segment.
        exposed = option.exposedRect
        low = math.floor((exposed.left() - self._margin) * self._rate)
        high = math.ceil((exposed.right() + self._margin) * self._rate)
        first = max(0, (low - 1) // self._segment)
        last = min(len(self.paths) - 1, high // self._segment)
        painter.setPen(self._pen)
        for k in range(first, last + 1):
            fill = self._fills[k]
            if fill is not None and self._brush is not None:
                painter.fillPath(fill, self._brush)
            path = self.paths[k]
            if path is not None:
                painter.drawPath(path)


def _fill_path(x: np.ndarray, y: np.ndarray, finite: np.ndarray) -> QPainterPath:
    """Each run of samples down to zero (the capnogram's floor); a fill closes each."""
    edges = np.diff(np.concatenate(([False], finite, [False])).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    xs, ys, joins = [], [], []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        xs.append(np.concatenate(([x[a]], x[a:b], [x[b - 1]])))
        ys.append(np.concatenate(([0.0], y[a:b], [0.0])))
        joins.append(np.ones(b - a + 2, dtype=np.int32))
        joins[-1][-1] = 0  # the next run starts apart
    return pg.arrayToQPath(np.concatenate(xs), np.concatenate(ys), connect=np.concatenate(joins))


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
        pen = pg.mkPen(colour, width=2)
        self.trace = SweepTrace(sample_rate_hz, self.width_samples, pen, fill)
        self.addItem(self.trace)
        self.drawn_total = 0  # samples ever written, as of the last refresh (latency bench)

    @property
    def row(self) -> np.ndarray:
        return self.trace.row

    def refresh(self) -> None:
        if self.ring.total_written == self.drawn_total and self.drawn_total:
            return  # nothing new since the last frame: the trace on screen is current
        samples, total = self.ring.snapshot(self.width_samples)
        self.drawn_total = total
        row, _ = sweep_layout(samples, total, self.width_samples, self.erase)
        scale = self.fixed_range if self.fixed_range != self.y_range else None
        if self.fixed_range is None:
            scale = sweep_scale(row, self.y_range)
        if scale is not None:
            self.y_range = scale
            self.setYRange(*scale, padding=0)
        self.trace.show_row(row, self.y_range)

    def set_fixed_range(self, low: float, high: float) -> None:
        """A fixed scale in the wave's unit (mmHg for the capnogram)."""
        self.fixed_range = (low, high)

    def set_line_width(self, px: int) -> None:
        """Thicker traces on bigger screens, so the wave reads from as far as the numbers."""
        self.trace.set_pen(pg.mkPen(self.colour, width=px))

    def finite_points(self) -> int:
        return int(np.count_nonzero(np.isfinite(self.row)))
