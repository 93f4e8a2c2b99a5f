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

from drivers.registry import make_decoder, protocol_names
from drivers.types import OximeterBatch


def values_in(batch: object) -> int:
    """Finite values of every kind a batch carries (numerics and waveform samples)."""
    if isinstance(batch, OximeterBatch):
        columns = [batch.pleth, batch.spo2_percent, batch.pulse_rate_bpm]
        columns.append(batch.perfusion_index_percent)
    else:
        columns = [getattr(batch, name) for name in ("wave", "rr_bpm") if hasattr(batch, name)]
    return sum(int(np.isfinite(column).sum()) for column in columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    data = rng.integers(0, 256, int(args.mb * 1e6), dtype=np.uint8).tobytes()
    for name in protocol_names():
        if name == "suntech":
            continue  # answers only to the host's commands: no stream to decode
        decoder = make_decoder(name)
        values = 0
        for i in range(0, len(data), 4096):
            values += values_in(decoder.feed(data[i : i + 4096]))
        row = {"protocol": name, "mb": args.mb, "values_per_mb": values / args.mb}
        print(json.dumps(row | decoder.counters.to_json()))


if __name__ == "__main__":
    main()
