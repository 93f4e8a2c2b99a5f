"""Run a scenario through the real pipeline in-process, flat out, and keep its records."""

from __future__ import annotations

from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.sources import SimulatorSource
from simulator.devices import Bedside, SimulatedBedside
from simulator.scenario import load_scenario


def run_bedside(bedside: Bedside, seconds: float) -> list[dict]:
    source = SimulatorSource(bedside, speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    records: list[dict] = []
    pipeline.subscribe(records.append)
    PipelineRunner(source, pipeline, duration_s=seconds).run()
    return records


def numerics(scenario: str, seconds: float, seed: int = 0) -> list[dict]:
    bedside = SimulatedBedside(load_scenario(scenario), seed=seed)
    return [r for r in run_bedside(bedside, seconds) if r["type"] == "numerics"]
