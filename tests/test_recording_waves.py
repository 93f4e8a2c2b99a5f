"""Waveform blocks from the pipeline's ring buffers: contiguous slices join, a jump in
time or samples lost to a full ring start a new block, and any channel exposing a
waveform in the GUI contract (`pleth`, resp `wave`) is tapped."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.recording.waves import BlockBuilder, WaveTap, taps_for
from monitor.ringbuffer import RingBuffer


def _feed(ring: RingBuffer, tap: WaveTap, builder: BlockBuilder, n: int, t_last: float):
    ring.extend(np.arange(n, dtype=np.float32))
    piece = tap.take(t_last)
    assert piece is not None
    return builder.add(piece)


def test_contiguous_slices_join_and_a_jump_starts_a_block() -> None:
    ring = RingBuffer(100)
    tap = WaveTap("resp", "resp", ring, 25.0)
    builder = BlockBuilder("resp", "resp", 25.0)
    assert _feed(ring, tap, builder, 25, 1.0) == []
    assert _feed(ring, tap, builder, 25, 2.0) == []
    assert tap.take(2.0) is None  # nothing new
    (done,) = _feed(ring, tap, builder, 25, 5.0)  # 2 s later than the samples say
    assert done.t0 == pytest.approx(1.0 - 24 / 25) and len(done.samples) == 50
    (rest,) = builder.flush()
    assert rest.t0 == pytest.approx(5.0 - 24 / 25) and len(rest.samples) == 25


def test_samples_lost_to_a_full_ring_start_a_new_block() -> None:
    ring = RingBuffer(10)
    tap = WaveTap("oximeter", "pleth", ring, 10.0)
    builder = BlockBuilder("oximeter", "pleth", 10.0)
    _feed(ring, tap, builder, 5, 0.5)
    ring.extend(np.zeros(30, dtype=np.float32))
    piece = tap.take(3.5)
    assert piece is not None and piece.lost == 20 and len(piece.samples) == 10
    (done,) = builder.add(piece)
    assert len(done.samples) == 5


def test_taps_follow_the_gui_contract_attributes() -> None:
    class Resp:
        wave = RingBuffer(10)
        wave_rate_hz = 25.0

    class Oximeter:
        pleth = RingBuffer(10)
        pleth_rate_hz = 75.0

    taps = taps_for({"oximeter": Oximeter(), "resp": Resp(), "nibp": object()})
    assert [(t.channel, t.signal, t.rate_hz) for t in taps] == [
        ("oximeter", "pleth", 75.0),
        ("resp", "resp", 25.0),
    ]
