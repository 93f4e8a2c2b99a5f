"""The window, rendered offscreen with pytest-qt, shows what the simulator sends."""

from __future__ import annotations

from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.sources import SimulatorSource
from monitor.ui.main_window import MonitorWindow
from monitor.ui.sound import SilentSink
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


def test_window_shows_simulated_spo2_pr_and_pleth(qtbot) -> None:
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=4.0)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    runner = PipelineRunner(source, pipeline)
    window = MonitorWindow(pipeline, sink=SilentSink())
    qtbot.addWidget(window)
    window.show()
    runner.start()
    try:
        qtbot.waitUntil(lambda: window.spo2_tile.value.text() != "--", timeout=5000)
        qtbot.waitUntil(lambda: window.pr_tile.value.text() != "--", timeout=5000)
        assert 94 <= int(window.spo2_tile.value.text()) <= 100
        assert 60 <= int(window.pr_tile.value.text()) <= 85
        qtbot.waitUntil(lambda: window.pleth.finite_points() > 100, timeout=5000)
        image = window.grab().toImage()
        assert image.width() > 0
    finally:
        runner.stop()
        window.timer.stop()
