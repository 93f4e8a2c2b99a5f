"""Starts the Qt application around a running pipeline."""

from __future__ import annotations

import sys

from PyQt6.QtWidgets import QApplication

from monitor.pipeline import PipelineRunner
from monitor.ui.main_window import MonitorWindow


def run_gui(runner: PipelineRunner) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("vitalmon")
    window = MonitorWindow(runner.pipeline)
    runner.start()
    window.show()
    try:
        return app.exec()
    finally:
        runner.stop()
