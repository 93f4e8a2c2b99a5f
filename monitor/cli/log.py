"""`vitalmon log FILE --alarms|--events|--numerics`: a session's records, as headless printed
them (JSON lines) or as CSV."""

from __future__ import annotations

import argparse
import sys

from monitor.headless import JsonLinesWriter
from monitor.recording.store import SessionReader
from monitor.recording.tables import write_csv


def register(commands) -> argparse.ArgumentParser:
    log = commands.add_parser("log", help="print a recorded session's alarms, events or numerics")
    log.add_argument("file", metavar="FILE")
    which = log.add_mutually_exclusive_group(required=True)
    # flag -> record type
    for flag, kind in (("alarms", "alarm"), ("events", "event"), ("numerics", "numerics"),
                       ("nibp", "nibp"), ("commands", "command")):
        which.add_argument(f"--{flag}", dest="kind", action="store_const", const=kind)
    log.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    return log


def run(args: argparse.Namespace) -> int:
    with SessionReader(args.file) as reader:
        records = reader.records(args.kind)
    if args.format == "csv":
        write_csv(records, sys.stdout)
    else:
        out = JsonLinesWriter(sys.stdout)
        for record in records:
            out(record)
    return 0
