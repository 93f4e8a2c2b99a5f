"""Seconds of data lost to a `kill -9` of a recording run.

Budget (docs/architecture.md): a `kill -9` loses at most the last second, and the file opens.
Runs `vitalmon run --sim steady --headless --record FILE` in real time, kills it with
SIGKILL at a different point of a second each round, and compares the data time at
the moment of the kill (the last numerics line printed, plus the wall time since it
arrived) with the last data time in the file: the raw chunks, the numerics, the
pleth blocks. Prints the worst loss over the rounds, the budget and the machine.
Usage: python bench/killrecorder.py [--rounds 5] [--seconds 4]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, verdict
from monitor.recording.store import SessionReader

BUDGET_S = 1.0
REPO = Path(__file__).resolve().parent.parent


def one_round(path: Path, run_s: float, offset_s: float) -> dict[str, float]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--sim", "steady", "--headless", "--record", path],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    last_t, arrived = 0.0, time.monotonic()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            record = json.loads(line)
            if record["type"] == "numerics":
                last_t, arrived = record["t"], time.monotonic()
                if last_t >= run_s:
                    break
        time.sleep(offset_s)
        killed = time.monotonic()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    at_kill = last_t + (killed - arrived)  # speed 1: data time runs with the wall clock
    with SessionReader(path) as reader:  # it opens: that is half the budget
        numerics = reader.records("numerics")
        raw_end = reader.duration_s()
        blocks = reader.wave_blocks()
    return {
        "at_kill": at_kill,
        "raw": at_kill - raw_end,
        "numerics": at_kill - (numerics[-1]["t"] if numerics else 0.0),
        "pleth": at_kill - (blocks[-1].t_end if blocks else 0.0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0, help="run this long before a kill")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.rounds):
            offset = (i + 0.5) / args.rounds  # spread the kills over a second
            result = one_round(Path(folder) / f"k{i}.vitalmon", args.seconds, offset)
            results.append(result)
            print(
                f"round {i + 1}: killed at data time {result['at_kill']:.2f} s; lost: raw "
                f"{result['raw']:.2f} s, numerics {result['numerics']:.2f} s, "
                f"pleth {result['pleth']:.2f} s"
            )
    worst_raw = max(r["raw"] for r in results)
    worst_numerics = max(r["numerics"] for r in results)
    worst = max(worst_raw, max(r["pleth"] for r in results))
    print(f"machine: {machine()}")
    print(
        f"kill -9 of a recording run, {args.rounds} rounds: worst loss {worst:.2f} s of raw "
        f"bytes/pleth ({worst_raw:.2f} s raw), {worst_numerics:.2f} s of numerics "
        f"(a numerics record closes each whole second); every file opened; budget "
        f"<= {BUDGET_S:g} s -> {verdict(worst, BUDGET_S)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
