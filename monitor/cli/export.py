"""`vitalmon export FILE --format csv|edf|wfdb|vital|hl7 --out PATH|-`: a session for other
tools.

All or nothing: written beside the target and renamed into place when complete
(monitor/recording/output.py); an existing file is kept unless `--force`; `-` is stdout.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.recording import export, interchange
from monitor.recording.output import STDOUT, staged_output
from monitor.recording.store import reading_to_write

EXPORTERS = {**export.EXPORTERS, **interchange.EXPORTERS}
CHECKS = {**export.CHECKS, **interchange.CHECKS}
MAKES_FOLDERS = export.MAKES_FOLDERS


def register(commands) -> argparse.ArgumentParser:
    export = commands.add_parser(
        "export", help="export a recorded session (CSV, EDF+, WFDB, Vital Recorder, HL7 v2)"
    )
    export.add_argument("file", metavar="FILE")
    export.add_argument("--format", choices=sorted(EXPORTERS), required=True)
    export.add_argument(
        "--out",
        required=True,
        metavar="PATH|-",
        help="file (csv, edf, vital, hl7; EDF+ split at gaps adds _partN), WFDB record path, "
        "or - (stdout)",
    )
    export.add_argument("--force", action="store_true", help="replace an existing file")
    return export


def run(args: argparse.Namespace) -> int:
    with (
        reading_to_write(args.file, Path(args.out)) as reader,
        staged_output(args.out, args.force, args.format in MAKES_FOLDERS) as stage,
    ):
        EXPORTERS[args.format](reader, stage.target)
        written = stage.finish(CHECKS.get(args.format))
    if args.out != STDOUT:
        for path in written:
            print(path)
    return 0
