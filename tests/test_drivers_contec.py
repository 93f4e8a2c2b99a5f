"""Contec 5-byte, BerryMed and Contec V7.0: frames built by hand from docs/protocols.md."""

from __future__ import annotations

import pytest

from drivers.contec import (
    CONFIRM_FRAMES,
    CONTEC7_CONFIRM_FRAMES,
    HOLD_FRAMES,
    KEEPALIVE,
    START_REALTIME,
    BerryDecoder,
    Contec7Decoder,
    ContecDecoder,
    ContecEncoder,
)
from drivers.types import OximeterBatch, OximeterFlag

F = OximeterFlag


def frame5(pr: int, spo2: int, pleth: int = 50, b0_bits: int = 0, b2_bits: int = 0) -> bytes:
    """Byte 1 bit 7 set; byte 3 bit 6 = PR bit 7; bytes 4-5 PR bits 0-6, SpO2."""
    return bytes(
        [0x80 | 0x05 | b0_bits, pleth, 0x03 | b2_bits | ((pr >> 1) & 0x40), pr & 0x7F, spo2]
    )


def shown(decoder: ContecDecoder | Contec7Decoder, frame: bytes) -> OximeterBatch:
    """A frame as the monitor shows it: the last of a run just long enough to be believed
    (the frames before it are not believed, so they are not in the batch)."""
    out = decoder.feed(frame * decoder.confirm_frames)
    assert len(out) == 1
    return out


@pytest.mark.parametrize(
    ("pr", "expected"), [(0, 0), (127, 127), (128, 128), (254, 254), (255, None)]
)
def test_contec_pulse_rate_edges(pr: int, expected: int | None) -> None:
    out = shown(ContecDecoder(), frame5(pr, 97))
    assert out[0].pulse_rate_bpm == expected and out[0].spo2_percent == 97


def test_contec_spo2_missing_and_pleth() -> None:
    out = shown(ContecDecoder(), frame5(80, 0x7F, pleth=127))
    assert out[0].spo2_percent is None and out[0].pleth == 127
    assert out.extras["signal_strength"][0] == 5 and out.extras["bar_graph"][0] == 3


def test_contec_heart_rate_300_cannot_be_sent() -> None:
    # 8 bits of PR: the encoder sends "invalid" rather than a wrong number.
    raw = ContecEncoder().encode(OximeterBatch.constant(60, [10] * CONFIRM_FRAMES, 97, 300))
    assert ContecDecoder().feed(raw)[0].pulse_rate_bpm is None


def test_contec_values_are_believed_only_after_a_run_of_frames() -> None:
    # No checksum: a lone frame-shaped 5 bytes is as likely noise as a device. A frame is
    # handed on once its run is CONFIRM_FRAMES long and HOLD_FRAMES more have followed it.
    decoder = ContecDecoder()
    assert len(decoder.feed(frame5(70, 97) * (CONFIRM_FRAMES - 1))) == 0  # not a frame yet
    assert decoder.counters.unconfirmed == CONFIRM_FRAMES - 1 - HOLD_FRAMES  # the last waits
    assert decoder.counters.frames == 0
    out = decoder.feed(frame5(71, 97))  # the run is long enough: the frame before goes on
    assert [f.pulse_rate_bpm for f in out] == [70]
    assert [f.pulse_rate_bpm for f in decoder.feed(frame5(72, 97))] == [71]  # a frame behind
    # A break: the 72 had no follower, so it is dropped; the new run must confirm again.
    assert len(decoder.feed(b"\x01" * 5 + frame5(73, 97))) == 0
    assert decoder.counters.unconfirmed == CONFIRM_FRAMES - HOLD_FRAMES


@pytest.mark.parametrize(
    ("b0_bits", "b2_bits", "flag"),
    [
        (0x10, 0, F.SEARCHING),  # searching too long
        (0x20, 0, F.SPO2_DROPPING),
        (0x40, 0, F.PULSE_BEAT),
        (0, 0x10, F.SENSOR_OFF),  # probe error
        (0, 0x20, F.SEARCHING),
    ],
)
def test_contec_status_bits(b0_bits: int, b2_bits: int, flag: OximeterFlag) -> None:
    assert shown(ContecDecoder(), frame5(70, 97, b0_bits=b0_bits, b2_bits=b2_bits))[0].flags == flag


@pytest.mark.parametrize(
    ("b0_bits", "b2_bits", "flag"),
    [
        (0x10, 0, F.NO_SIGNAL),
        (0x20, 0, F.SENSOR_OFF),  # probe unplugged
        (0x40, 0, F.PULSE_BEAT),
        (0, 0x10, F.SENSOR_OFF),  # no finger
        (0, 0x20, F.SEARCHING),
    ],
)
def test_berry_status_bits(b0_bits: int, b2_bits: int, flag: OximeterFlag) -> None:
    assert shown(BerryDecoder(), frame5(70, 97, b0_bits=b0_bits, b2_bits=b2_bits))[0].flags == flag


def test_berry_pleth_zero_is_invalid_and_rate_is_100() -> None:
    decoder = BerryDecoder()
    out = shown(decoder, frame5(70, 97, pleth=100))
    # The run goes on: each frame is handed on once the next one came.
    out2 = decoder.feed(frame5(70, 97, pleth=0) + frame5(70, 97))
    assert [f.pleth for f in out2] == [100, None] and out[0].pleth == 100
    assert decoder.sample_rate_hz == 100.0


