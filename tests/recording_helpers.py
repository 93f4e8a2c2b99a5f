"""Real session files for the recording tests: a test scenario through the simulator, the
real pipeline (alarm engine, session, NIBP, command bus) and the real recorder. The
clinical story (setup, NIBP readings, events, acknowledgements, limit changes) is the
scenario's own `[[actions]]`, applied as commands at their data times, exactly as
`vitalmon run --sim` does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.config import PipelineConfig, build_pipeline, nurse_commands
from monitor.pipeline import PipelineRunner
from monitor.recording.recorder import SessionRecorder
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

DATA = Path(__file__).resolve().parent / "data"
WALL_START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def record_session(
    path: Path, scenario: str = "rec_report", seconds: float = 900.0, clinical: bool = True
) -> list[dict[str, object]]:
    """Record `seconds` of a test scenario at max speed; returns every record emitted.

    `clinical=False` leaves out the scenario's nurse actions (a plain monitored run)."""
    source = SimulatorSource(
        SimulatedBedside(load_scenario(str(DATA / f"{scenario}.toml")), seed=3), speed=None
    )
    actions = nurse_commands(source.bedside) if clinical else ()
    config = PipelineConfig.of(
        source.protocols,
        commands=actions,
        source={"kind": "simulator", "scenario": scenario, "seed": 3},
    )
    pipeline = build_pipeline(config, wall_start=WALL_START)
    emitted: list[dict[str, object]] = []
    pipeline.subscribe(emitted.append)
    recorder = SessionRecorder(path, pipeline, live=False, config=config)
    PipelineRunner(source, pipeline, duration_s=seconds).run()
    recorder.close()
    return emitted
