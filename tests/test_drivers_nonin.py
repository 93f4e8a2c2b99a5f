"""Nonin formats 7 and 8: frames built by hand from the docs/protocols.md tables."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.nonin import (
    CONFIRM_FRAMES_FORMAT7,
    HOLD_FRAMES_FORMAT7,
    Nonin7Decoder,
    Nonin7Encoder,
    format7_frames,
)
from drivers.nonin8 import CONFIRM_FRAMES, HOLD_FRAMES, Nonin8Decoder
from drivers.types import OximeterBatch, OximeterFlag

F = OximeterFlag


def frame7(status: int, pleth: int, float_byte: int) -> bytes:
    body = [status, pleth >> 8, pleth & 0xFF, float_byte]
    return bytes([*body, sum(body) & 0xFF])


def packet7(
    hr_d: int, spo2_d: int, status: int = 0x80, stat2: int = 0, pleth: int = 0x80F0
) -> bytes:
    """One 25-frame format-7 packet; float bytes at their 1-based frame numbers."""
    floats = [0] * 25
    floats[0], floats[1] = (hr_d >> 7) & 0x03, hr_d & 0x7F  # frames 1-2: HR
    floats[2] = spo2_d  # frame 3: SpO2
    floats[7] = stat2  # frame 8: STAT2
    floats[8] = spo2_d  # frame 9: SpO2-D
    floats[19], floats[20] = (hr_d >> 7) & 0x03, hr_d & 0x7F  # frames 20-21: HR-D
    return b"".join(
        frame7(status | (0x01 if i == 0 else 0), pleth + i, fb) for i, fb in enumerate(floats)
    )


def last(batch: OximeterBatch):
    return batch[len(batch) - 1]


# Frames that open the run before a test's packet, so its own frames are believed from
# the first, and frames that follow it, so its last ones are handed on too
# (docs/protocols.md: a run confirms itself before any frame is believed, and a frame
# is handed on once HOLD_FRAMES more have followed it).
LEAD_IN7 = frame7(0x80, 0, 0) * (CONFIRM_FRAMES_FORMAT7 - HOLD_FRAMES_FORMAT7 - 1)
TAIL7 = frame7(0x80, 0, 0) * HOLD_FRAMES_FORMAT7


def decode7(data: bytes, decoder: Nonin7Decoder | None = None) -> OximeterBatch:
    return (decoder or Nonin7Decoder()).feed(LEAD_IN7 + data + TAIL7)


def shown8(frame: bytes) -> OximeterBatch:
    """A format-8 frame as the monitor shows it: the last of a run just long enough to be
    believed (the frames before it are not believed, so they are not in the batch)."""
    out = Nonin8Decoder().feed(frame * CONFIRM_FRAMES)
    assert len(out) == 1
    return out


@pytest.mark.parametrize(
    ("hr", "expected"), [(0, 0), (127, 127), (128, 128), (300, 300), (511, None)]
)
def test_nonin7_heart_rate_edges(hr: int, expected: int | None) -> None:
    out = decode7(packet7(hr, 97) * 2)
    assert last(out).pulse_rate_bpm == expected
    assert last(out).spo2_percent == 97


def test_nonin7_spo2_missing_and_16_bit_pleth() -> None:
    out = decode7(packet7(72, 127) * 2)
    assert last(out).spo2_percent is None
    # Pleth bytes with bit 7 set (0x80F0..) decode big-endian and do not upset framing.
    assert out.pleth[:3].tolist() == [0x80F0, 0x80F1, 0x80F2]
    assert len(out) == 50


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        (0x80 | 0x40, F.SENSOR_OFF),
        (0x80 | 0x20, F.ARTIFACT),
        (0x80 | 0x10, F.OUT_OF_TRACK),
        (0x80 | 0x08, F.SENSOR_ALARM),
        (0x80 | 0x02, F.PULSE_BEAT),
        (0x80 | 0x06, F.MARGINAL_PERFUSION),
        (0x80 | 0x04, F.LOW_PERFUSION),
    ],
)
def test_nonin7_status_bits(status: int, flag: OximeterFlag) -> None:
    out = decode7(packet7(72, 97, status=status))
    assert out[3].flags & flag
    assert out[0].flags & F.PACKET_START and not out[1].flags & F.PACKET_START


def test_nonin7_low_battery_and_resync_mid_packet() -> None:
    stream = packet7(90, 95, stat2=0x01) * 3
    decoder = Nonin7Decoder()
    out = decoder.feed(stream[13:])  # starts inside a frame: slides until frames line up
    assert last(out).pulse_rate_bpm == 90 and last(out).flags & F.LOW_BATTERY
    # The tail of the frame cut at byte 13, and the run's first frames (not believed);
    # the last HOLD_FRAMES_FORMAT7 still wait for followers.
    first = CONFIRM_FRAMES_FORMAT7 - HOLD_FRAMES_FORMAT7 - 1
    assert decoder.counters.bytes_dropped == 2 + first * 5


def frame8(hr: int, spo2: int, status_bits: int = 0, stat2: int = 0) -> bytes:
    return bytes([0x80 | status_bits | ((hr >> 7) & 0x03), hr & 0x7F, spo2, stat2])


@pytest.mark.parametrize(
    ("hr", "expected"), [(0, 0), (127, 127), (128, 128), (300, 300), (511, None)]
)
def test_nonin8_heart_rate_edges(hr: int, expected: int | None) -> None:
    out = shown8(frame8(hr, 98))
    assert out[0].pulse_rate_bpm == expected and out[0].spo2_percent == 98
    assert out[0].pleth is None


def test_nonin8_spo2_missing() -> None:
    assert shown8(frame8(70, 127))[0].spo2_percent is None


@pytest.mark.parametrize(
    ("status_bits", "stat2", "flag"),
    [
        (0x20, 0, F.OUT_OF_TRACK),
        (0x10, 0, F.LOW_PERFUSION),
        (0x08, 0, F.MARGINAL_PERFUSION),
        (0x04, 0, F.ARTIFACT),
        (0, 0x08, F.SENSOR_ALARM),
        (0, 0x01, F.LOW_BATTERY),
    ],
)
def test_nonin8_status_bits(status_bits: int, stat2: int, flag: OximeterFlag) -> None:
    out = shown8(frame8(72, 97, status_bits, stat2))
    assert out[0].flags == flag


def test_nonin8_smartpoint_and_split_frames() -> None:
    decoder = Nonin8Decoder()
    run = CONFIRM_FRAMES
    data = frame8(72, 97, stat2=0x20) * run + b"\x95\x10" + frame8(140, 91) * run
    out = OximeterBatch.concat([decoder.feed(data[i : i + 1]) for i in range(len(data))])
    # Each run believed once CONFIRM_FRAMES long; a frame handed on once HOLD_FRAMES
    # more followed it, so one of each run here (the second run's last two still wait).
    assert [f.pulse_rate_bpm for f in out] == [72, 140]
    assert out.extras["smartpoint"].tolist() == [1.0, 0.0]
    assert decoder.counters.bytes_dropped == 2 + (2 * (run - 1) - HOLD_FRAMES) * 4
    assert decoder.counters.resyncs == 1


def test_nonin8_noise_shaped_like_frames_is_not_a_value() -> None:
    # One random 4-byte window in 16 has format 8's shape. Lone frames, frames whose
    # values jump as no display value does, and a SpO2 of 101-126 are never believed.
    decoder = Nonin8Decoder()
    assert len(decoder.feed(frame8(320, 9) + b"\x01" + frame8(131, 43))) == 0
    jumping = b"".join(frame8(hr, spo2) for hr, spo2 in [(60, 97), (140, 97), (60, 70), (61, 97)])
    assert len(decoder.feed(jumping)) == 0
    assert len(decoder.feed(frame8(72, 110) * 6)) == 0
    assert decoder.counters.frames == 0


def test_nonin8_values_that_move_slowly_stay_one_run() -> None:
    steps = [(72, 97), (80, 95), (95, 90), (120, 85), (150, 80)]  # a fast but real change
    steps += [(150, 80)] * HOLD_FRAMES  # followers, so the last step is handed on
    out = Nonin8Decoder().feed(b"".join(frame8(hr, spo2) for hr, spo2 in steps))
    assert [f.pulse_rate_bpm for f in out] == [95, 120, 150]  # from the 3rd of the run


def test_nonin7_misaligned_window_that_checksums_does_not_cost_a_real_frame() -> None:
    # With these pleth values a window starting at byte 4 (inside frame 1, running into
    # frame 2) happens to look like a valid frame. Real frames form the longer chain
    # and win; an earlier "lone candidate overlapping a run" rule dropped frame 1 too.
    raw = Nonin7Encoder().encode(OximeterBatch.constant(75, [4101, 56151, 53128, 14991], 97, 72))
    buf = np.frombuffer(raw, dtype=np.uint8)
    assert np.flatnonzero(format7_frames(buf, len(buf) - 4)[1]).tolist() == [0, 4, 5, 10, 15]
    out = decode7(raw)
    assert out.pleth.tolist() == [4101, 56151, 53128, 14991]
