"""`vitalmon run`: monitor a patient, in the GUI or headless."""

from __future__ import annotations

import argparse
import sys

from drivers.errors import VitalmonError
from drivers.registry import parse_port_spec
from monitor.cli.common import UsageError, drive, positive_seconds, speed_arg
from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.recording.paths import default_session_path
from monitor.recording.recorder import SessionRecorder, raise_recording_failed
from monitor.sources import SerialSource, SimulatorSource, Source
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


def register(commands) -> argparse.ArgumentParser:
    run = commands.add_parser("run", help="monitor a patient (GUI, or --headless JSON lines)")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--sim", metavar="SCENARIO", help="built-in scenario name or a .toml file")
    source.add_argument("--oximeter", metavar="PROTO:PORT", help="e.g. nonin2:/dev/ttyUSB0")
    run.add_argument("--headless", action="store_true", help="no window; JSON lines on stdout")
    run.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S s")
    run.add_argument("--speed", type=speed_arg, default=1.0, metavar="N|max")
    run.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    run.add_argument(
        "--record",
        metavar="FILE",
        help="record the session to FILE (the GUI records to the user's data dir by default)",
    )
    return run


def make_source(args: argparse.Namespace) -> Source:
    if args.oximeter:
        if args.speed != 1.0:
            raise UsageError("--speed applies only to simulated or replayed sources")
        return SerialSource({"oximeter": parse_port_spec(args.oximeter, "oximeter")})
    scenario = load_scenario(args.sim or "steady")
    return SimulatorSource(SimulatedBedside(scenario, seed=args.seed), speed=args.speed)


def source_meta(args: argparse.Namespace) -> dict[str, object]:
    """What the session file says about where its data came from."""
    if args.oximeter:
        return {"kind": "serial", "oximeter": args.oximeter}
    scenario = load_scenario(args.sim or "steady")
    return {
        "kind": "simulator",
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "seed": args.seed,
        "speed": "max" if args.speed is None else args.speed,
    }


def start_recorder(
    args: argparse.Namespace, source: Source, pipeline: AcquisitionPipeline
) -> SessionRecorder | None:
    """`--record FILE`; the GUI records every session by default and says where.

    A FILE the user named that cannot be created stops the run before it starts; the
    default recording failing raises RECORDING_FAILED and monitoring goes on.
    """
    if args.record is not None:
        return SessionRecorder(args.record, pipeline, source_meta(args), live=source.live)
    if args.headless:
        return None
    try:
        path = default_session_path()
        recorder = SessionRecorder(path, pipeline, source_meta(args), live=source.live)
    except (VitalmonError, OSError) as exc:
        raise_recording_failed(pipeline, f"cannot record this session: {exc}")
        return None
    print(f"vitalmon: recording this session to {path}", file=sys.stderr)
    return recorder


def run(args: argparse.Namespace) -> int:
    source = make_source(args)
    pipeline = AcquisitionPipeline(source.protocols)
    runner = PipelineRunner(source, pipeline, duration_s=args.duration)
    try:
        recorder = start_recorder(args, source, pipeline)
    except BaseException:
        source.close()
        raise
    try:
        return drive(runner, args.headless)
    finally:
        if recorder is not None:
            recorder.close()
