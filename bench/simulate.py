"""Simulated hours through the whole pipeline, headless, as fast as the CPU allows.

Budget (docs/architecture.md): 8 simulated hours in under 30 s; memory flat.
Usage: python bench/simulate.py [--hours 8] [--scenario steady]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, peak_rss_mb, verdict
from monitor.config import PipelineConfig, build_pipeline, nurse_commands
from monitor.pipeline import PipelineRunner
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

BUDGET_8H_S = 30.0


def simulate(scenario: str, hours: float) -> tuple[float, float, int, float]:
    # Ahead of the monitor to its next due time, as `vitalmon run --headless --speed max`.
    source = SimulatorSource(SimulatedBedside(load_scenario(scenario)), speed=None, ahead=True)
    pipeline = build_pipeline(
        PipelineConfig.of(source.protocols, commands=nurse_commands(source.bedside))
    )  # the nurse's scripted actions, as `run` does
    seconds = []
    pipeline.subscribe(lambda r: seconds.append(1) if r["type"] == "numerics" else None)
    start, cpu_start = time.perf_counter(), time.process_time()
    PipelineRunner(source, pipeline, duration_s=hours * 3600).run()
    cpu = time.process_time() - cpu_start
    return time.perf_counter() - start, peak_rss_mb(), len(seconds), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--scenario", default="steady")
    args = parser.parse_args()
    wall, rss, lines, cpu = simulate(args.scenario, args.hours)
    budget = BUDGET_8H_S * args.hours / 8.0
    print(f"machine: {machine()}")
    print(
        f"simulate {args.scenario} {args.hours:g} h: {wall:.1f} s wall ({cpu:.1f} s CPU; "
        f"wall > CPU means other load), {lines} numerics seconds, "
        f"peak RSS {rss:.0f} MB; budget {budget:.1f} s -> {verdict(wall, budget)}"
    )


if __name__ == "__main__":
    main()
