"""`vitalmon export FILE --format csv|edf|wfdb --out PATH`: a session for other tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.recording.export import EXPORTERS
from monitor.recording.store import reading_to_write


def register(commands) -> argparse.ArgumentParser:
    export = commands.add_parser("export", help="export a recorded session (CSV, EDF+, WFDB)")
    export.add_argument("file", metavar="FILE")
    export.add_argument("--format", choices=sorted(EXPORTERS), required=True)
    export.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="file (csv, edf; EDF+ split at gaps adds _partN) or WFDB record path",
    )
    return export


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    with reading_to_write(args.file, out) as reader:
        written = EXPORTERS[args.format](reader, out)
    for path in written:
        print(path)
    return 0
