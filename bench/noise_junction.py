"""Rows noise invents right after a device's frames, per 100 000 junctions (per oximeter).

docs/reliability.md ("Noise right after (or right before) a device's frame") quotes it.
Blocks of a device's frames (SpO2 97, PR 72, pleth 50) each followed by random bytes:
bytes that happen to form a frame that agrees with the device's last one once continued
its believed run; now a frame is handed on only once `hold_frames` more of its run have
followed it, so such noise must form several linked frames. Any row with another SpO2,
PR or pleth is invented. Noise alone never reaches this case.
Usage: python bench/noise_junction.py [--junctions 100000] [--noise 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.registry import get_protocol, make_decoder, make_encoder, protocol_names
from drivers.types import OximeterBatch

SPO2, PR, PLETH = 97, 72, 50
PER_FEED = 1000  # junctions decoded per feed


def invented(name: str, junctions: int, noise: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    encoder = make_encoder(name)
    frames = 50 if name in ("nonin2", "nonin7") else 10  # two Nonin packets; else 10 frames
    has_pi = name in ("contec7", "masimo")
    decoder = make_decoder(name)
    count = 0
    for _ in range(max(1, junctions // PER_FEED)):
        parts = []
        for _ in range(PER_FEED):
            batch = OximeterBatch.constant(
                encoder.sample_rate_hz, [PLETH] * frames, SPO2, PR, 1.0 if has_pi else None
            )
            parts += [encoder.encode(batch), rng.integers(0, 256, noise, np.uint8).tobytes()]
        out = decoder.feed(b"".join(parts))
        bad = (np.nan_to_num(out.spo2_percent, nan=SPO2) != SPO2) | (
            np.nan_to_num(out.pulse_rate_bpm, nan=PR) != PR
        )
        bad |= np.nan_to_num(out.pleth, nan=PLETH) != PLETH
        count += int(bad.sum())
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junctions", type=int, default=100_000)
    parser.add_argument("--noise", type=int, default=20, help="random bytes after each block")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in protocol_names():
        if get_protocol(name).kind != "oximeter" or name == "nonin":
            continue
        count = invented(name, args.junctions, args.noise, args.seed)
        row = {"protocol": name, "junctions": args.junctions, "invented_rows": count}
        print(json.dumps(row | {"per_100k": round(count * 100_000 / args.junctions, 1)}))


if __name__ == "__main__":
    main()