def test_contec_resyncs_after_garbage_split_anywhere() -> None:
    runs = [frame5(pr, 95) * CONFIRM_FRAMES for pr in (60, 61, 62)]
    stream = runs[0] + b"\x81\x02" + runs[1] + b"\xff" + runs[2]
    decoder = ContecDecoder()
    out = OximeterBatch.concat([decoder.feed(stream[i : i + 3]) for i in range(0, len(stream), 3)])
    shown_prs = [f.pulse_rate_bpm for f in out if f.pulse_rate_bpm is not None]
    # The last frame of each run confirms the one before it (HOLD_FRAMES = 1), which is
    # all that is handed on: the frames before are not believed, the last has no
    # follower (the stream's very last still waits for one).
    assert shown_prs == [60, 61, 62]
    assert len(out) == 3
    unconfirmed = 3 * (CONFIRM_FRAMES - 1) - HOLD_FRAMES
    assert decoder.counters.unconfirmed == unconfirmed
    assert decoder.counters.bytes_dropped == 3 + unconfirmed * 5
    assert decoder.counters.resyncs == 2


def packet7(d: list[int], packet_type: int = 0x01) -> bytes:
    """Type byte, high byte (bit i = bit 7 of data byte i), data bytes with bit 7 forced."""
    high = 0x80
    for i, byte in enumerate(d):
        high |= ((byte >> 7) & 1) << i
    return bytes([packet_type, high, *(b | 0x80 for b in d)])


def realtime(
    pr: int = 72,
    spo2: int = 97,
    pleth: int = 64,
    pi_raw: int = 250,
    d0: int = 0x06,
    d2: int = 0x13,
    d1_bits: int = 0,
) -> bytes:
    return packet7([d0, pleth | d1_bits, d2, pr, spo2, pi_raw & 0xFF, pi_raw >> 8])


@pytest.mark.parametrize(
    ("pr", "expected"), [(0, 0), (127, 127), (128, 128), (254, 254), (0xFF, None)]
)
def test_contec7_pulse_rate_edges(pr: int, expected: int | None) -> None:
    out = shown(Contec7Decoder(), realtime(pr=pr))
    assert out[0].pulse_rate_bpm == expected


def test_contec7_values_pi_and_missing() -> None:
    decoder = Contec7Decoder()
    lead_in = realtime() * (CONTEC7_CONFIRM_FRAMES - 1)
    out = decoder.feed(
        lead_in
        + realtime(pi_raw=250)
        + realtime(spo2=0x7F, pi_raw=0xFFFF)
        + realtime(d2=0x03, pi_raw=300)
    )
    assert out[0].spo2_percent == 97 and out[0].pleth == 64
    assert out[0].perfusion_index_percent == pytest.approx(2.5)
    assert out[1].spo2_percent is None and out[1].perfusion_index_percent is None
    assert out[2].perfusion_index_percent is None  # "PI valid" bit (d2 bit 4) clear
    assert out.extras["signal_strength"][0] == 6 and out.extras["bar_graph"][0] == 3


@pytest.mark.parametrize(
    ("d0", "d1_bits", "flag"),
    [
        (0x10, 0, F.SEARCHING),  # searching too long
        (0x20, 0, F.SPO2_DROPPING),  # low SpO2
        (0x40, 0, F.PULSE_BEAT),
        (0x80, 0, F.SENSOR_OFF),  # probe error / finger out (needs the high byte)
        (0, 0x80, F.SEARCHING),
    ],
)
def test_contec7_status_bits(d0: int, d1_bits: int, flag: OximeterFlag) -> None:
    assert shown(Contec7Decoder(), realtime(d0=d0, d1_bits=d1_bits))[0].flags == flag


def test_contec7_skips_other_packets_and_garbage() -> None:
    other = packet7([1, 2, 3], packet_type=0x05) + packet7([], packet_type=0x0D)
    run = CONTEC7_CONFIRM_FRAMES
    stream = realtime(pr=60) * run + other + b"\x01\x80\x90" + realtime(pr=61) * run
    decoder = Contec7Decoder()
    out = OximeterBatch.concat([decoder.feed(stream[i : i + 1]) for i in range(len(stream))])
    assert [f.pulse_rate_bpm for f in out] == [60, 61]  # each run believed from its 3rd
    assert decoder.counters.bytes_dropped == len(other) + 3 + 2 * (run - 1) * len(realtime())


def test_contec7_noise_shaped_like_a_packet_is_not_a_value() -> None:
    # Type 0x01 and eight bytes with bit 7 set: noise matches that once in 65 536
    # positions (15 per MB of random bytes), so a lone packet is never believed, and a
    # SpO2 of 101-126, which no device sends, is no packet at all.
    decoder = Contec7Decoder()
    assert len(decoder.feed(realtime(pr=237, spo2=17) + b"\x00" + realtime(pr=7))) == 0
    assert len(decoder.feed(realtime(spo2=110) * 5)) == 0
    assert decoder.counters.frames == 0


def test_contec7_host_commands() -> None:
    decoder = Contec7Decoder()
    assert decoder.startup_bytes() == START_REALTIME == bytes.fromhex("7D81A1808080808080")
    assert decoder.keepalive_bytes() == KEEPALIVE == bytes.fromhex("7D81AF808080808080")
    assert 0 < decoder.keepalive_interval_s <= 5.0
