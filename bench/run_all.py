"""`make bench`: every benchmark script in turn, each printing its figure and budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["simulate.py", "--scenario", "infusion"],
    # The user's own command (printing and recording) against the bench, side by side.
    ["userpath.py", "--rounds", "1"],
    ["decode.py"],
    ["suntech_decode.py"],
    ["capnostat_decode.py"],
    ["replay.py", "--scenario", "infusion"],
    # A session recorded at real time (40 ms chunks), as QA gets them: ~7 min to record.
    ["replay.py", "--scenario", "infusion", "--live-steps"],
    ["alarms.py"],
    ["gui.py"],
    ["killrecorder.py"],
    ["soak.py"],
    ["central.py"],
]


def main() -> int:
    failed = 0
    for script, *args in SCRIPTS:
        print(f"== {script} {' '.join(args)}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / script), *args])
    return failed


if __name__ == "__main__":
    sys.exit(main())
