"""One chair in detail at the central: live pleth and capnogram (from its `wave`
messages), its active alarms, its last hour of trends (from its `numerics`).

It has no timer of its own: the central window's one display timer calls `refresh`.
The sweeps are the bedside's own (`SweepPlot`) on the chair's rings at the central.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from monitor.net.central import ChairState
from monitor.present.capno_view import capnogram_range, capnogram_title
from monitor.present.central_view import (
    CLOSED_TEXT,
    OFFLINE_TEXT,
    chair_tile_view,
    detail_alarm_lines,
    detail_title,
    detail_trend_plots,
)
from monitor.ui import theme
from monitor.ui.waveform import SweepPlot
from monitor.wavestore import GappedWave

SLOW_S = 1.0  # title, alarm list and trends


class WaveSlot(QWidget):
    """A titled sweep that follows the chair's ring (a new one when the bedside restarts)."""

    def __init__(self, title: str, colour: str, fill: str | None = None) -> None:
        super().__init__()
        self.colour = colour
        self.fill = fill
        self.title = QLabel(title)
        self.title.setStyleSheet(f"color: {colour}; font-size: 16px; font-weight: bold;")
        self.empty = QLabel("no waveform from this chair")
        self.empty.setStyleSheet(f"color: {theme.DIM_TEXT}; font-size: 15px;")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.empty, 1)
        self.plot: SweepPlot | None = None
        self.wave: GappedWave | None = None

    def follow(self, wave: GappedWave | None, why: str = "no waveform from this chair") -> None:
        """Sweep `wave`; none (the chair sends none, or nothing at all): say `why`."""
        if self.empty.text() != why:
            self.empty.setText(why)
        if wave is self.wave:
            return
        self.wave = wave
        if self.plot is not None:
            self.layout_.removeWidget(self.plot)
            self.plot.deleteLater()
            self.plot = None
        self.empty.setVisible(wave is None)
        if wave is not None:
            self.plot = SweepPlot(wave.ring, wave.rate_hz, self.colour, fill=self.fill)
            self.layout_.addWidget(self.plot, 1)

    def refresh(self) -> None:
        if self.plot is not None:
            self.plot.refresh()


class ChairDetail(QWidget):
    def __init__(self, chair: ChairState, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.chair = chair
        self.setStyleSheet(f"background: {theme.BACKGROUND}; color: {theme.TEXT};")
        self.title = QLabel("")
        self.title.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.pleth = WaveSlot("Pleth", theme.PLETH_COLOUR)
        self.co2 = WaveSlot(capnogram_title(None), theme.CO2_COLOUR, fill=theme.CO2_FILL)
        self.alarms = QLabel("")
        self.alarms.setStyleSheet(f"font-size: 15px; font-family: '{theme.FONT_FAMILY}';")
        self.alarms.setTextFormat(Qt.TextFormat.PlainText)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.BACKGROUND)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._plot_keys: tuple[str, ...] = ()
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.pleth, 3)
        layout.addWidget(self.co2, 3)
        layout.addWidget(self.alarms)
        layout.addWidget(self.graphics, 6)
        QShortcut(QKeySequence("Esc"), self).activated.connect(self.close)
        self.resize(1100, 900)
        self._slow_due = 0.0
        self.show_chair(chair)

    def show_chair(self, chair: ChairState) -> None:
        self.chair = chair
        self.setWindowTitle(f"vitalmon central — {chair.name}")
        self._slow_due = 0.0

    def refresh(self, now: float) -> None:
        """Every display frame, under the model's lock: sweeps now, the rest each second
        of `now` (monotonic seconds)."""
        waves = self.chair.waves
        if self.chair.offline_alarm or self.chair.closed:  # a frozen sweep would look live
            text = OFFLINE_TEXT if self.chair.offline_alarm else CLOSED_TEXT
            self.pleth.follow(None, text)
            self.co2.follow(None, text)
        else:
            self.pleth.follow(waves.pleth)
            self.co2.follow(waves.co2)
        self.co2.setVisible(waves.co2 is not None)
        self.pleth.refresh()
        self.co2.refresh()
        if now < self._slow_due:
            return
        self._slow_due = now + SLOW_S
        view = chair_tile_view(self.chair, 0.0)
        self.title.setText(detail_title(view))
        self.alarms.setText("\n".join(detail_alarm_lines(self.chair)))
        etco2 = (self.chair.numerics or {}).get("etco2")
        etco2 = float(etco2) if isinstance(etco2, int | float) else None
        if self.co2.plot is not None:
            self.co2.plot.set_fixed_range(*capnogram_range(etco2))
        self.co2.title.setText(capnogram_title(etco2))
        self._refresh_trends()

    def _refresh_trends(self) -> None:
        specs = detail_trend_plots(self.chair)
        keys = tuple(s.key for s in specs)
        if keys != self._plot_keys:
            self._build_plots(specs)
        rows = self.chair.trend.numerics()
        nibp = self.chair.trend.nibp()
        last = self.chair.trend.last_t or 0.0
        first = rows["t"][0] if len(rows["t"]) else last
        if self.plots:  # the hour, or as much of it as there is (at least 5 min)
            span_min = min(60.0, max(5.0, (last - first) / 60.0))
            next(iter(self.plots.values())).setXRange(-span_min, 0, padding=0)
        for name, item in self.curves.items():
            key, series = name.split(".")
            source = nibp if key == "nibp" else rows
            if series in source and len(source["t"]):
                item.setData((source["t"] - last) / 60.0, source[series], connect="finite")
            else:
                item.setData([], [])

    def _build_plots(self, specs) -> None:
        self.graphics.clear()
        self.plots, self.curves = {}, {}
        self._plot_keys = tuple(s.key for s in specs)
        first = None
        for row, spec in enumerate(specs):
            plot = self.graphics.addPlot(row=row, col=0)
            plot.setLabel("left", spec.title, color=spec.series[0][1])
            plot.getAxis("left").setWidth(64)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setYRange(*spec.y_range, padding=0.05)
            plot.setMouseEnabled(x=False, y=False)
            if row == len(specs) - 1:
                plot.setLabel("bottom", "minutes before the latest")
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            for series, colour in spec.series:
                if spec.points:
                    item = plot.plot(pen=None, symbol="o", symbolSize=7, symbolBrush=colour,
                                     symbolPen=None)  # fmt: skip
                else:
                    item = plot.plot(pen=pg.mkPen(colour, width=2), connect="finite")
                self.curves[f"{spec.key}.{series}"] = item
            self.plots[spec.key] = plot

    def curve_points(self, name: str) -> int:
        _, y = self.curves[name].getData()
        return 0 if y is None else int(np.count_nonzero(np.isfinite(y)))
