"""Masimo ASCII 1: lines written by hand in the manual's layout."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.masimo import MAX_LINE_BYTES, MasimoDecoder
from drivers.types import OximeterBatch, OximeterFlag

F = OximeterFlag
EXAMPLE = (
    b"03/17/16 19:19:36 SN=---------- SPO2=098% BPM=123 PI=00.55 SPCO=--.-% "
    b"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=000000 EXC=0000C00\r\n"
)


def line(spo2: str = "097%", bpm: str = "072", pi: str = "03.10", exc: str = "000000") -> bytes:
    return f"03/17/16 19:19:37 SN=0000012345 SPO2={spo2} BPM={bpm} PI={pi} EXC={exc}\r\n".encode()


def test_manual_example() -> None:
    out = MasimoDecoder().feed(EXAMPLE)
    assert len(out) == 1
    frame = out[0]
    assert frame.spo2_percent == 98 and frame.pulse_rate_bpm == 123
    assert frame.perfusion_index_percent == pytest.approx(0.55)
    assert frame.pleth is None
    # EXC 0xC00: low signal IQ (400) and full SET mode (800, a mode, not a flag).
    assert frame.flags == F.LOW_SIGNAL_IQ


@pytest.mark.parametrize(
    ("bpm", "expected"), [("000", 0), ("127", 127), ("128", 128), ("300", 300), ("---", None)]
)
def test_pulse_rate_edges(bpm: str, expected: int | None) -> None:
    assert MasimoDecoder().feed(line(bpm=bpm))[0].pulse_rate_bpm == expected


def test_dashes_mean_no_value() -> None:
    frame = MasimoDecoder().feed(line(spo2="---%", bpm="---", pi="--.--"))[0]
    assert frame.spo2_percent is None and frame.pulse_rate_bpm is None
    assert frame.perfusion_index_percent is None


@pytest.mark.parametrize(
    ("exc", "flag"),
    [
        ("000001", F.NO_SENSOR),
        ("000002", F.DEFECTIVE_SENSOR),
        ("000004", F.LOW_PERFUSION),
        ("000008", F.SEARCHING),
        ("000010", F.INTERFERENCE),
        ("000020", F.SENSOR_OFF),
        ("000040", F.AMBIENT_LIGHT),
        ("000080", F.UNRECOGNIZED_SENSOR),
        ("000400", F.LOW_SIGNAL_IQ),
        ("000800", F.NONE),
    ],
)
def test_exception_bits(exc: str, flag: OximeterFlag) -> None:
    assert MasimoDecoder().feed(line(exc=exc))[0].flags == flag


def test_lines_split_anywhere_and_garbage_skipped() -> None:
    stream = line(bpm="061") + b"\x00\xffnoise without tokens\n" + line(bpm="062") + b"partial SP"
    decoder = MasimoDecoder()
    out = OximeterBatch.concat([decoder.feed(stream[i : i + 5]) for i in range(0, len(stream), 5)])
    assert [f.pulse_rate_bpm for f in out] == [61, 62]
    assert decoder.counters.frames == 2 and decoder.counters.resyncs == 1


def test_impossible_values_are_no_values() -> None:
    frame = MasimoDecoder().feed(line(spo2="140%", bpm="999", pi="55.00", exc="zz"))[0]
    assert frame.spo2_percent is None and frame.pulse_rate_bpm is None
    assert frame.perfusion_index_percent is None and frame.flags == F.NONE


def test_endless_line_is_dropped() -> None:
    decoder = MasimoDecoder()
    decoder.feed(b"x" * (MAX_LINE_BYTES + 1))
    assert decoder.counters.bytes_dropped == MAX_LINE_BYTES + 1
    assert len(decoder.feed(line())) == 1


@pytest.mark.parametrize(
    "text",
    [
        b"PI=03.10 EXC=000000\r\n",  # no SpO2, no pulse rate
        b"SPO2=097% PI=03.10\r\n",  # no pulse rate
        b"\x8e\x13PI=\xa7\x02\r\n",  # what random bytes made a frame of (hypothesis)
    ],
)
def test_a_line_without_spo2_and_bpm_is_not_a_frame(text: bytes) -> None:
    decoder = MasimoDecoder()
    assert len(decoder.feed(text)) == 0
    assert decoder.counters.frames == 0 and decoder.counters.bytes_dropped == len(text)


def test_random_bytes_that_once_made_a_frame_make_none() -> None:
    """The case hypothesis found: 24 kB of noise holding a stray `PI=`."""
    noise = np.random.default_rng(9340).integers(0, 256, 24329, dtype=np.uint8).tobytes()
    assert b"PI=" in noise
    decoder = MasimoDecoder()
    assert len(decoder.feed(noise)) == 0 and decoder.counters.frames == 0
