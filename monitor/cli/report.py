"""`vitalmon report FILE --out report.pdf|-`: the end-of-session report (docs/clinical.md).

Written beside the target and renamed into place when complete, like an export."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.recording.output import STDOUT, staged_output
from monitor.recording.store import reading_to_write


def register(commands) -> argparse.ArgumentParser:
    report = commands.add_parser("report", help="the end-of-session report as a PDF")
    report.add_argument("file", metavar="FILE")
    report.add_argument("--out", required=True, metavar="PDF|-")
    report.add_argument("--force", action="store_true", help="replace an existing file")
    return report


def run(args: argparse.Namespace) -> int:
    from monitor.recording.report import write_report

    with (
        reading_to_write(args.file, Path(args.out)) as reader,
        staged_output(args.out, args.force) as stage,
    ):
        write_report(reader, stage.target)
        written = stage.finish()
    if args.out != STDOUT:
        print(written[0])
    return 0
