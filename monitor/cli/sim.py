"""`vitalmon sim SCENARIO --pty`: serve virtual devices on ptys until killed."""

from __future__ import annotations

import argparse
import json
import threading

from monitor.cli.common import UsageError, speed_arg, stop_on_sigterm
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


def register(commands) -> argparse.ArgumentParser:
    sim = commands.add_parser("sim", help="serve a scenario's virtual devices on ptys")
    sim.add_argument("scenario", metavar="SCENARIO")
    sim.add_argument("--pty", action="store_true", required=True, help="serve on pty pairs")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--speed", type=speed_arg, default=1.0, metavar="N")
    return sim


def run(args: argparse.Namespace) -> int:
    from simulator.serve import serve_on_ptys

    if args.speed is None:
        raise UsageError("a pty serves in real time: --speed max is for in-process runs")
    scenario = load_scenario(args.scenario)
    stop = threading.Event()
    stop_on_sigterm(stop.set)

    def announce(ports: dict[str, dict[str, str]]) -> None:
        print(json.dumps(ports), flush=True)

    serve_on_ptys(SimulatedBedside(scenario, seed=args.seed), announce, stop, speed=args.speed)
    return 0
