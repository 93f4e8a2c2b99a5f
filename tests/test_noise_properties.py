"""No value from noise, for every streaming protocol (docs/reliability.md, "Noise").

Property tests (hypothesis) over every oximeter protocol, `simresp` and `capnostat`:

- random bytes alone, in any split, give no frame and no value at all;
- random bytes around a device's frames give only values that were encoded (SpO2, PR,
  PI, pleth; the respiration wave and rate; CO2, EtCO2, FiCO2, rate), never one noise
  made.

The bytes are uniformly random (numpy, seeded by hypothesis): a strategy's bytes lean to
zeros and repeats, which is no line noise. Hypothesis explores freely (no fixed
examples): bytes right after a device's last frame that happen to form a frame agreeing
with it once continued its run (about 1 in 1 000 junctions of noise and frames for
nonin8), but a frame is now handed on only once `hold_frames` more of its run have
followed it, so such noise must itself form two or three linked frames, which
`python bench/noise_junction.py` never saw in 300 000 junctions per protocol
(docs/reliability.md, "Noise").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.capnostat import CapnoBatch, CapnostatDecoder, CapnostatEncoder
from drivers.registry import make_decoder, make_encoder
from drivers.simresp import WAVE_FULL_SCALE
from drivers.types import OximeterBatch, RespBatch
from tests.drivers_specs import SPECS

CHECK = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
Values = dict[str, set[int]]


def scaled(column: np.ndarray, scale: float) -> set[int]:
    """The finite values of a column as whole numbers at the field's resolution."""
    finite = np.asarray(column, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return {int(v) for v in np.round(finite * scale)}


@dataclass(frozen=True)
class Protocol:
    """How to make, encode and read one protocol's values in these tests."""

    name: str
    unit: Callable[[np.random.Generator], object]  # a device's batch of a few frames
    encoder: Callable[[], object]
    decoder: Callable[[], object]
    values: Callable[[object], Values]


def oximeter(name: str) -> Protocol:
    spec = SPECS[name]
    # Twice the frames a new run needs to be believed, so every unit shows (not vacuous).
    rows = 2 * max(spec.rows_per_unit, spec.confirm_frames)

    def unit(rng: np.random.Generator) -> object:
        rate = make_encoder(name).sample_rate_hz
        lo, hi = spec.pleth or (0, 0)
        pi = None
        if spec.pi_max is not None:
            pi = float(rng.integers(0, int(spec.pi_max * 100))) / 100
        return OximeterBatch.constant(
            rate,
            rng.integers(lo, hi + 1, rows).tolist(),
            int(rng.integers(50, 101)),
            int(rng.integers(30, 250)),
            pi,
        )

    def values(batch: object) -> Values:
        assert isinstance(batch, OximeterBatch)
        out = {
            "spo2": scaled(batch.spo2_percent, 1),
            "pr": scaled(batch.pulse_rate_bpm, 1),
            "pi": scaled(batch.perfusion_index_percent, 100),
        }
        if spec.pleth is not None:
            out["pleth"] = scaled(batch.pleth, 1)
        return out

    return Protocol(name, unit, lambda: make_encoder(name), lambda: make_decoder(name), values)


def resp_unit(rng: np.random.Generator) -> object:
    n = 6
    wave = rng.integers(-WAVE_FULL_SCALE, WAVE_FULL_SCALE + 1, n) / WAVE_FULL_SCALE
    rr = np.full(n, float(rng.integers(0, 60)), dtype=np.float32)
    since = np.full(n, float(rng.integers(0, 30)), dtype=np.float32)
    return RespBatch(25.0, wave.astype(np.float32), rr, since, np.zeros(n, dtype=np.uint8))


def resp_values(batch: object) -> Values:
    assert isinstance(batch, RespBatch)
    return {
        "wave": scaled(batch.wave, WAVE_FULL_SCALE),
        "rr": scaled(batch.rr_bpm, 1),
        "since": scaled(batch.since_breath_s, 1),
    }


def capno_unit(rng: np.random.Generator) -> object:
    n = 6
    nan = float("nan")
    kinds = rng.integers(0, 4, n)  # none, EtCO2, rate, FiCO2 on each frame
    return CapnoBatch.build(
        rng.integers(0, 6000, n) / 100,
        etco2_mmhg=[float(rng.integers(0, 600)) / 10 if k == 1 else nan for k in kinds],
        rr_bpm=[float(rng.integers(0, 60)) if k == 2 else nan for k in kinds],
        fico2_mmhg=[float(rng.integers(0, 100)) / 10 if k == 3 else nan for k in kinds],
    )


def capno_values(batch: object) -> Values:
    assert isinstance(batch, CapnoBatch)
    return {
        "co2": scaled(batch.co2_mmhg, 100),
        "etco2": scaled(batch.etco2_mmhg, 10),
        "fico2": scaled(batch.fico2_mmhg, 10),
        "rr": scaled(batch.rr_bpm, 1),
    }


PROTOCOLS: dict[str, Protocol] = {
    **{name: oximeter(name) for name in sorted(SPECS)},
    "simresp": Protocol(
        "simresp",
        resp_unit,
        lambda: make_encoder("simresp"),
        lambda: make_decoder("simresp"),
        resp_values,
    ),
    "capnostat": Protocol(
        "capnostat", capno_unit, CapnostatEncoder, CapnostatDecoder, capno_values
    ),
}


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted(c % (len(data) + 1) for c in cuts)
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def decode_all(protocol: Protocol, parts: list[bytes]) -> list[object]:
    decoder = protocol.decoder()
    return [decoder.feed(part) for part in parts]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@CHECK
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(0, 40_000),
    cuts=st.lists(st.integers(0, 40_000), max_size=6),
)
def test_random_bytes_alone_give_no_frame_and_no_value(
    name: str, seed: int, size: int, cuts: list[int]
) -> None:
    protocol = PROTOCOLS[name]
    noise = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    for batch in decode_all(protocol, pieces(noise, cuts)):
        assert len(batch) == 0, (name, batch)  # type: ignore[arg-type]
        assert not any(protocol.values(batch).values())


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@CHECK
@given(
    seed=st.integers(0, 2**32 - 1),
    units=st.integers(1, 4),
    noise_max=st.integers(1, 400),
    cuts=st.lists(st.integers(0, 100_000), max_size=6),
)
def test_random_bytes_around_frames_give_only_encoded_values(
    name: str, seed: int, units: int, noise_max: int, cuts: list[int]
) -> None:
    protocol = PROTOCOLS[name]
    rng = np.random.default_rng(seed)
    encoder = protocol.encoder()
    encoded: Values = {}
    stream = b""
    for _ in range(units):
        batch = protocol.unit(rng)
        for key, values in protocol.values(batch).items():
            encoded.setdefault(key, set()).update(values)
        noise = rng.integers(0, 256, int(rng.integers(0, noise_max + 1)), dtype=np.uint8)
        stream += noise.tobytes() + encoder.encode(batch)  # type: ignore[attr-defined]
    stream += rng.integers(0, 256, noise_max, dtype=np.uint8).tobytes()
    if name == "masimo":
        stream += b"\r\n"  # the last line counts once it ends
    shown = 0
    for batch in decode_all(protocol, pieces(stream, cuts)):
        shown += len(batch)  # type: ignore[arg-type]
        for key, values in protocol.values(batch).items():
            invented = values - encoded.get(key, set())
            assert not invented, (name, key, sorted(invented)[:5])
    assert shown > 0  # the device's own frames do come through
