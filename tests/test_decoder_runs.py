"""`feed_run` decodes a run of feeds in one pass; it must equal feeding them one by one.

Replay leans on this to decode a second of recorded chunks at once and still reach the
records of the live run, so the property is checked on clean streams (the one-pass
path) and on streams with garbage (which may force the one-by-one path), for every
protocol, at random splits and random groupings of the splits.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import capnostat, nonin
from drivers.capnostat import CapnoBatch
from drivers.fixedframe import FixedFrameScanner
from drivers.registry import make_decoder, make_encoder
from drivers.types import DecoderCounters, OximeterBatch, RespBatch
from tests.drivers_specs import SPECS

PROTOCOLS = [*sorted(SPECS), "simresp", "capnostat"]
SOME = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def stream(name: str, seconds: int, seed: int) -> bytes:
    """A few seconds of the protocol's own encoder output with changing values."""
    encoder = make_encoder(name)
    rate = encoder.sample_rate_hz
    rng = np.random.default_rng(seed)
    parts = []
    for second in range(seconds):
        n = int(rate)
        if name == "capnostat":
            row = np.arange(n)
            parts.append(
                encoder.encode(
                    CapnoBatch.build(
                        rng.uniform(0, 45, n),
                        etco2_mmhg=np.where(row == 25, 38.0 + second, np.nan),
                        rr_bpm=np.where(row == 50, 12.0, np.nan),
                        breath_detected=row == rng.integers(1, n),
                        status=np.full(n, int(capnostat.CapnoFlag.BREATH_OK)),
                        status_frame=row == 0,
                    )
                )
            )
            if second == 1:  # a module reply between the stream frames
                parts.append(capnostat.nack(capnostat.NACK_BOOT))
            continue
        if name == "simresp":
            flags = np.zeros(n, dtype=np.uint8)
            flags[rng.integers(0, n)] = 1
            batch = RespBatch(
                rate,
                rng.uniform(-1, 1, n).astype(np.float32),
                np.full(n, 10.0 + second, dtype=np.float32),
                np.arange(n, dtype=np.float32) / rate,
                flags,
            )
        else:
            lo, hi = SPECS[name].pleth or (0, 0)
            batch = OximeterBatch.constant(
                rate, rng.integers(lo, hi + 1, n).tolist(), 90 + second % 10, 60 + second
            )
        parts.append(encoder.encode(batch))
    return b"".join(parts)


def columns(batch: OximeterBatch | RespBatch | CapnoBatch) -> dict[str, np.ndarray]:
    if isinstance(batch, CapnoBatch):
        return {
            "co2": batch.co2_mmhg,
            "etco2": batch.etco2_mmhg,
            "rr": batch.rr_bpm,
            "breath": batch.breath_detected,
            "status": batch.status,
            "lost": batch.lost_before,
            "messages": np.array([(row, m.cmd) for row, m in batch.messages]).reshape(-1, 2),
        }
    if isinstance(batch, RespBatch):
        return {
            "wave": batch.wave,
            "rr": batch.rr_bpm,
            "since": batch.since_breath_s,
            "flags": batch.flags,
        }
    out = {
        "pleth": batch.pleth,
        "spo2": batch.spo2_percent,
        "pr": batch.pulse_rate_bpm,
        "pi": batch.perfusion_index_percent,
        "flags": batch.flags,
    }
    out.update(batch.extras if len(batch) else {})
    return out


@st.composite
def split_stream(draw, name: str) -> tuple[list[bytes], list[int]]:
    """(chunks, run sizes): the stream with garbage dropped in, cut anywhere, and the
    chunks grouped into consecutive runs."""
    data = bytearray(stream(name, 3, draw(st.integers(0, 1000))))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=12))
    cuts = sorted(draw(st.lists(st.integers(1, len(data) - 1), max_size=40, unique=True)))
    edges = [0, *cuts, len(data)]
    chunks = [bytes(data[a:b]) for a, b in itertools.pairwise(edges)]
    sizes = []
    left = len(chunks)
    while left:
        size = draw(st.integers(1, left))
        sizes.append(size)
        left -= size
    return chunks, sizes


