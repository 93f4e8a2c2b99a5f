"""Capnostat 5 stream decode throughput on one core (budget: >= 20 MB/s, docs/performance.md).

What a module sends in a session: 100 stream frames a second with a CO2 sample, a
status parameter once a second, EtCO2, rate and FiCO2 once a breath, a breath marker,
a rare reply, and 8 bytes of garbage every 3000 frames (so resync runs too); fed in
4 kB reads (64 kB with --chunk 65536, what `vitalmon decode` uses). CPU time, best of
--repeat runs.
Usage: python bench/capnostat_decode.py [--mb 8] [--chunk 4096] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import machine, verdict
from bench.decode import throughput
from drivers import capnostat as cs

BUDGET_MB_S = 20.0
GARBAGE_EVERY_FRAMES = 3000
GARBAGE = bytes([0x01, 0x85, 0x10, 0x7F, 0xFF, 0x00, 0x80, 0x33])


def make_stream(megabytes: float) -> bytes:
    """Encoded seconds of breathing at 15 /min, with garbage between blocks."""
    rng = np.random.default_rng(0)
    n = GARBAGE_EVERY_FRAMES
    t = np.arange(n) / cs.SAMPLE_RATE_HZ
    nan = np.full(n, np.nan, np.float32)
    etco2, rr, fico2 = nan.copy(), nan.copy(), nan.copy()
    breath = np.zeros(n, bool)
    status_frame = (np.arange(n) % 100) == 0
    breath_rows = np.arange(0, n, 400)
    breath[breath_rows + 1] = True
    etco2[breath_rows + 2] = 38.0
    rr[breath_rows + 3] = 15.0
    fico2[breath_rows + 4] = 0.3
    parts: list[bytes] = []
    size = 0
    encoder = cs.CapnostatEncoder()
    while size < megabytes * 1e6:
        co2 = np.clip(40 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 0.2, n), 0, None)
        batch = cs.CapnoBatch.build(
            co2, etco2_mmhg=etco2, fico2_mmhg=fico2, rr_bpm=rr, breath_detected=breath,
            status=np.full(n, int(cs.CapnoFlag.BREATH_OK)), status_frame=status_frame,
        )  # fmt: skip
        block = encoder.encode(batch) + cs.setting_reply(cs.Isb.CO2_UNITS, b"\x00") + GARBAGE
        parts.append(block)
        size += len(block)
    return b"".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=8.0)
    parser.add_argument("--chunk", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stream = make_stream(args.mb)
    rate, frames = throughput("capnostat", stream, args.chunk, args.repeat)
    print(f"machine: {machine()}")
    print(
        f"decode capnostat {rate:7.1f} MB/s ({len(stream) / 1e6:.1f} MB, {frames} frames, "
        f"{args.chunk} B reads, CPU time, best of {args.repeat}); budget >= "
        f"{BUDGET_MB_S:g} MB/s -> {verdict(rate, BUDGET_MB_S, lower_is_better=False)}"
    )
    return 0 if rate >= BUDGET_MB_S else 1


if __name__ == "__main__":
    sys.exit(main())
