"""`vitalmon clinic --chairs N --publish URL`: N simulated bedsides in one process.

For demos, tests and the scale bench (docs/central.md): chair-01 .. chair-NN, each its
own scenario (the built-in ones in turn) and seed, its own pipeline and publisher,
headless. It prints every alarm, NIBP and event record of every chair as a JSON line
with `"chair"` (numerics stay on the broker); the password comes as for `vitalmon run`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.alarms import DEFAULT_PRESET, load_preset
from monitor.cli.common import UsageError, positive_seconds, seed_arg, speed_arg, stop_on_signals
from monitor.cli.link import register_credentials
from monitor.config import PipelineConfig, build_pipeline, nurse_commands
from monitor.net.broker import LinkSetupError, check_ca, parse_broker_url, read_password
from monitor.pipeline import PipelineRunner
from monitor.records import Record
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

if TYPE_CHECKING:  # the MQTT client is imported when a clinic starts, not by every command
    from monitor.net.publisher import CentralPublisher

MAX_CHAIRS = 64
# The clinic's usual troubles in turn, a calm chair third; chair 1 alarms within 20 s
# (so a one-chair bench has alarm onsets to time).
SCENARIOS = (
    "probe-off", "desaturation", "steady", "tachycardia", "bradycardia", "hypertension",
    "apnea", "hypoventilation", "artifact", "obstruction", "nibp-fail", "capno-disconnect",
    "infusion", "comm-loss",
)  # fmt: skip
PRINTED = ("alarm", "nibp", "event")
# Each simulator steps 0.2 s of data at a time, not the 0.04 s of `vitalmon run`: 5
# pipeline passes a second instead of 25 cut a chair's CPU about 3.7-fold (0.6 % of a
# core instead of 2.2 %), so 32 chairs fit one process; numerics stay per second and
# records are made when their step is processed (docs/central.md).
STEP_S = 0.2


def register(commands) -> argparse.ArgumentParser:
    clinic = commands.add_parser("clinic", help="N simulated bedsides publishing to a broker")
    clinic.add_argument("--chairs", type=chairs_arg, required=True, metavar="N")
    clinic.add_argument(
        "--publish", required=True, metavar="URL", help="mqtt[s]://USER@HOST:PORT/CLINIC"
    )
    clinic.add_argument("--speed", type=speed_arg, default=1.0, metavar="N")
    clinic.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S s")
    clinic.add_argument(
        "--seed", type=seed_arg, default=1, help="chair k's seed is SEED+k-1 (default 1)"
    )
    clinic.add_argument(
        "--first-chair",
        type=chairs_arg,
        default=1,
        metavar="K",
        help="number the chairs from K (a clinic split over several processes or machines)",
    )
    register_credentials(clinic)
    return clinic


def chairs_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of chairs") from None
    if not 1 <= value <= MAX_CHAIRS:
        raise argparse.ArgumentTypeError(f"must be 1-{MAX_CHAIRS}, not {value}")
    return value


class LockedPrinter:
    """Every chair's acquisition thread prints here: whole lines, one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def listener(self, chair: str):
        def write(record: Record) -> None:
            if record.get("type") not in PRINTED:
                return
            line = json.dumps({**record, "chair": chair}, separators=(", ", ": "))
            with self._lock:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

        return write


@dataclass(slots=True)
class Chair:
    name: str
    runner: PipelineRunner
    publisher: CentralPublisher


def make_chair(
    k: int, args: argparse.Namespace, printer: LockedPrinter, link: tuple, on_fatal
) -> Chair:
    """Chair k (1-based): its simulated bedside, pipeline, printer and publisher."""
    address, password, ca_file = link
    name = f"chair-{k:02d}"
    scenario = load_scenario(SCENARIOS[(k - 1) % len(SCENARIOS)])
    seed = (args.seed + k - 1) % 2**32
    bedside = SimulatedBedside(scenario, seed=seed)
    source = SimulatorSource(bedside, speed=args.speed, step_s=STEP_S)
    meta = {"kind": "simulator", "scenario": scenario.name, "seed": seed, "speed": args.speed}
    config = PipelineConfig.of(
        source.protocols, load_preset(DEFAULT_PRESET), nurse_commands(bedside), meta
    )
    pipeline = build_pipeline(config)
    from monitor.net.publisher import CentralPublisher

    publisher = CentralPublisher(address, password, name, pipeline, ca_file, on_fatal)
    pipeline.subscribe(publisher)
    pipeline.subscribe(printer.listener(name))
    return Chair(name, PipelineRunner(source, pipeline, duration_s=args.duration), publisher)


def run(args: argparse.Namespace) -> int:
    if args.speed is None:
        raise UsageError("a clinic runs paced: give --speed N, not max")
    try:
        address = parse_broker_url(args.publish)
        link = (address, read_password(args.password_file), check_ca(address, args.ca))
    except LinkSetupError as exc:
        raise UsageError(str(exc)) from None
    done = threading.Event()
    fatal: list[str] = []

    def on_fatal(message: str) -> None:
        if not fatal:  # every chair's publisher is refused alike: say it once
            fatal.append(message)
            print(f"vitalmon: {message}", file=sys.stderr, flush=True)
        done.set()

    printer = LockedPrinter()
    numbers = range(args.first_chair, args.first_chair + args.chairs)
    if numbers[-1] > MAX_CHAIRS:
        raise UsageError(f"chairs {numbers[0]}-{numbers[-1]}: the last may be {MAX_CHAIRS}")
    chairs = [make_chair(k, args, printer, link, on_fatal) for k in numbers]
    received = stop_on_signals(done.set)
    for chair in chairs:
        chair.publisher.start()
        chair.runner.start()
    while not done.wait(0.2):
        if not any(chair.runner.running for chair in chairs):
            break
    closing = [threading.Thread(target=_close, args=(chair,)) for chair in chairs]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join()
    if fatal:
        return 1
    errors = [c for c in chairs if c.runner.error is not None]
    if errors:
        print(f"vitalmon: {errors[0].name} stopped: {errors[0].runner.error}", file=sys.stderr)
        return 1
    return 130 if signal.SIGINT in received else 0


def _close(chair: Chair) -> None:
    chair.runner.stop()
    chair.publisher.close()
