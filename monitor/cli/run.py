"""`vitalmon run`: monitor a patient, in the GUI or headless."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial

from drivers.errors import VitalmonError
from drivers.files import open_regular
from drivers.registry import parse_port_spec
from monitor.alarms import DEFAULT_PRESET, Preset, builtin_presets, load_preset
from monitor.cli.common import (
    UsageError,
    drive,
    positive_seconds,
    require_display,
    seed_arg,
    speed_arg,
)
from monitor.cli.hl7 import hl7_address, make_hl7_sender, register_hl7
from monitor.cli.link import (
    apply_gui_settings,
    link_refused_alarm,
    make_publisher,
    register_publish,
)
from monitor.command_input import describe, read_commands, start_reader
from monitor.config import (
    ConfigError,
    PipelineConfig,
    ScheduledCommand,
    build_pipeline,
    nurse_commands,
)
from monitor.headless import JsonLinesWriter
from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.recording.paths import default_session_path
from monitor.recording.recorder import SessionRecorder, raise_recording_failed
from monitor.sources import SerialSource, SimulatorSource, Source
from simulator.devices import Bedside, SimulatedBedside
from simulator.scenario import load_scenario

FLUSH_AT_MAX_S = 0.1


def register(commands) -> argparse.ArgumentParser:
    run = commands.add_parser("run", help="monitor a patient (GUI, or --headless JSON lines)")
    source = run.add_mutually_exclusive_group()
    source.add_argument(
        "--sim",
        metavar="SCENARIO",
        help="built-in scenario name, a .toml file, or wfdb:RECORD (PhysioNet record path)",
    )
    source.add_argument("--oximeter", metavar="PROTO:PORT", help="e.g. nonin2:/dev/ttyUSB0")
    run.add_argument("--nibp", metavar="PROTO:PORT", help="NIBP module, e.g. suntech:/dev/ttyUSB1")
    run.add_argument(
        "--nibp-interval",
        type=nibp_minutes,
        metavar="MIN",
        help="automatic NIBP every MIN minutes (1-120), the first at once",
    )
    run.add_argument(
        "--resp", metavar="PROTO:PORT", help="respiration source, e.g. simresp:/dev/pts/8"
    )
    run.add_argument(
        "--capno", metavar="PROTO:PORT", help="CO2 module, e.g. capnostat:/dev/ttyUSB2"
    )
    run.add_argument("--headless", action="store_true", help="no window; JSON lines on stdout")
    run.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S s")
    run.add_argument("--speed", type=speed_arg, default=1.0, metavar="N|max")
    run.add_argument("--seed", type=seed_arg, default=0, help="simulator seed (default 0)")
    run.add_argument(
        "--preset",
        metavar="NAME|FILE",
        default=DEFAULT_PRESET,
        help=f"alarm preset, built in or a .toml file (built in: {', '.join(builtin_presets())})",
    )
    run.add_argument(
        "--commands",
        metavar="FILE|-",
        help="JSON-lines commands ('-' = stdin); read whole first at --speed max",
    )
    run.add_argument(
        "--record",
        metavar="FILE",
        help="record the session to FILE (the GUI records to the user's data dir by default)",
    )
    register_publish(run)
    register_hl7(run)
    return run


def nibp_minutes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of minutes") from None
    if not 1 <= value <= 120:
        raise argparse.ArgumentTypeError("the NIBP interval must be 1-120 minutes")
    return value


def make_source(args: argparse.Namespace) -> Source:
    if args.sim and args.nibp:
        raise UsageError("--nibp reads a real port; with --sim the virtual NIBP module is used")
    if args.sim and args.capno:
        raise UsageError(
            "--capno reads a real port; with --sim a scenario's [devices] capno is used"
        )
    if args.oximeter or args.nibp or args.capno:
        if args.speed != 1.0:
            raise UsageError("--speed applies only to simulated or replayed sources")
        ports = {}
        if args.oximeter:
            ports["oximeter"] = parse_port_spec(args.oximeter, "oximeter")
        if args.nibp:
            ports["nibp"] = parse_port_spec(args.nibp, "nibp")
        if args.capno:
            ports["capno"] = parse_port_spec(args.capno, "capno")
        if args.resp:
            if not args.oximeter:
                raise UsageError("--resp goes with --oximeter (a simulated source brings its own)")
            ports["resp"] = parse_port_spec(args.resp, "resp")
        return SerialSource(ports)
    if args.resp:
        raise UsageError("--resp goes with --oximeter (a simulated source brings its own)")
    if args.sim and args.sim.startswith("wfdb:"):
        from simulator.wfdb_source import WfdbBedside, parse_wfdb_spec  # scipy: load on demand

        bedside: Bedside = WfdbBedside(parse_wfdb_spec(args.sim))
    else:
        scenario = load_scenario("steady" if args.sim is None else args.sim)
        bedside = SimulatedBedside(scenario, seed=args.seed)
    # Headless, no command comes from outside once the run starts at --speed max.
    return SimulatorSource(bedside, speed=args.speed, ahead=args.headless)


def make_config(args: argparse.Namespace, source: Source, preset: Preset) -> PipelineConfig:
    """What this run's pipeline is built from (and what its recording keeps whole).

    `--nibp-interval` is applied at the start, before the first chunk, so every speed
    starts the program at the same time."""
    commands: list[ScheduledCommand] = []
    if args.nibp_interval is not None:
        interval = {"minutes": args.nibp_interval, "start_now": True}
        commands.append(ScheduledCommand(None, "nibp_interval", interval))
    if isinstance(source, SimulatorSource):
        commands += nurse_commands(source.bedside)
    return PipelineConfig.of(source.protocols, preset, tuple(commands), source_meta(args))


def _command_error(message: str) -> None:
    print(f"vitalmon: {message}", file=sys.stderr, flush=True)


class CommandReader:
    """`--commands`: a file, or stdin. At --speed max (or from a file) every line is read
    before the run starts, so `at` times hold exactly; a live run reads as lines come.
    A stdin that cannot be read any more stops the run, which then ends non-zero."""

    def __init__(self) -> None:
        self.failed: str | None = None
        self._stop: Callable[[], object] | None = None

    def attach(self, args: argparse.Namespace, pipeline: AcquisitionPipeline) -> None:
        if not args.commands:
            return
        if args.commands != "-":
            try:
                with open_regular(args.commands, "commands file") as stream:
                    read_commands(stream, pipeline.commands, _command_error)
            except OSError as exc:
                message = f"cannot read commands file '{args.commands}': {describe(exc)}"
                raise UsageError(message) from exc
        elif args.speed is None:
            try:
                read_commands(sys.stdin.buffer, pipeline.commands, _command_error)
            except OSError as exc:
                raise UsageError(f"cannot read commands from stdin: {describe(exc)}") from exc
        else:
            start_reader(sys.stdin.buffer, pipeline.commands, _command_error, self._fatal)

    def stop_with(self, stop: Callable[[], object]) -> None:
        self._stop = stop
        if self.failed is not None:
            stop()

    def _fatal(self, message: str) -> None:
        _command_error(f"{message}; stopping the run")
        self.failed = message
        if self._stop is not None:
            self._stop()


def source_meta(args: argparse.Namespace) -> dict[str, object]:
    """What the session file says about where its data came from."""
    nibp, resp = getattr(args, "nibp", None), getattr(args, "resp", None)
    capno = getattr(args, "capno", None)
    if args.oximeter or nibp or capno:
        ports = {"oximeter": args.oximeter, "nibp": nibp, "resp": resp, "capno": capno}
        return {"kind": "serial", **{k: v for k, v in ports.items() if v}}
    if args.sim and args.sim.startswith("wfdb:"):
        return {"kind": "wfdb", "record": args.sim[len("wfdb:") :], "speed": _speed_meta(args)}
    scenario = load_scenario("steady" if args.sim is None else args.sim)
    return {
        "kind": "simulator",
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "seed": args.seed,
        "speed": _speed_meta(args),
    }


def _speed_meta(args: argparse.Namespace) -> object:
    return "max" if args.speed is None else args.speed


def start_recorder(
    args: argparse.Namespace, source: Source, pipeline: AcquisitionPipeline, config: PipelineConfig
) -> SessionRecorder | None:
    """`--record FILE`; the GUI records every session by default and says where.

    A FILE the user named that cannot be created stops the run before it starts; the
    default recording failing raises RECORDING_FAILED and monitoring goes on.
    """
    if args.record is not None:
        bulk = not source.live and args.speed is None  # flat out: no one watches it go
        return SessionRecorder(args.record, pipeline, live=source.live, config=config, bulk=bulk)
    if args.headless:
        return None
    try:
        path = default_session_path()
        recorder = SessionRecorder(path, pipeline, live=source.live, config=config)
    except (VitalmonError, OSError) as exc:
        raise_recording_failed(pipeline, f"cannot record this session: {exc}")
        return None
    print(f"vitalmon: recording this session to {path}", file=sys.stderr)
    return recorder


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        require_display()
        apply_gui_settings(args)  # docs/central.md: the GUI's settings file
    preset = load_preset(args.preset)  # a bad preset is one line before any port opens
    hl7 = hl7_address(args)  # so is a bad --hl7 URL
    source = make_source(args)
    try:
        if args.nibp_interval is not None and "nibp" not in source.protocols:
            raise UsageError("--nibp-interval needs an NIBP module (--nibp PROTO:PORT or --sim)")
        config = make_config(args, source, preset)
        try:
            pipeline = build_pipeline(config)
        except ConfigError as exc:
            where = config.source.get("scenario_file") or config.source.get("scenario")
            raise UsageError(f"{where}: [[actions]]: {exc}") from exc
        commands = CommandReader()
        commands.attach(args, pipeline)
        runner = PipelineRunner(source, pipeline, duration_s=args.duration)
        commands.stop_with(runner.stop)
        on_fatal = (
            partial(_link_fatal, runner=runner)
            if args.headless
            else partial(link_refused_alarm, pipeline=pipeline)
        )
        publisher = make_publisher(args, pipeline, on_fatal)
        recorder = start_recorder(args, source, pipeline, config)
        sender = make_hl7_sender(hl7, pipeline, recorder.session_id if recorder else None)
    except BaseException:
        source.close()
        raise
    printer = None
    if args.headless:
        # At --speed max no one waits on each line: flush a few times a second instead.
        printer = JsonLinesWriter(sys.stdout, FLUSH_AT_MAX_S if args.speed is None else 0.0)
        pipeline.subscribe(printer)
    if publisher is not None:
        publisher.start()
    if sender is not None:
        sender.start()
    try:
        status = drive(runner, args.headless)
    finally:
        if sender is not None:
            sender.close()
        if publisher is not None:
            publisher.close()
        if recorder is not None:
            recorder.close()
        if printer is not None:
            printer.flush()
    failed = commands.failed is not None or (publisher is not None and publisher.fatal)
    return 1 if failed else status


def _link_fatal(message: str, runner: PipelineRunner) -> None:
    """The broker refused us (a wrong password): one line, and the run ends non-zero."""
    print(f"vitalmon: {message}", file=sys.stderr, flush=True)
    runner.stop()
