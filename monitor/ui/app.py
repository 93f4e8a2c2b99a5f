"""Starts the Qt application around a running pipeline, live or replayed."""

from __future__ import annotations

import sys

from PyQt6.QtWidgets import QApplication

from monitor.pipeline import PipelineRunner
from monitor.ui.main_window import MonitorWindow

# The acquisition threads (pipeline, serial readers) share the GIL with the GUI; a shorter
# switch interval than CPython's 5 ms lets a display frame start sooner (bench/gui.py).
GIL_SWITCH_INTERVAL_S = 0.001


def make_app() -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("vitalmon")
    return app  # type: ignore[return-value]


def run_gui(runner: PipelineRunner) -> int:
    app = make_app()
    window = MonitorWindow(runner.pipeline)
    runner.start()
    window.show()
    try:
        return app.exec()
    finally:
        runner.stop()


def run_replay_gui(path: str, speed: float | None) -> int:
    """The same screen over a recording, with play/pause, speed and a seeking timeline."""
    from monitor.recording.replay import ReplayController

    app = make_app()
    window: MonitorWindow | None = None
    controller = ReplayController(
        path, speed=speed, on_new_pipeline=lambda p: window.rebind(p) if window else None
    )
    window = MonitorWindow(controller.pipeline, replay=controller)
    window.setWindowTitle(f"vitalmon — replay of {path}")
    controller.start()
    window.show()
    try:
        return app.exec()
    finally:
        controller.stop()
