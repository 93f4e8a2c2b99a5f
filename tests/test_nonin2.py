"""Nonin format 2: frames built by hand from docs/protocols.md decode to what was put in."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.nonin import (
    CONFIRM_FRAMES_FORMAT2,
    HOLD_FRAMES_FORMAT2,
    Nonin2Decoder,
    Nonin2Encoder,
    hr_from_pair,
)
from drivers.types import OximeterBatch, OximeterFlag


def frame(status: int, pleth: int, float_byte: int) -> bytes:
    body = [0x01, status, pleth, float_byte]
    return bytes([*body, sum(body) & 0xFF])


def packet(
    hr_d: int,
    spo2_d: int,
    hr: int | None = None,
    spo2: int | None = None,
    status: int = 0x80,
    stat2: int = 0,
    pleth_base: int = 100,
) -> bytes:
    """One 25-frame packet, float bytes placed per docs/protocols.md (frame numbers 1-based)."""
    hr = hr_d if hr is None else hr
    spo2 = spo2_d if spo2 is None else spo2
    floats = [0] * 25
    floats[0], floats[1] = (hr >> 7) & 0x03, hr & 0x7F  # frames 1-2: HR
    floats[2] = spo2  # frame 3: SpO2
    floats[3] = 42  # frame 4: firmware
    floats[7] = stat2  # frame 8: STAT2
    floats[8] = spo2_d  # frame 9: SpO2-D
    floats[19], floats[20] = (hr_d >> 7) & 0x03, hr_d & 0x7F  # frames 20-21: HR-D
    out = b""
    for i, fb in enumerate(floats):
        s = status | (0x01 if i == 0 else 0)
        out += frame(s, (pleth_base + i) & 0xFF, fb)
    return out


# Frames that open the run before a test's packet, so its own frames are believed from
# the first, and frames that follow it, so its last ones are handed on too
# (docs/protocols.md: a run confirms itself before any frame is believed, and a frame
# is handed on once HOLD_FRAMES_FORMAT2 more have followed it).
FIRST_SHOWN = CONFIRM_FRAMES_FORMAT2 - HOLD_FRAMES_FORMAT2 - 1  # frames of a run not shown
LEAD_IN = frame(0x80, 0, 0) * FIRST_SHOWN
TAIL = frame(0x80, 0, 0) * HOLD_FRAMES_FORMAT2


def decode(data: bytes) -> OximeterBatch:
    return Nonin2Decoder().feed(LEAD_IN + data + TAIL)


@pytest.mark.parametrize("hr", [0, 72, 127, 128, 200, 300, 510])
def test_hand_built_packet_decodes_display_values(hr: int) -> None:
    batch = decode(packet(hr_d=hr, spo2_d=95) * 2)
    last = batch[len(batch) - 1]
    assert last.pulse_rate_bpm == hr
    assert last.spo2_percent == 95
    assert batch.pleth[:25].tolist() == [100 + i for i in range(25)]


def test_display_values_are_shown_not_plain_ones() -> None:
    batch = decode(packet(hr_d=80, spo2_d=96, hr=90, spo2=91) * 2)
    assert batch[49].pulse_rate_bpm == 80
    assert batch[49].spo2_percent == 96
    assert batch.extras["pr_plain"][49] == 90
    assert batch.extras["spo2_plain"][49] == 91


def test_values_appear_only_once_their_frames_arrived() -> None:
    batch = decode(packet(hr_d=150, spo2_d=93))
    # SpO2-D is frame 9, HR-D frames 20-21: nothing before them.
    assert batch[7].spo2_percent is None and batch[8].spo2_percent == 93
    assert batch[19].pulse_rate_bpm is None and batch[20].pulse_rate_bpm == 150


def test_missing_sentinels_decode_to_none() -> None:
    batch = decode(packet(hr_d=511, spo2_d=127) * 2)
    assert all(f.pulse_rate_bpm is None and f.spo2_percent is None for f in batch)


def test_hr_arithmetic_uses_two_msb_bits() -> None:
    # Public decoders that mask the MSB with 0x18 or 0xC0 get these wrong.
    assert hr_from_pair(0x01, 0x00) == 128
    assert hr_from_pair(0x03, 0x7F) == 511
    assert hr_from_pair(0x7C, 0x05) == 5  # bits above the two are not part of HR


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        (0x80 | 0x40, OximeterFlag.SENSOR_OFF),
        (0x80 | 0x20, OximeterFlag.ARTIFACT),
        (0x80 | 0x10, OximeterFlag.OUT_OF_TRACK),
        (0x80 | 0x08, OximeterFlag.SENSOR_ALARM),
        (0x80 | 0x02, OximeterFlag.PULSE_BEAT),  # green 01
        (0x80 | 0x06, OximeterFlag.MARGINAL_PERFUSION),  # yellow 11
        (0x80 | 0x04, OximeterFlag.LOW_PERFUSION),  # red 10
    ],
)
def test_status_bits(status: int, flag: OximeterFlag) -> None:
    batch = decode(packet(72, 97, status=status))
    assert batch[5].flags & flag
    assert batch[0].flags & OximeterFlag.PACKET_START


def test_low_battery_from_stat2() -> None:
    batch = decode(packet(72, 97, stat2=0x01) * 2)
    assert not batch[6].flags & OximeterFlag.LOW_BATTERY
    assert batch[7].flags & OximeterFlag.LOW_BATTERY


def roundtrip_batch(n: int, hr: float | None, spo2: float | None) -> OximeterBatch:
    pleth = (np.arange(n) * 7) % 256
    return OximeterBatch.constant(75.0, pleth, spo2, hr)


def test_encode_decode_round_trip_split_anywhere() -> None:
    source = roundtrip_batch(250, 133, 94)
    raw = Nonin2Encoder().encode(source)
    decoder = Nonin2Decoder()
    parts = [decoder.feed(raw[i : i + 7]) for i in range(0, len(raw), 7)]
    out = OximeterBatch.concat(parts)
    unconfirmed = FIRST_SHOWN  # the run's first frames are not believed ...
    waiting = HOLD_FRAMES_FORMAT2  # ... and its last still wait for followers
    assert np.array_equal(out.pleth, source.pleth[unconfirmed : 250 - waiting])
    assert out[len(out) - 1].pulse_rate_bpm == 133
    assert out[len(out) - 1].spo2_percent == 94
    assert decoder.counters.bytes_dropped == unconfirmed * 5
    assert decoder.counters.frames == 250 - unconfirmed - waiting
    assert decoder.counters.unconfirmed == unconfirmed


def test_garbage_before_inside_and_after_packets_invents_nothing() -> None:
    good = Nonin2Encoder().encode(roundtrip_batch(100, 88, 97))
    garbage = bytes([0x01, 0x85, 0x10, 0x20, 0xFF, 0x7F, 0x01, 0x01, 0x80]) * 3
    stream = garbage + good[:260] + garbage + good[260:] + garbage
    decoder = Nonin2Decoder()
    out = OximeterBatch.concat(
        [decoder.feed(stream[i : i + 13]) for i in range(0, len(stream), 13)]
    )
    assert {f.pulse_rate_bpm for f in out} <= {None, 88}
    assert {f.spo2_percent for f in out} <= {None, 97}
    assert out[len(out) - 1].pulse_rate_bpm == 88
    # Each of the two runs confirms itself before its frames are believed; the last
    # four bytes stay pending: they could still begin a frame.
    assert decoder.counters.unconfirmed == 2 * (CONFIRM_FRAMES_FORMAT2 - 1)
    assert decoder.counters.bytes_dropped == 3 * len(garbage) - 4 + 5 * 2 * (
        CONFIRM_FRAMES_FORMAT2 - 1
    )


def test_values_expire_when_packets_stop_arriving() -> None:
    decoder = Nonin2Decoder()
    decoder.feed(packet(72, 97) * 2)
    # Frames keep coming but never a SYNC: positions are unknown, values must lapse.
    orphan = b"".join(frame(0x80, 50, 0) for _ in range(100))
    out = decoder.feed(orphan)
    assert out[len(out) - 1].pulse_rate_bpm is None
    assert out[len(out) - 1].spo2_percent is None


def test_random_bytes_never_raise() -> None:
    rng = np.random.default_rng(1)
    decoder = Nonin2Decoder()
    for _ in range(50):
        out = decoder.feed(rng.integers(0, 256, rng.integers(0, 400), dtype=np.uint8).tobytes())
        finite_hr = out.pulse_rate_bpm[np.isfinite(out.pulse_rate_bpm)]
        assert np.all((finite_hr >= 0) & (finite_hr <= 510))
