"""`vitalmon replay FILE`: a recorded session through the real decoders again."""

from __future__ import annotations

import argparse
import sys

from monitor.cli.common import drive, require_display, speed_arg
from monitor.headless import JsonLinesWriter
from monitor.pipeline import PipelineRunner
from monitor.recording.replay import ReplaySource, pipeline_for
from monitor.recording.store import SessionReader


def register(commands) -> argparse.ArgumentParser:
    replay = commands.add_parser("replay", help="replay a recorded session (GUI or --headless)")
    replay.add_argument("file", metavar="FILE")
    replay.add_argument("--speed", type=speed_arg, default=1.0, metavar="N|max")
    replay.add_argument("--headless", action="store_true", help="no window; JSON lines on stdout")
    return replay


def run(args: argparse.Namespace) -> int:
    if not args.headless:  # the bedside screen with replay controls (play, speed, seek)
        require_display()
        with SessionReader(args.file):  # a bad file is one line, before any window or Qt
            pass
        from monitor.ui.app import run_replay_gui

        return run_replay_gui(args.file, args.speed)
    source = ReplaySource(args.file, speed=args.speed)
    try:
        pipeline = pipeline_for(source.reader)
        source.attach(pipeline)
        if args.headless:
            pipeline.subscribe(JsonLinesWriter(sys.stdout))
        return drive(PipelineRunner(source, pipeline), args.headless)
    finally:
        source.release()
