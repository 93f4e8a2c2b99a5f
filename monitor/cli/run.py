"""`vitalmon run`: monitor a patient, in the GUI or headless."""

from __future__ import annotations

import argparse
import sys

from drivers.registry import parse_port_spec
from monitor.cli.common import UsageError, positive_seconds, speed_arg, stop_on_sigterm
from monitor.headless import JsonLinesWriter
from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.sources import SerialSource, SimulatorSource, Source
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


def register(commands) -> argparse.ArgumentParser:
    run = commands.add_parser("run", help="monitor a patient (GUI, or --headless JSON lines)")
    source = run.add_mutually_exclusive_group()
    source.add_argument(
        "--sim",
        metavar="SCENARIO",
        help="built-in scenario name, a .toml file, or wfdb:RECORD (PhysioNet record path)",
    )
    source.add_argument("--oximeter", metavar="PROTO:PORT", help="e.g. nonin2:/dev/ttyUSB0")
    run.add_argument(
        "--resp", metavar="PROTO:PORT", help="respiration source, e.g. simresp:/dev/pts/8"
    )
    run.add_argument("--headless", action="store_true", help="no window; JSON lines on stdout")
    run.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S s")
    run.add_argument("--speed", type=speed_arg, default=1.0, metavar="N|max")
    run.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    return run


def make_source(args: argparse.Namespace) -> Source:
    if args.oximeter:
        if args.speed != 1.0:
            raise UsageError("--speed applies only to simulated or replayed sources")
        ports = {"oximeter": parse_port_spec(args.oximeter, "oximeter")}
        if args.resp:
            ports["resp"] = parse_port_spec(args.resp, "resp")
        return SerialSource(ports)
    if args.resp:
        raise UsageError("--resp goes with --oximeter (a simulated source brings its own)")
    if args.sim and args.sim.startswith("wfdb:"):
        from simulator.wfdb_source import WfdbBedside, parse_wfdb_spec  # scipy: load on demand

        return SimulatorSource(WfdbBedside(parse_wfdb_spec(args.sim)), speed=args.speed)
    scenario = load_scenario(args.sim or "steady")
    return SimulatorSource(SimulatedBedside(scenario, seed=args.seed), speed=args.speed)


def run(args: argparse.Namespace) -> int:
    source = make_source(args)
    pipeline = AcquisitionPipeline(source.protocols)
    runner = PipelineRunner(source, pipeline, duration_s=args.duration)
    if args.headless:
        pipeline.subscribe(JsonLinesWriter(sys.stdout))
        stop_on_sigterm(runner.stop)
        runner.run()
        return 0
    from monitor.ui.app import run_gui

    return run_gui(runner)
