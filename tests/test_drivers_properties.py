"""Property tests for every oximeter protocol (hypothesis).

- encode -> decode is the identity for any valid values;
- valid packets with random garbage between them decode to exactly the encoded
  values, whole, byte by byte (every boundary a split) and at random splits;
- random bytes alone never produce a value outside the protocol's range.
Example counts are modest so the suite stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from drivers.registry import make_decoder, make_encoder
from drivers.types import OximeterBatch, OximeterFlag
from tests.drivers_specs import SPECS, ProtocolSpec

PROTOCOLS = sorted(SPECS)
FAST = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass(frozen=True)
class Unit:
    """Rows sharing one set of numerics (one Nonin packet, or one frame elsewhere)."""

    pleth: tuple[int, ...]
    spo2: int | None
    pr: int | None
    pi: float | None
    flags: int

    def batch(self, rate: float) -> OximeterBatch:
        return OximeterBatch.constant(
            rate, list(self.pleth), self.spo2, self.pr, self.pi, self.flags
        )


@st.composite
def units(draw, spec: ProtocolSpec) -> Unit:
    lo, hi = spec.pleth or (0, 0)
    pleth = tuple(
        draw(
            st.lists(st.integers(lo, hi), min_size=spec.rows_per_unit, max_size=spec.rows_per_unit)
        )
    )
    spo2 = draw(st.none() | st.integers(0, 100))
    pr = draw(st.none() | st.integers(0, spec.pr_max))
    pi = None
    if spec.pi_max is not None:
        pi = draw(st.none() | st.integers(0, int(spec.pi_max * 100)).map(lambda v: v / 100))
    flags = 0
    for flag in spec.flags:
        if draw(st.booleans()):
            flags |= flag
    if spec.exclusive_flags:
        flags |= draw(st.sampled_from((0, *spec.exclusive_flags)))
    return Unit(pleth, spo2, pr, pi, flags)


def close(value: float | None, expected: float | None) -> bool:
    if expected is None:
        return value is None
    return value is not None and math.isclose(value, expected, abs_tol=0.006)


def assert_decodes_to(
    spec: ProtocolSpec,
    batch: OximeterBatch,
    expected: list[Unit],
    breaks: list[bool] | None = None,
) -> None:
    """`breaks[u]`: the byte stream breaks (garbage) before unit u. A new run must then
    confirm itself: of a run of `confirm_frames` or more, a frame is handed on from the
    `confirm_frames - hold_frames`-th on, once `hold_frames` more have followed it, so
    the run's first `confirm_frames - hold_frames - 1` and last `hold_frames` frames are
    not in the batch at all (units are at least `confirm_frames` long)."""
    rows = spec.rows_per_unit
    breaks = breaks or [True] + [False] * (len(expected) - 1)
    n = len(expected)
    head = [spec.confirm_frames - spec.hold_frames - 1
            if starts_run(spec, expected, breaks, u) else 0 for u in range(n)]  # fmt: skip
    tail = [spec.hold_frames
            if u + 1 == n or starts_run(spec, expected, breaks, u + 1) else 0
            for u in range(n)]  # fmt: skip
    shown = [rows - head[u] - tail[u] for u in range(n)]
    assert len(batch) == sum(shown), (len(batch), shown)
    end = 0
    for u, unit in enumerate(expected):
        first, end = end, end + shown[u]
        for row, r in zip(range(first, end), range(head[u], rows - tail[u]), strict=True):
            frame = batch[row]
            if spec.pleth is None:
                assert frame.pleth is None, (u, r, frame)
            else:
                assert frame.pleth == unit.pleth[r], (u, r, frame)
        last = batch[end - 1]
        assert close(last.spo2_percent, unit.spo2), (u, last, unit)
        assert close(last.pulse_rate_bpm, unit.pr), (u, last, unit)
        assert close(last.perfusion_index_percent, unit.pi), (u, last, unit)
        assert last.flags & ~OximeterFlag.PACKET_START == unit.flags, (u, last, unit)


def starts_run(spec: ProtocolSpec, units: list[Unit], breaks: list[bool], u: int) -> bool:
    """Does unit u begin a new back-to-back run (which must confirm itself)?"""
    if u == 0 or breaks[u]:
        return True
    if spec.follow_limits is None:
        return False
    (spo2_limit, pr_limit), prev, unit = spec.follow_limits, units[u - 1], units[u]

    def jumps(a: int | None, b: int | None, limit: int) -> bool:
        return a is not None and b is not None and abs(a - b) > limit

    return jumps(prev.spo2, unit.spo2, spo2_limit) or jumps(prev.pr, unit.pr, pr_limit)


def encode_units(spec: ProtocolSpec, items: list[Unit]) -> list[bytes]:
    encoder = make_encoder(spec.name)
    return [encoder.encode(unit.batch(encoder.sample_rate_hz)) for unit in items]


def decode(spec: ProtocolSpec, parts: list[bytes]) -> OximeterBatch:
    decoder = make_decoder(spec.name)
    out = [decoder.feed(p) for p in parts]
    return OximeterBatch.concat([*out, OximeterBatch.empty(decoder.sample_rate_hz)])


@pytest.mark.parametrize("name", PROTOCOLS)
@FAST
@given(data=st.data())
def test_encode_decode_is_identity(name: str, data) -> None:
    spec = SPECS[name]
    items = data.draw(st.lists(units(spec), min_size=1, max_size=4))
    assert_decodes_to(spec, decode(spec, [b"".join(encode_units(spec, items))]), items)


@pytest.mark.parametrize("name", PROTOCOLS)
@FAST
@given(data=st.data())
def test_garbage_between_packets_split_anywhere(name: str, data) -> None:
    spec = SPECS[name]
    items = data.draw(st.lists(units(spec), min_size=1, max_size=3))
    encoded = encode_units(spec, items)
    garbage = data.draw(
        st.lists(st.binary(max_size=12), min_size=len(items) + 1, max_size=len(items) + 1)
    )
    stream_parts: list[bytes] = []
    for i, packet in enumerate(encoded):
        assume(not spec.garbage_forms_frame(garbage[i], packet))
        stream_parts += [garbage[i], packet]
    assume(not spec.garbage_forms_frame(garbage[-1], b""))
    if spec.frame_test is None:  # text: a trailing line needs its newline to count
        garbage[-1] += b"\n"
    stream = b"".join([*stream_parts, garbage[-1]])

    breaks = [bool(g) for g in garbage[: len(items)]]
    assert_decodes_to(spec, decode(spec, [stream]), items, breaks)
    assert_decodes_to(spec, decode(spec, [bytes([b]) for b in stream]), items, breaks)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert_decodes_to(spec, decode(spec, pieces), items, breaks)


@pytest.mark.parametrize("name", PROTOCOLS)
@settings(max_examples=40, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=4))
def test_random_bytes_stay_in_range(name: str, chunks: list[bytes]) -> None:
    spec = SPECS[name]
    decoder = make_decoder(name)
    for chunk in chunks:
        out = decoder.feed(chunk)
        assert_in_range(spec, out)


def assert_in_range(spec: ProtocolSpec, out: OximeterBatch) -> None:
    def finite(col: np.ndarray) -> np.ndarray:
        return col[np.isfinite(col)]

    assert np.all((finite(out.spo2_percent) >= 0) & (finite(out.spo2_percent) <= 100))
    assert np.all((finite(out.pulse_rate_bpm) >= 0) & (finite(out.pulse_rate_bpm) <= spec.pr_max))
    pi = finite(out.perfusion_index_percent)
    if spec.pi_max is None:
        assert len(pi) == 0
    else:
        assert np.all((pi >= 0) & (pi <= spec.pi_max))
    pleth = finite(out.pleth)
    if spec.pleth is None:
        assert len(pleth) == 0
    else:
        assert np.all((pleth >= spec.pleth[0]) & (pleth <= spec.pleth[1]))


@pytest.mark.parametrize("name", PROTOCOLS)
def test_a_megabyte_of_noise_never_raises_and_stays_in_range(name: str) -> None:
    rng = np.random.default_rng(7)
    decoder = make_decoder(name)
    for size in (1, 7, 4096, 100_000, 1_000_000):
        out = decoder.feed(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        assert_in_range(SPECS[name], out)
    assert decoder.counters.bytes_in == 1 + 7 + 4096 + 100_000 + 1_000_000
