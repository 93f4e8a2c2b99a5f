"""`vitalmon report FILE --out report.pdf`: the end-of-session report (docs/clinical.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.recording.store import reading_to_write


def register(commands) -> argparse.ArgumentParser:
    report = commands.add_parser("report", help="the end-of-session report as a PDF")
    report.add_argument("file", metavar="FILE")
    report.add_argument("--out", required=True, metavar="PDF")
    return report


def run(args: argparse.Namespace) -> int:
    from monitor.recording.report import write_report

    out = Path(args.out)
    with reading_to_write(args.file, out) as reader:
        write_report(reader, out)
    print(out)
    return 0
