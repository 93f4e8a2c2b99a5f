"""`vitalmon sim SCENARIO --pty`: serve virtual devices on ptys until killed."""

from __future__ import annotations

import argparse
import json
import threading

from monitor.cli.common import UsageError, seed_arg, speed_arg, stop_on_signals
from simulator.devices import Bedside, SimulatedBedside
from simulator.scenario import load_scenario


def register(commands) -> argparse.ArgumentParser:
    sim = commands.add_parser("sim", help="serve a scenario's virtual devices on ptys")
    sim.add_argument("scenario", metavar="SCENARIO", nargs="?", help="built-in name or .toml file")
    sim.add_argument(
        "--wfdb", metavar="RECORD", help="play a PhysioNet record (path, no extension)"
    )
    sim.add_argument("--pty", action="store_true", required=True, help="serve on pty pairs")
    sim.add_argument("--seed", type=seed_arg, default=0)
    sim.add_argument("--speed", type=speed_arg, default=1.0, metavar="N")
    return sim


def run(args: argparse.Namespace) -> int:
    from simulator.serve import serve_on_ptys

    if args.speed is None:
        raise UsageError("a pty serves in real time: --speed max is for in-process runs")
    if args.wfdb and args.scenario:
        raise UsageError("give a SCENARIO or --wfdb RECORD, not both")
    if args.wfdb:
        from simulator.wfdb_source import WfdbBedside  # scipy: load on demand

        bedside: Bedside = WfdbBedside(args.wfdb)
    else:
        bedside = SimulatedBedside(
            load_scenario("steady" if args.scenario is None else args.scenario), seed=args.seed
        )
    stop = threading.Event()
    stop_on_signals(stop.set)

    def announce(ports: dict[str, dict[str, str]]) -> None:
        print(json.dumps(ports), flush=True)

    serve_on_ptys(bedside, announce, stop, speed=args.speed)
    return 0
