"""The `vitalmon` command line: the contract QA scripts and the tests rely on (DESIGN.md).

Every user mistake ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from drivers.errors import VitalmonError
from drivers.registry import parse_port_spec
from monitor.headless import JsonLinesWriter
from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.sources import SerialSource, SimulatorSource, Source
from simulator.devices import SimulatedBedside
from simulator.scenario import builtin_scenarios, load_scenario

PROG = "vitalmon"


class UsageError(VitalmonError):
    """A flag combination that makes no sense."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def speed_arg(text: str) -> float | None:
    """`N` (a positive factor) or `max`; None stands for max."""
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number or 'max'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("speed must be above 0")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("duration must be above 0 seconds")
    return value


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog=PROG, description="Bedside vital-signs monitor for the ketamine-infusion chair."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="monitor a patient (GUI, or --headless JSON lines)")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--sim", metavar="SCENARIO", help="built-in scenario name or a .toml file")
    source.add_argument("--oximeter", metavar="PROTO:PORT", help="e.g. nonin2:/dev/ttyUSB0")
    run.add_argument("--headless", action="store_true", help="no window; JSON lines on stdout")
    run.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S s")
    run.add_argument("--speed", type=speed_arg, default=1.0, metavar="N|max")
    run.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")

    sim = commands.add_parser("sim", help="serve a scenario's virtual devices on ptys")
    sim.add_argument("scenario", metavar="SCENARIO")
    sim.add_argument("--pty", action="store_true", required=True, help="serve on pty pairs")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--speed", type=speed_arg, default=1.0, metavar="N")

    commands.add_parser("scenarios", help="list the built-in scenarios")
    return parser


def make_source(args: argparse.Namespace) -> Source:
    if args.oximeter:
        if args.speed != 1.0:
            raise UsageError("--speed applies only to simulated or replayed sources")
        return SerialSource({"oximeter": parse_port_spec(args.oximeter, "oximeter")})
    scenario = load_scenario(args.sim or "steady")
    return SimulatorSource(SimulatedBedside(scenario, seed=args.seed), speed=args.speed)


def cmd_run(args: argparse.Namespace) -> int:
    source = make_source(args)
    pipeline = AcquisitionPipeline(source.protocols)
    runner = PipelineRunner(source, pipeline, duration_s=args.duration)
    if args.headless:
        pipeline.subscribe(JsonLinesWriter(sys.stdout))
        _stop_on_sigterm(runner.stop)
        runner.run()
        return 0
    from monitor.ui.app import run_gui

    return run_gui(runner)


def cmd_sim(args: argparse.Namespace) -> int:
    from simulator.serve import serve_on_ptys

    if args.speed is None:
        raise UsageError("a pty serves in real time: --speed max is for in-process runs")
    scenario = load_scenario(args.scenario)
    stop = threading.Event()
    _stop_on_sigterm(stop.set)

    def announce(ports: dict[str, dict[str, str]]) -> None:
        print(json.dumps(ports), flush=True)

    serve_on_ptys(SimulatedBedside(scenario, seed=args.seed), announce, stop, speed=args.speed)
    return 0


def cmd_scenarios(_: argparse.Namespace) -> int:
    for scenario in builtin_scenarios():
        print(f"{scenario.name:<16} {scenario.description}")
    return 0


def _stop_on_sigterm(stop: object) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop())  # type: ignore[operator]


COMMANDS = {"run": cmd_run, "sim": cmd_sim, "scenarios": cmd_scenarios}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except VitalmonError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
