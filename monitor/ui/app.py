"""Starts the Qt application around a running pipeline, live or replayed."""

from __future__ import annotations

import signal
import sys

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from monitor.pipeline import PipelineRunner, setup_frozen
from monitor.ui.main_window import MonitorWindow


def make_app() -> QApplication:
    """The one QApplication (the benchmark and the screenshots start it the same way)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("vitalmon")
    return app


def fit_to_screen(window: MonitorWindow) -> None:
    """Start at the reference 1366x768, or the whole screen when it is smaller."""
    screen = window.screen()
    if screen is not None:
        area = screen.availableGeometry()
        window.resize(min(window.width(), area.width()), min(window.height(), area.height()))


def quit_on_signals(app: QApplication) -> list[int]:
    """SIGTERM (a desktop shutting down) and SIGINT close the window as its close button
    would, so the caller closes the recording cleanly (was: exit 143, a -wal file left).
    Python runs a signal handler only between bytecodes, so a timer wakes it while Qt
    waits; returns the list of signals received."""
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signum)
        app.quit()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return received


def run_gui(runner: PipelineRunner) -> int:
    app = make_app()
    window = MonitorWindow(runner.pipeline)
    fit_to_screen(window)
    received = quit_on_signals(app)
    runner.start()
    window.show()
    try:
        with setup_frozen():
            status = app.exec()
    finally:
        runner.stop()
    return 130 if signal.SIGINT in received else status


def run_replay_gui(path: str, speed: float | None) -> int:
    """The same screen over a recording, with play/pause, speed and a seeking timeline."""
    from monitor.recording.replay import ReplayController

    window: MonitorWindow | None = None
    # Open (and so check) the session file before any window: a bad file is one line.
    controller = ReplayController(
        path, speed=speed, on_new_pipeline=lambda p: window.rebind(p) if window else None
    )
    app = make_app()
    window = MonitorWindow(controller.pipeline, replay=controller)
    window.setWindowTitle(f"vitalmon — replay of {path}")
    fit_to_screen(window)
    controller.start()
    window.show()
    try:
        return app.exec()
    finally:
        controller.stop()
