"""Trends of the whole session: every numeric with its alarm limits, NIBP readings as
points, event markers; zoom and pan (mouse, buttons, keys). Reads monitor.trends.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from monitor.pipeline import AcquisitionPipeline
from monitor.present.trend_view import (
    TREND_PLOTS,
    event_label,
    label_row,
    limit_lines,
    marked_events,
    visible_range,
)
from monitor.records import time_of
from monitor.ui import theme

REFRESH_MS = 1000


class TrendsWindow(QWidget):
    def __init__(self, pipeline: AcquisitionPipeline, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.pipeline = pipeline
        self.setWindowTitle("vitalmon — session trends")
        self.setStyleSheet(
            f"background: {theme.BACKGROUND}; color: {theme.TEXT};"
            f"QPushButton {{ background: {theme.BUTTON}; padding: 8px; font-size: 15px; }}"
        )
        self.origin = pipeline.wall_start.timestamp()  # x axis is wall-clock time
        self.follow = True  # keep the whole session in view until the nurse zooms or pans
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.BACKGROUND)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.no_data: dict[str, pg.TextItem] = {}
        self.event_lines: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self.limit_items: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self._limits_key: tuple | None = None
        first: pg.PlotItem | None = None
        has_capno = "capno" in pipeline.channels
        has_resp = "resp" in pipeline.channels or has_capno
        shown = [
            p
            for p in TREND_PLOTS
            if (has_resp or p.key != "rr") and (has_capno or p.key != "etco2")
        ]
        for row, spec in enumerate(shown):
            axis = pg.DateAxisItem(orientation="bottom")
            plot = self.graphics.addPlot(row=row, col=0, axisItems={"bottom": axis})
            plot.setLabel("left", spec.title, units=None, color=spec.series[0][1])
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.getAxis("left").setWidth(64)  # equal widths keep every time axis aligned
            plot.setYRange(*spec.y_range, padding=0.05)
            plot.setMouseEnabled(x=True, y=False)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            for series, colour in spec.series:
                if spec.points:
                    item = plot.plot(
                        pen=pg.mkPen(colour, width=1),
                        symbol="o",
                        symbolSize=7,
                        symbolBrush=colour,
                        symbolPen=None,
                        connect="finite",
                    )
                else:
                    item = plot.plot(pen=pg.mkPen(colour, width=2), connect="finite")
                self.curves[f"{spec.key}.{series}"] = item
            self.plots[spec.key] = plot
            note = pg.TextItem("no data from this source", color=theme.DIM_TEXT, anchor=(0.5, 0.5))
            note.setParentItem(plot.getViewBox())
            note.setPos(400, 40)  # pixels in the view box: near its middle at any window size
            self.no_data[spec.key] = note
            plot.getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.first = first

        buttons = QHBoxLayout()
        for label, slot, key in (
            ("Whole session", self.show_all, "Home"),
            ("Last 30 min", lambda: self.show_last(1800), "3"),
            ("Last hour", lambda: self.show_last(3600), "1"),
            ("Zoom in", lambda: self.zoom(0.5), "+"),
            ("Zoom out", lambda: self.zoom(2.0), "-"),
            ("◀ Earlier", lambda: self.pan(-0.5), "Left"),
            ("Later ▶", lambda: self.pan(0.5), "Right"),
            ("Close", self.close, "Esc"),
        ):
            button = QPushButton(f"{label}  [{key}]")
            button.clicked.connect(slot)
            buttons.addWidget(button)
            QShortcut(QKeySequence(key), self).activated.connect(slot)
        layout = QVBoxLayout(self)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(buttons)
        self.resize(1280, 760)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    # --- data -----------------------------------------------------------------
    def refresh(self) -> None:
        store = self.pipeline.trends
        rows = store.numerics()
        nibp = store.nibp()
        has_data: dict[str, bool] = dict.fromkeys(self.plots, False)
        for name, item in self.curves.items():
            key, series = name.split(".")
            source = nibp if key == "nibp" else rows
            if series in source:
                item.setData(source["t"] + self.origin, source[series], connect="finite")
                has_data[key] |= bool(np.isfinite(source[series]).any())
        for key, note in self.no_data.items():
            note.setVisible(not has_data[key])
        self._draw_limits()
        self._draw_events(store.events())
        if self.follow:
            self.show_all(keep_following=True)

    def _draw_limits(self) -> None:
        lines = limit_lines(self.pipeline.alarms.limits())
        key = tuple(lines)
        if key == self._limits_key:
            return
        self._limits_key = key
        for owner, item in self.limit_items:
            owner.removeItem(item)
        self.limit_items = []
        for plot_key, value, colour in lines:
            plot = self.plots.get(plot_key)
            if plot is None:
                continue
            line = pg.InfiniteLine(
                pos=value, angle=0, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)
            )
            plot.addItem(line)
            self.limit_items.append((plot, line))

    def _draw_events(self, events: list[dict[str, object]]) -> None:
        shown = marked_events(events)
        if len(shown) == len(self.event_lines) // max(1, len(self.plots)):
            return
        for owner, line in self.event_lines:
            owner.removeItem(line)
        self.event_lines = []
        for n, event in enumerate(shown):
            x = time_of(event) + self.origin
            for i, plot in enumerate(self.plots.values()):
                line = pg.InfiniteLine(
                    pos=x,
                    angle=90,
                    pen=pg.mkPen(theme.TEXT, width=1, style=Qt.PenStyle.DotLine),
                    label=event_label(event) if i == 0 else None,
                    labelOpts={"position": label_row(n), "color": theme.TEXT, "fill": "#000000c0"},
                )
                plot.addItem(line)
                self.event_lines.append((plot, line))

    @property
    def event_count(self) -> int:
        return len(self.event_lines) // max(1, len(self.plots))

    # --- zoom and pan ------------------------------------------------------------
    def _span(self) -> tuple[float, float]:
        span = self.pipeline.trends.span()
        last = span.last_t if span.last_t is not None else self.pipeline.t
        return 0.0, max(60.0, last)

    def _user_moved(self, *_) -> None:
        self.follow = False

    def _set_x(self, t0: float, t1: float) -> None:
        if self.first is not None:
            self.first.setXRange(t0 + self.origin, t1 + self.origin, padding=0)

    def show_all(self, keep_following: bool = False) -> None:
        self.follow = True
        self._set_x(*self._span())

    def show_last(self, seconds: float) -> None:
        self.follow = False
        _, end = self._span()
        self._set_x(max(0.0, end - seconds), end)

    def x_range(self) -> tuple[float, float]:
        """The data-time range on screen."""
        (x0, x1), _ = self.first.getViewBox().viewRange()
        return x0 - self.origin, x1 - self.origin

    def zoom(self, factor: float) -> None:
        self.follow = False
        self._set_x(*visible_range(self.x_range(), self._span(), zoom=factor))

    def pan(self, fraction: float) -> None:
        self.follow = False
        self._set_x(*visible_range(self.x_range(), self._span(), shift=fraction))

    def curve_points(self, name: str) -> int:
        _, y = self.curves[name].getData()
        return 0 if y is None else int(np.count_nonzero(np.isfinite(y)))

    def showEvent(self, event) -> None:
        """Opened again after a close: follow the session again."""
        if not self.timer.isActive():
            self.timer.start()
            self.refresh()
        super().showEvent(event)

    def closeEvent(self, event) -> None:
        """Stop refreshing, and take the limit and event lines off the plots (drawn again
        when the window opens): a pyqtgraph line still on a plot asks for its view box
        while a closing window is torn down, and there is none by then (a crash)."""
        self.timer.stop()
        for owner, item in [*self.limit_items, *self.event_lines]:
            owner.removeItem(item)
        self.limit_items, self.event_lines, self._limits_key = [], [], None
        super().closeEvent(event)
