"""The bedside window: waveforms on the left, large numerics on the right."""

from __future__ import annotations

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QGridLayout, QLabel, QMainWindow, QWidget

from monitor.display import format_reading
from monitor.pipeline import AcquisitionPipeline
from monitor.ui import theme
from monitor.ui.tiles import NumericTile
from monitor.ui.waveform import SweepPlot

DISPLAY_RATE_HZ = 30


class MonitorWindow(QMainWindow):
    def __init__(self, pipeline: AcquisitionPipeline) -> None:
        super().__init__()
        self.pipeline = pipeline
        self.setWindowTitle("vitalmon")
        self.setStyleSheet(f"background: {theme.BACKGROUND}; color: {theme.TEXT};")
        central = QWidget()
        grid = QGridLayout(central)
        grid.setContentsMargins(8, 8, 8, 8)
        grid.setSpacing(8)

        self.status = QLabel("")
        self.status.setStyleSheet("font-size: 16px;")
        grid.addWidget(self.status, 0, 0, 1, 2)

        pleth_label = QLabel("Pleth")
        pleth_label.setStyleSheet(f"color: {theme.PLETH_COLOUR}; font-size: 16px;")
        grid.addWidget(pleth_label, 1, 0)
        oximeter = pipeline.oximeter
        assert oximeter is not None, "the window needs an oximeter channel"
        self.pleth = SweepPlot(oximeter.pleth, oximeter.pleth_rate_hz, theme.PLETH_COLOUR)
        grid.addWidget(self.pleth, 2, 0, 2, 1)

        self.spo2_tile = NumericTile("SpO\u2082", "%", theme.SPO2_COLOUR)
        self.pr_tile = NumericTile("PR", "/min", theme.PR_COLOUR)
        grid.addWidget(self.spo2_tile, 2, 1)
        grid.addWidget(self.pr_tile, 3, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 1)
        self.setCentralWidget(central)
        self.resize(1366, 768)

        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / DISPLAY_RATE_HZ))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def refresh(self) -> None:
        snapshot = self.pipeline.oximeter_snapshot()
        if snapshot is not None:
            self.spo2_tile.show_text(format_reading(snapshot.spo2))
            self.pr_tile.show_text(format_reading(snapshot.pulse_rate))
        self.pleth.refresh()
        minutes, seconds = divmod(int(self.pipeline.t), 60)
        self.status.setText(f"Session {minutes:02d}:{seconds:02d}")

    def closeEvent(self, event) -> None:
        self.timer.stop()
        super().closeEvent(event)
