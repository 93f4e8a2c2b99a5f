"""`make bench`: every benchmark script in turn, each printing its figure and budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "simulate.py",
    "decode.py",
    "suntech_decode.py",
    "replay.py",
    "alarms.py",
    "gui.py",
    "killrecorder.py",
    "soak.py",
]


def main() -> int:
    failed = 0
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / script)])
    return failed


if __name__ == "__main__":
    sys.exit(main())
