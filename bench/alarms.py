"""The alarm engine's cost per record: an 8-hour session of numerics with alarms coming and going.

Budget (docs/architecture.md): an alarm shown < 250 ms after its condition delay has passed.
The engine decides on the record that completes the delay, so its worst time per
record is the engine's share of that latency; the 8-hour total is its share of
the 30 s replay budget.
Usage: python bench/alarms.py [--hours 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, verdict
from monitor.alarms import AlarmEngine, load_preset
from monitor.commands import CommandBus

LATENCY_BUDGET_MS = 250.0


def numerics(t: int) -> dict:
    # Every 10 minutes: 2 minutes of desaturation and tachycardia, so alarms start and end.
    episode = t % 600 >= 480
    return {
        "type": "numerics",
        "t": float(t),
        "spo2": 84 if episode else 97,
        "pr": 135 if episode else 72,
        "pi": 3.0,
        "spo2_state": "valid",
        "pr_state": "valid",
        "oximeter_status": [],
        "oximeter_last_frame_t": float(t),
        "rr": 14,
        "rr_state": "valid",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=8.0)
    args = parser.parse_args()
    records: list[dict] = []
    engine = AlarmEngine(load_preset(), records.append, CommandBus())
    seconds = int(args.hours * 3600)
    worst = 0.0
    start = time.perf_counter()
    for t in range(1, seconds + 1):
        record = numerics(t)
        before = time.perf_counter()
        engine.on_record(record)
        worst = max(worst, time.perf_counter() - before)
        if t % 600 == 599:
            engine.acknowledge({}, float(t))
    total = time.perf_counter() - start
    print(f"machine: {machine()}")
    print(
        f"alarm engine {args.hours:g} h: {total:.2f} s for {seconds} numerics records "
        f"({total / seconds * 1e6:.0f} us each), {len(records)} alarm records; "
        f"worst record {worst * 1e3:.2f} ms; budget {LATENCY_BUDGET_MS:.0f} ms -> "
        f"{verdict(worst * 1e3, LATENCY_BUDGET_MS)}"
    )


if __name__ == "__main__":
    main()