@pytest.mark.parametrize("name", PROTOCOLS)
@SOME
@given(data=st.data())
def test_a_run_decodes_as_its_feeds_one_by_one(name: str, data) -> None:
    chunks, sizes = data.draw(split_stream(name))
    one_by_one = make_decoder(name)
    singles = [one_by_one.feed(chunk) for chunk in chunks]

    in_runs = make_decoder(name)
    at = 0
    for size in sizes:
        batch, counts = in_runs.feed_run(chunks[at : at + size])
        expected = singles[at : at + size]
        assert counts.tolist() == [len(b) for b in expected]
        joined = expected[0].concat(expected)
        want, got = columns(joined), columns(batch)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=f"{name} {key}")
        at += size
    assert in_runs.counters.to_json() == one_by_one.counters.to_json()


def test_a_clean_stream_is_one_pass_and_frames_go_to_the_feed_ending_them() -> None:
    data = stream("nonin2", 1, seed=1)
    pieces = [data[:7], data[7:10], data[10:25], data[25:]]  # frames are 5 bytes
    scanner = FixedFrameScanner(nonin.FRAME_LEN, nonin.format2_frames, DecoderCounters())
    found = scanner.scan_run(pieces)
    assert not isinstance(found, int)
    scan, ends = found  # where each feed ends in the scan's bytes
    completed_by = np.searchsorted(ends, scan.starts + nonin.FRAME_LEN, side="left")
    counts = np.bincount(completed_by, minlength=len(pieces))
    assert counts.tolist() == [1, 1, 3, len(data) // 5 - 5]
    assert len(scan.starts) == len(data) // 5


def test_overlapping_candidates_refuse_the_one_pass_scan_and_consume_nothing() -> None:
    # A frame at 0 and another valid-looking one at 3: they overlap.
    data = bytes([0x01, 0x81, 0x01, 0x01, 0x84, 0x10, 0x10, 0xA5])
    _, valid = nonin.format2_frames(np.frombuffer(data, dtype=np.uint8), 4)
    assert np.flatnonzero(valid).tolist() == [0, 3]
    scanner = FixedFrameScanner(nonin.FRAME_LEN, nonin.format2_frames, DecoderCounters())
    scanner.scan(data[:2])
    assert scanner.scan_run([data[2:6], data[6:]]) == 0  # the first begins in the pending bytes
    assert scanner.counters.bytes_in == 2  # nothing of the refused run was taken


def test_a_run_with_overlapping_candidates_passes_once_around_each_and_equals_one_by_one(
    monkeypatch,
) -> None:
    # simresp: where the sequence number is the start byte (every 256 frames) and the
    # seconds-since-breath byte is small, the bytes from the frame's second on pass for a
    # frame too: an overlap every ~10 s of a clean stream.
    data = stream("simresp", 30, seed=3)
    chunks = [data[k : k + 200] for k in range(0, len(data), 200)]  # a second each
    one_by_one = make_decoder("simresp")
    singles = [one_by_one.feed(chunk) for chunk in chunks]
    in_run = make_decoder("simresp")
    fed_alone = []
    original = type(in_run).feed
    monkeypatch.setattr(
        type(in_run), "feed", lambda self, d: fed_alone.append(d) or original(self, d)
    )
    batch, counts = in_run.feed_run(chunks)
    assert counts.tolist() == [len(b) for b in singles]
    want = columns(singles[0].concat(singles))
    for key, column in columns(batch).items():
        np.testing.assert_array_equal(column, want[key], err_msg=key)
    assert in_run.counters.to_json() == one_by_one.counters.to_json()
    assert 1 <= len(fed_alone) <= 3  # only the feeds where candidates overlap, one by one
