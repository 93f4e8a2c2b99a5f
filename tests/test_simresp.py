"""`simresp`, vitalmon's own respiration stream: hand-built frames, round trips, resync."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from drivers.registry import get_protocol, make_decoder
from drivers.simresp import SimRespDecoder, SimRespEncoder
from drivers.types import RespBatch, RespFlag


def frame(seq: int, wave: int, rr: int, status: int, since: int) -> bytes:
    raw = wave & 0xFFFF
    body = [0xA5, seq, raw & 0xFF, raw >> 8, rr, status, since]
    return bytes([*body, (-sum(body)) & 0xFF])


def batch(wave, rr, since, flags) -> RespBatch:
    n = len(wave)
    return RespBatch(
        25.0,
        np.asarray(wave, dtype=np.float32),
        np.full(n, rr, dtype=np.float32),
        np.full(n, since, dtype=np.float32),
        np.asarray(flags, dtype=np.uint8),
    )


def test_registered_as_a_resp_protocol() -> None:
    info = get_protocol("simresp")
    assert info.kind == "resp"
    assert isinstance(make_decoder("simresp"), SimRespDecoder)


def test_hand_built_frames_decode() -> None:
    # The first frame of a run only confirms the next one (CONFIRM_FRAMES = 2): no value.
    data = frame(255, 7, 9, 0, 0) + frame(0, 1000, 14, 0x01, 0) + frame(1, -2000, 14, 0, 3)
    data += frame(2, 0, 0xFF, 0, 0xFF)
    out = SimRespDecoder().feed(data)
    assert out.wave.tolist() == [0.5, -1.0, 0.0]
    assert out.rr_bpm[:2].tolist() == [14, 14] and np.isnan(out.rr_bpm[2])
    assert out.since_breath_s[1] == 3 and np.isnan(out.since_breath_s[2])
    assert out.flags.tolist() == [RespFlag.BREATH, 0, 0]


def test_no_signal_means_no_rate() -> None:
    out = SimRespDecoder().feed(frame(0, 0, 14, 0, 5) + frame(1, 0, 14, 0x02, 5))
    assert len(out) == 1 and np.isnan(out.rr_bpm[0]) and np.isnan(out.since_breath_s[0])


def test_round_trip_split_anywhere_and_garbage_between() -> None:
    wave = np.sin(np.linspace(0, 6, 100))
    flags = np.zeros(100, dtype=np.uint8)
    flags[::40] = RespFlag.BREATH
    data = SimRespEncoder().encode(batch(wave, 16, 2, flags))
    noisy = b"\xa5\x00garbage" + data[:336] + b"\xff\xa5\x13" + data[336:]
    decoder = SimRespDecoder()
    parts = [decoder.feed(noisy[i : i + 7]) for i in range(0, len(noisy), 7)]
    wave_out = np.concatenate([p.wave for p in parts])
    # Each run confirms itself on its first frame: the stream's first, and the first
    # after the garbage (frame 42), give no sample.
    kept = np.ones(100, dtype=bool)
    kept[[0, 42]] = False
    assert len(wave_out) == 98
    assert np.allclose(wave_out, wave[kept], atol=1 / 2000)
    assert np.concatenate([p.flags for p in parts]).tolist() == flags[kept].tolist()
    assert decoder.counters.frames == 98 and decoder.counters.unconfirmed == 2


def test_sequence_gap_counts_as_a_resync() -> None:
    data = SimRespEncoder().encode(batch(np.zeros(10), 12, 1, np.zeros(10)))
    decoder = SimRespDecoder()
    out = decoder.feed(data[:16] + data[32:])
    # Frames 0, 1, then 4-9: each run's first frame only confirms it.
    assert len(out) == 6 and decoder.counters.resyncs == 1


def test_noise_never_gives_a_breath_or_a_rate() -> None:
    """Single frame-shaped windows in noise (start byte, status bits, checksum all hold)
    are never believed: a lone valid frame between random bytes gives nothing."""
    rng = np.random.default_rng(5)
    decoder = SimRespDecoder()
    lone = frame(9, 1500, 30, 0x01, 0)
    out = [decoder.feed(rng.bytes(997) + lone) for _ in range(50)]
    assert sum(len(o) for o in out) == 0 and decoder.counters.unconfirmed >= 50


@given(st.binary(max_size=400))
def test_decoder_never_raises_on_any_bytes(data: bytes) -> None:
    decoder = SimRespDecoder()
    out = decoder.feed(data)
    assert len(out.wave) == len(out.rr_bpm) == len(out.flags)
    assert np.all(np.abs(out.wave) <= 16.4)
