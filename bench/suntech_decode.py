"""SunTech response decode throughput on one core (docs/architecture.md budget: >= 20 MB/s).

A realistic mix of what a module sends during measurements (cuff pressure,
BP data, acks), fed in 4 kB reads as a serial port would deliver it.
Usage: python bench/suntech_decode.py [--mb 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import machine, verdict
from drivers.suntech import (
    Ack,
    BpDataResponse,
    SuntechResponseDecoder,
    encode_ack,
    encode_bp_data,
    encode_cuff_pressure,
)

BUDGET_MB_S = 20.0
READ_SIZE = 4096


def stream(megabytes: float) -> bytes:
    rng = np.random.default_rng(0)
    bp = encode_bp_data(BpDataResponse(121, 79, 0, 1, bytes(8), 71, 93, 0))
    pieces: list[bytes] = []
    size = 0
    while size < megabytes * 1e6:
        pick = rng.random()
        if pick < 0.8:
            piece = encode_cuff_pressure(int(rng.integers(0, 300)))
        elif pick < 0.95:
            piece = bp
        else:
            piece = encode_ack(Ack.OK)
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=8.0)
    args = parser.parse_args()
    data = stream(args.mb)
    decoder = SuntechResponseDecoder()
    frames = 0
    start = time.perf_counter()
    for at in range(0, len(data), READ_SIZE):
        frames += len(decoder.feed(data[at : at + READ_SIZE]))
    wall = time.perf_counter() - start
    rate = len(data) / wall / 1e6
    assert decoder.counters.bytes_dropped == 0, decoder.counters
    print(f"machine: {machine()}")
    print(
        f"decode suntech: {rate:.1f} MB/s ({frames} frames, {len(data) / 1e6:.1f} MB, "
        f"{READ_SIZE}-byte reads); budget {BUDGET_MB_S:.0f} MB/s -> "
        f"{verdict(rate, BUDGET_MB_S, lower_is_better=False)}"
    )


if __name__ == "__main__":
    main()
