"""Replay on the bedside screen: timeline marks from the recording, play/pause, speed,
seek forward and back (a fresh pipeline the window re-binds to), nurse actions off."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtCore import QPoint, Qt

from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.recording.recorder import SessionRecorder
from monitor.recording.replay import ReplayController
from monitor.sources import SimulatorSource
from monitor.ui.main_window import MonitorWindow
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "tachy.vitalmon"
    source = SimulatorSource(SimulatedBedside(load_scenario("tachycardia")), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    pipeline.commands.schedule(30, "mark_event", kind="note", text="anxious")
    recorder = SessionRecorder(path, pipeline, {"kind": "simulator"}, live=False)
    PipelineRunner(source, pipeline, duration_s=120).run()
    recorder.close()
    return path


def test_replay_screen_controls(qtbot, recording) -> None:
    window: MonitorWindow | None = None
    controller = ReplayController(recording, speed=1.0, on_new_pipeline=lambda p: window.rebind(p))
    window = MonitorWindow(controller.pipeline, replay=controller)
    qtbot.addWidget(window)
    bar = window.replay_bar
    try:
        marks = {(m.kind, m.label) for m in bar.timeline.marks}
        assert ("alarm", "PR_HIGH") in marks and ("event", "note") in marks
        assert not window.buttons["acknowledge"].isEnabled()
        assert window.buttons["trends"].isEnabled()
        controller.start()
        qtbot.mouseClick(bar.play, Qt.MouseButton.LeftButton)
        assert controller.source.paused and bar.play.text() == "Play"
        bar.speed.setCurrentIndex(bar.speed.findText("10x"))
        assert controller.source.speed == 10.0
        bar.seek(100)  # forward: flat out to 100 s, even while paused
        qtbot.waitUntil(lambda: controller.pipeline.t >= 100, timeout=5000)
        window.refresh()
        assert window.pr_tile.value.text().isdigit() and int(window.pr_tile.value.text()) > 120
        first = controller.pipeline
        bar.seek(40)  # back: a fresh pipeline from the start, re-bound to the window
        assert controller.pipeline is not first and window.pipeline is controller.pipeline
        qtbot.waitUntil(lambda: controller.pipeline.t >= 40, timeout=5000)
        assert controller.pipeline.t < 60
        window.refresh()
        assert bar.position.text().startswith("0:00:4")
        window.show()
        timeline = bar.timeline
        x = round(timeline.width() * 90 / controller.duration_s)
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, timeline.height() // 2))
        qtbot.waitUntil(lambda: controller.pipeline.t >= 88, timeout=5000)  # clicked ~90 s
    finally:
        controller.stop()
        window.timer.stop()
