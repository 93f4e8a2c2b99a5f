"""Values per megabyte of random bytes, per protocol: the figure must be 0.

docs/reliability.md ("Noise") quotes it. Random bytes are what a line gives with no
device on it, a wrong baud rate, or a broken cable; a decoder that makes a value of
them invents a vital sign. Usage: python bench/noise.py [--mb 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.capnostat import CapnoBatch
from drivers.registry import make_decoder, protocol_names
from drivers.types import OximeterBatch, RespBatch


def values_in(batch: object) -> int:
    """Finite values of every kind a batch carries (numerics and waveform samples)."""
    if isinstance(batch, OximeterBatch):
        columns = [batch.pleth, batch.spo2_percent, batch.pulse_rate_bpm]
        columns.append(batch.perfusion_index_percent)
    elif isinstance(batch, RespBatch):
        columns = [batch.wave, batch.rr_bpm, batch.since_breath_s]
    elif isinstance(batch, CapnoBatch):
        columns = [batch.co2_mmhg, batch.etco2_mmhg, batch.fico2_mmhg, batch.rr_bpm]
    else:
        raise TypeError(f"no value count for {type(batch).__name__}")
    return sum(int(np.isfinite(column).sum()) for column in columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--protocols", nargs="*", help="these only (default: all)")
    args = parser.parse_args()
    names = [n for n in protocol_names() if n != "suntech"]  # suntech only answers
    for name in args.protocols or names:
        rng = np.random.default_rng(args.seed)  # the same bytes for every protocol
        decoder = make_decoder(name)
        values = 0
        left = int(args.mb * 1e6)
        while left > 0:  # a megabyte at a time: any --mb fits in memory
            data = rng.integers(0, 256, min(left, 1 << 20), dtype=np.uint8).tobytes()
            left -= len(data)
            for i in range(0, len(data), 4096):
                values += values_in(decoder.feed(data[i : i + 4096]))
        row = {"protocol": name, "mb": args.mb, "values_per_mb": values / args.mb}
        print(json.dumps(row | decoder.counters.to_json()))


if __name__ == "__main__":
    main()
