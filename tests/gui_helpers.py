"""A simulated bedside stepped by the test (no thread), with the window on top of it."""

from __future__ import annotations

from collections.abc import Iterator

from monitor.config import PipelineConfig, build_pipeline
from monitor.sources import Chunk, SimulatorSource
from monitor.ui.main_window import MonitorWindow
from monitor.ui.sound import AlarmSink, SilentSink
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


class Clock:
    """Display time for the window: tests put the flash in its bright or dark phase."""

    def __init__(self, now: float = 0.1) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Bedside:
    """A scenario through the real pipeline; the test decides how far data time goes."""

    def __init__(self, scenario: str, speed: float | None = None) -> None:
        self.source = SimulatorSource(SimulatedBedside(load_scenario(scenario)), speed=speed)
        self.pipeline = build_pipeline(PipelineConfig.of(self.source.protocols))
        self.pipeline.set_writer(self.source.write)  # the NIBP module hears the monitor
        self.records: list[dict] = []
        self.pipeline.subscribe(self.records.append)
        self._chunks: Iterator[Chunk] = self.source.chunks()

    def run_to(self, t: float) -> None:
        for chunk in self._chunks:
            self.pipeline.process(chunk)
            if self.pipeline.t >= t:
                return

    def step(self) -> None:
        """One more chunk: commands the window submitted are applied and recorded."""
        self.pipeline.process(next(self._chunks))

    def commands(self) -> list[tuple[str, dict]]:
        return [(r["name"], r["args"]) for r in self.records if r["type"] == "command"]

    def window(self, qtbot, sink: AlarmSink | None = None, clock: Clock | None = None):
        window = MonitorWindow(self.pipeline, sink=sink or SilentSink(), clock=clock or Clock())
        window.timer.stop()  # the test refreshes by hand: deterministic frames
        qtbot.addWidget(window)
        window.show()
        window.refresh()
        return window
