"""Waveform blocks from the pipeline's ring buffers: contiguous looks join, a jump in
time starts a new block, samples a full ring overwrote are lost but the rest keep
their time, and any channel exposing a waveform in the GUI contract (`pleth`, resp
`wave`, `co2`) is tapped."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.recording.store import WaveBlock
from monitor.recording.waves import BLOCK_MAX_S, WaveTap, taps_for
from monitor.ringbuffer import RingBuffer


def _write(ring: RingBuffer, tap: WaveTap, first: int, n: int, t_last: float) -> list[WaveBlock]:
    ring.extend(np.arange(first, first + n, dtype=np.float32))
    return tap.look(t_last)


def test_contiguous_looks_join_and_a_jump_starts_a_block() -> None:
    ring = RingBuffer(100)
    tap = WaveTap("resp", "resp", ring, 25.0)
    assert _write(ring, tap, 0, 25, 1.0) == []
    assert _write(ring, tap, 25, 25, 2.0) == []
    assert tap.look(2.0) == []  # nothing new
    (done,) = _write(ring, tap, 50, 25, 5.0)  # 2 s later than the samples say
    assert done.t0 == pytest.approx(1.0 - 24 / 25)
    assert done.samples.tolist() == list(range(50))
    (rest,) = tap.flush()
    assert rest.t0 == pytest.approx(5.0 - 24 / 25)
    assert rest.samples.tolist() == list(range(50, 75))
    assert tap.flush() == []


def test_a_flush_keeps_the_timeline_going() -> None:
    ring = RingBuffer(100)
    tap = WaveTap("oximeter", "pleth", ring, 10.0)
    _write(ring, tap, 0, 10, 0.9)
    (first,) = tap.flush()
    _write(ring, tap, 10, 10, 1.9)
    (second,) = tap.flush()
    assert first.t0 == pytest.approx(0.0) and second.t0 == pytest.approx(first.t_end)
    assert second.samples.tolist() == list(range(10, 20))


def test_a_block_is_cut_at_its_longest() -> None:
    rate = 10.0
    ring = RingBuffer(int(2 * BLOCK_MAX_S * rate))
    tap = WaveTap("oximeter", "pleth", ring, rate)
    blocks: list[WaveBlock] = []
    for second in range(int(BLOCK_MAX_S) + 5):
        blocks += _write(ring, tap, second * 10, 10, second + 0.9)
    (block,) = blocks
    assert len(block.samples) == BLOCK_MAX_S * rate and block.t0 == pytest.approx(0.0)
    (rest,) = tap.flush()
    assert rest.t0 == pytest.approx(BLOCK_MAX_S) and rest.samples[0] == BLOCK_MAX_S * rate


def test_samples_a_full_ring_overwrote_are_lost_and_the_rest_keep_their_time() -> None:
    ring = RingBuffer(10)
    tap = WaveTap("oximeter", "pleth", ring, 10.0)
    _write(ring, tap, 0, 5, 0.4)  # samples 0-4 at 0.0-0.4 s, not yet copied
    blocks = _write(ring, tap, 5, 30, 3.4)  # 5-34 at 0.5-3.4 s: the ring keeps 25-34
    assert blocks == []  # the open block had nothing left
    (block,) = tap.flush()
    assert block.samples.tolist() == list(range(25, 35))
    assert block.t0 == pytest.approx(2.5)


def test_ring_span_returns_what_the_ring_still_holds() -> None:
    ring = RingBuffer(8)
    ring.extend(np.arange(13, dtype=np.float32))  # holds 5-12, wrapped
    samples, first = ring.span(3, 10)
    assert first == 5 and samples.tolist() == [5, 6, 7, 8, 9]
    samples, first = ring.span(6, 20)
    assert first == 6 and samples.tolist() == list(range(6, 13))
    samples, first = ring.span(13, 20)
    assert len(samples) == 0


def test_taps_follow_the_gui_contract_attributes() -> None:
    class Resp:
        wave = RingBuffer(10)
        wave_rate_hz = 25.0

    class Oximeter:
        pleth = RingBuffer(10)
        pleth_rate_hz = 75.0

    class Capno:
        co2 = RingBuffer(10)
        co2_rate_hz = 100.0

    taps = taps_for({"oximeter": Oximeter(), "resp": Resp(), "capno": Capno(), "nibp": object()})
    assert [(t.channel, t.signal, t.rate_hz) for t in taps] == [
        ("oximeter", "pleth", 75.0),
        ("resp", "resp", 25.0),
        ("capno", "co2", 100.0),
    ]
