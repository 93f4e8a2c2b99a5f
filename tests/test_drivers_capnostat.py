"""The Capnostat 5 driver: hand-built frames, both directions, any split, garbage, noise."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from drivers import capnostat as cs
from drivers.capnostat import CapnoBatch, CapnoFlag, CapnostatDecoder, CapnostatEncoder
from drivers.registry import get_protocol, make_decoder, make_encoder
from tests.conftest import json_lines, run_vitalmon

F = CapnoFlag
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ hand-built frames


def lead(sync: int) -> bytes:
    """The stream frame before one with `sync`: a frame is believed only as the second
    of a back-to-back pair whose SYNC counts on (this one is left out)."""
    return cs.waveform_frame((sync - 1) & 0x7F, 0.0)


def test_the_documented_host_commands_byte_for_byte() -> None:
    assert cs.start_stream() == bytes.fromhex("80 02 00 7E")
    assert cs.start_zero() == bytes.fromhex("82 01 7D")
    assert cs.stop_stream() == bytes.fromhex("C9 01 36")
    assert cs.set_barometric_pressure(760) == bytes.fromhex("84 04 01 05 78 7A")
    assert cs.nack(cs.NACK_BOOT)[:3] == bytes.fromhex("C8 02 00")


def test_a_hand_built_stream_frame() -> None:
    # CO2 38.00 mmHg = 4800 raw = 37 * 128 + 64; EtCO2 x10 = 381 = 2 * 128 + 125.
    body = bytes((0x80, 7, 5, 37, 64, 2, 2, 125))
    data = body + bytes(((-sum(body)) & 0x7F,))
    [row] = list(CapnostatDecoder().feed(lead(5) + data))
    assert row.co2_mmhg == pytest.approx(38.0) and row.etco2_mmhg == pytest.approx(38.1)
    assert row.rr_bpm is None and row.fico2_mmhg is None and row.status == F.NONE


def test_a_hand_built_status_frame() -> None:
    # byte 1: check adapter (bit 1) + no breaths (bit 6); byte 2: warm-up (1), zero
    # required (2 << 2), compensation not set (bit 4); byte 5: code 2 = sensor faulty.
    body = bytes((0x80, 10, 0, 7, 104, 1, 0x42, 0x19, 0, 0, 2))
    data = body + bytes(((-sum(body)) & 0x7F,))
    [row] = list(CapnostatDecoder().feed(lead(0) + data))
    assert row.co2_mmhg == 0.0
    assert row.status == (F.CHECK_ADAPTER | F.NO_BREATHS | F.WARM_UP | F.ZERO_REQUIRED
                          | F.COMPENSATION_NOT_SET | F.SENSOR_FAULTY)  # fmt: skip


def test_a_bad_checksum_is_dropped_and_counted_and_the_next_frame_found() -> None:
    good = cs.waveform_frame(1, 12.5)
    bad = bytearray(cs.waveform_frame(0, 30.0))
    bad[-1] ^= 0x01
    decoder = CapnostatDecoder()
    rows = list(decoder.feed(bytes(bad) + good + cs.waveform_frame(2, 13.0)))
    assert [r.co2_mmhg for r in rows] == [13.0]  # 12.5 found, but first after the break
    assert decoder.counters.checksum_failures == 1 and decoder.counters.resyncs == 1
    assert decoder.counters.unconfirmed == 1


def test_a_command_byte_inside_a_frame_starts_a_new_one() -> None:
    """A frame cut short by a byte >= 0x80 is abandoned at that byte: the frame that
    byte begins is decoded, whatever NBF the cut frame promised."""
    cut = cs.waveform_frame(0, 30.0, cs.DPI_STATUS, cs.status_bytes(0))[:6]
    decoder = CapnostatDecoder()
    rows = list(decoder.feed(cut + cs.waveform_frame(1, 4.0) + cs.waveform_frame(2, 5.0)))
    assert [r.co2_mmhg for r in rows] == [5.0] and decoder.counters.unconfirmed == 1


def test_sync_gaps_count_lost_frames_across_feeds_and_the_wrap() -> None:
    """A SYNC jump is lost frames, and the frame after the jump is not believed (noise
    could have made it), so it is lost too: 126 -> 1 loses 127, 0 and 1; 2 -> 5 loses
    3, 4 and 5. The first frame is not believed either."""
    decoder = CapnostatDecoder()
    frames = [cs.waveform_frame(s, float(s)) for s in (124, 125, 126, 1, 2, 5, 6)]
    batches = [decoder.feed(b"".join(frames[:3])), decoder.feed(b"".join(frames[3:]))]
    assert [r.co2_mmhg for b in batches for r in b] == [125.0, 126.0, 2.0, 6.0]
    lost = np.concatenate([b.lost_before for b in batches]).tolist()
    assert lost == [0, 0, 3, 3]
    assert decoder.counters.lost_frames == 6 and decoder.counters.unconfirmed == 3


def test_module_replies_come_out_as_messages_in_order() -> None:
    enc = CapnostatEncoder()
    data = (
        cs.nack()
        + enc.encode(CapnoBatch.build([0.5, 1.0]))  # the first is not believed
        + cs.zero_reply(cs.ZeroResult.STARTED)
        + cs.setting_reply(cs.Isb.BAROMETRIC_PRESSURE, cs.split14(760))
        + cs.revision_reply("CS5 4.12")
        + cs.stop_reply()
        + cs.capabilities_reply(0, b"\x01")
    )
    batch = CapnostatDecoder().feed(data)
    assert len(batch) == 1
    assert [(row, m.to_json()) for row, m in batch.messages] == [
        (0, {"frame": "nack", "code": 0, "boot": True}),
        (1, {"frame": "zero", "zero": "started"}),
        (1, {"frame": "setting", "isb": 1, "data": [5, 120]}),
        (1, {"frame": "revision", "text": "CS5 4.12"}),
        (1, {"frame": "stop"}),
        (1, {"frame": "capabilities", "data": [0, 1]}),
    ]


def test_frames_alone_in_noise_are_not_believed() -> None:
    """Random bytes pass the framing and checksum as a stream frame about once in 270 MB;
    such a frame, and one whose SYNC does not count on from it, is never a value."""
    rng = np.random.default_rng(5)
    noise = [rng.integers(0, 0x80, 40, dtype=np.uint8).tobytes() for _ in range(3)]
    decoder = CapnostatDecoder()
    lone = noise[0] + cs.waveform_frame(9, 44.0, cs.DPI_ETCO2, cs.split14(440)) + noise[1]
    jumping = cs.waveform_frame(20, 3.0) + cs.waveform_frame(22, 4.0) + noise[2]
    assert len(decoder.feed(lone)) == 0 and len(decoder.feed(jumping)) == 0
    assert decoder.counters.unconfirmed == 3 and decoder.counters.frames == 0
    decoder = CapnostatDecoder()
    # The same frames back to back, SYNC counting on: believed from the second.
    rows = decoder.feed(b"".join(cs.waveform_frame(s, float(s)) for s in (30, 31, 32)))
    assert [r.co2_mmhg for r in rows] == [31.0, 32.0]
    # A reply-shaped frame right after bytes that framed nothing (random bytes make a
    # boot NACK or a zero reply about 15 times a megabyte) is no message either; the
    # same frame after the module's stream is.
    assert decoder.feed(noise[0] + cs.nack()).messages == []
    assert decoder.feed(noise[1] + cs.zero_reply(cs.ZeroResult.STARTED)).messages == []
    assert [m.name for _, m in decoder.feed(cs.waveform_frame(33, 1.0) + cs.nack()).messages] == [
        "nack"
    ]


HOST_COMMANDS = [
    cs.start_stream(),
    cs.stop_stream(),
    cs.start_zero(),
    cs.get_setting(cs.Isb.BAROMETRIC_PRESSURE),
    cs.set_barometric_pressure(705),
    cs.set_units_mmhg(),
    cs.set_no_breath_timeout(20),
    cs.set_gas_compensation(21, 0, 0),
    cs.get_revision(),
    cs.get_capabilities(1),
    cs.reset_no_breath(),
    cs.reset_module(),
]


@given(cuts=st.lists(st.integers(0, 200), max_size=6), noise=st.binary(max_size=8))
@FAST
def test_host_commands_round_trip_through_the_command_decoder(cuts, noise) -> None:
    assume(not cs.CapnostatCommandDecoder().feed(noise))
    stream = noise + b"".join(HOST_COMMANDS)
    cuts = sorted(c % (len(stream) + 1) for c in cuts)
    decoder = cs.CapnostatCommandDecoder()
    messages = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        messages += decoder.feed(stream[a:b])
    assert [m.encode() for m in messages] == HOST_COMMANDS
    assert make_encoder("capnostat").encode(CapnoBatch.build([0.0]))[0] == cs.CMD_WAVEFORM


def test_the_registry_knows_capnostat() -> None:
    info = get_protocol("capnostat")
    assert info.kind == "capno" and info.line.baudrate == 19200
    assert isinstance(make_decoder("capnostat"), CapnostatDecoder)


def test_encoders_refuse_what_the_framing_cannot_carry() -> None:
    with pytest.raises(ValueError):
        cs.frame(0x80, b"\x80")
    with pytest.raises(ValueError):
        cs.set_no_breath_timeout(200)
    with pytest.raises(ValueError):
        cs.split14(1 << 14)


# ------------------------------------------------------------------ properties


@dataclass(frozen=True)
class Row:
    co2: float
    kind: str  # none, status, etco2, rr, fico2, breath
    value: float
    status: int


FLAG_CHOICES = [F.SENSOR_ERROR, F.CHECK_ADAPTER, F.BREATH_OK, F.OUT_OF_RANGE,
                F.NOT_READY_TO_ZERO, F.SLEEP, F.NO_BREATHS, F.WARM_UP, F.OVER_TEMPERATURE,
                F.COMPENSATION_NOT_SET, F.SENSOR_FAULTY]  # fmt: skip


@st.composite
def rows(draw) -> Row:
    co2 = draw(st.integers(-1000, 15383)) / 100
    kind = draw(st.sampled_from(["none", "status", "etco2", "rr", "fico2", "breath"]))
    value = 0.0
    status = 0
    if kind in ("etco2", "fico2"):
        value = draw(st.integers(0, 16383)) / 10
    elif kind == "rr":
        value = float(draw(st.integers(0, 16383)))
    elif kind == "status":
        for flag in draw(st.lists(st.sampled_from(FLAG_CHOICES), max_size=4)):
            status |= int(flag)
        status |= int(draw(st.sampled_from([F.NONE, F.ZERO_IN_PROGRESS, F.ZERO_REQUIRED])))
    return Row(co2, kind, value, status)


def batch_of(items: list[Row]) -> CapnoBatch:
    nan = float("nan")

    def col(kind: str) -> list[float]:
        return [r.value if r.kind == kind else nan for r in items]

    return CapnoBatch.build(
        [r.co2 for r in items],
        etco2_mmhg=col("etco2"),
        fico2_mmhg=col("fico2"),
        rr_bpm=col("rr"),
        breath_detected=[r.kind == "breath" for r in items],
        status=[r.status for r in items],
        status_frame=[r.kind == "status" for r in items],
    )


@given(items=st.lists(rows(), min_size=1, max_size=20), sync=st.integers(0, 127))
@FAST
def test_the_vectorised_encoder_writes_what_the_frame_by_frame_one_does(items, sync) -> None:
    batch = batch_of(items)
    one_by_one = b"".join(
        cs.waveform_frame(sync + i, float(batch.co2_mmhg[i]), *cs.row_parameter(batch, i))
        for i in range(len(batch))
    )
    data, ends = cs.encode_stream(batch, sync)
    assert data == one_by_one and int(ends[-1]) == len(data)


def assert_decodes_to(batch: CapnoBatch, items: list[Row], believed: list[bool]) -> None:
    """`believed[i]`: item i's frame is believed (so it is a row, and its status held)."""
    shown = [item for item, b in zip(items, believed, strict=True) if b]
    assert len(batch) == len(shown)
    held = 0
    for i, (row, item) in enumerate(zip(batch, shown, strict=True)):
        assert math.isclose(row.co2_mmhg, item.co2, abs_tol=0.005), (i, row, item)
        for kind, got in (("etco2", row.etco2_mmhg), ("fico2", row.fico2_mmhg),
                          ("rr", row.rr_bpm)):  # fmt: skip
            if item.kind == kind:
                assert got is not None and math.isclose(got, item.value, abs_tol=0.01)
            else:
                assert got is None, (i, kind, row, item)
        assert row.breath_detected == (item.kind == "breath")
        if item.kind == "status":
            held = item.status
        assert int(row.status) == held, (i, row, item)


def decode(parts: list[bytes]) -> CapnoBatch:
    decoder = CapnostatDecoder()
    return CapnoBatch.concat([decoder.feed(p) for p in parts])


def forms_frame(garbage: bytes) -> bool:
    decoder = CapnostatDecoder()
    decoder.feed(garbage)
    return decoder.counters.frames > 0


@given(items=st.lists(rows(), min_size=1, max_size=12), data=st.data())
@FAST
def test_encode_decode_is_identity_for_any_split(items: list[Row], data) -> None:
    stream = CapnostatEncoder().encode(batch_of(items))
    believed = [i > 0 for i in range(len(items))]  # the first frame confirms the rest
    assert_decodes_to(decode([stream]), items, believed)
    assert_decodes_to(decode([bytes([b]) for b in stream]), items, believed)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert_decodes_to(decode(pieces), items, believed)


@given(items=st.lists(rows(), min_size=1, max_size=6), data=st.data())
@FAST
def test_garbage_between_frames_split_anywhere_changes_nothing(items: list[Row], data) -> None:
    encoder = CapnostatEncoder()
    frames = [encoder.encode(batch_of([item])) for item in items]
    garbage = data.draw(st.lists(st.binary(max_size=10), min_size=len(items) + 1,
                                 max_size=len(items) + 1))  # fmt: skip
    for g in garbage:
        assume(not forms_frame(g))  # a receiver could not tell such bytes from a frame
    stream = b"".join(g + f for g, f in zip(garbage, [*frames, b""], strict=True))
    # Garbage before a frame breaks the run: that frame must confirm itself again.
    believed = [i > 0 and not garbage[i] for i in range(len(items))]
    assert_decodes_to(decode([stream]), items, believed)
    assert_decodes_to(decode([bytes([b]) for b in stream]), items, believed)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert_decodes_to(decode(pieces), items, believed)


def assert_in_range(batch: CapnoBatch) -> None:
    co2 = batch.co2_mmhg
    assert np.all((co2 >= cs.CO2_MIN_MMHG - 1e-3) & (co2 <= cs.CO2_MAX_MMHG + 1e-3))
    for col, top in ((batch.etco2_mmhg, 1638.3), (batch.fico2_mmhg, 1638.3),
                     (batch.rr_bpm, 16383)):  # fmt: skip
        finite = col[np.isfinite(col)]
        assert np.all((finite >= 0) & (finite <= top + 1e-3))
    assert np.all(batch.lost_before >= 0) and np.all(batch.lost_before < 128)


@given(chunks=st.lists(st.binary(max_size=300), max_size=5))
@settings(max_examples=80, deadline=None)
def test_random_bytes_never_raise_and_stay_in_range(chunks: list[bytes]) -> None:
    decoder = CapnostatDecoder()
    commands = cs.CapnostatCommandDecoder()
    for chunk in chunks:
        assert_in_range(decoder.feed(chunk))
        commands.feed(chunk)
        assert decoder._framer.pending_bytes <= cs.MAX_NBF + 2


def test_a_megabyte_of_noise_never_raises_and_memory_stays_bounded() -> None:
    rng = np.random.default_rng(16)
    decoder = CapnostatDecoder()
    for size in (1, 7, 4096, 100_000, 1_000_000):
        out = decoder.feed(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        assert_in_range(out)
        assert decoder._framer.pending_bytes <= cs.MAX_NBF + 2
    assert decoder.counters.bytes_in == 1 + 7 + 4096 + 100_000 + 1_000_000


# ------------------------------------------------------------------ the decode command


def test_vitalmon_decode_capnostat_prints_one_line_per_frame(tmp_path) -> None:
    nan = float("nan")
    batch = CapnoBatch.build(
        [0.5, 37.25, 2.0, 3.0],
        etco2_mmhg=[nan, 38.1, nan, nan],
        rr_bpm=[nan, nan, 14, nan],
        fico2_mmhg=[nan, nan, nan, 0.4],
        status=[int(F.BREATH_OK | F.WARM_UP), 0, 0, 0],
        status_frame=[True, False, False, False],
    )
    path = tmp_path / "co2.bin"
    # lead(0): the frame before the first, which only confirms the run (not printed)
    path.write_bytes(b"\x01\x02" + lead(0) + CapnostatEncoder().encode(batch) + cs.nack())
    result = run_vitalmon("decode", "capnostat", str(path))
    assert result.returncode == 0, result.stderr
    base = {"etco2": None, "fico2": None, "rr": None, "breath": True, "status": ["warm_up"]}
    assert json_lines(result.stdout) == [
        {**base, "co2": 0.5},
        {**base, "co2": 37.25, "etco2": 38.1},
        {**base, "co2": 2, "rr": 14},
        {**base, "co2": 3, "fico2": 0.4},
        {"frame": "nack", "code": 0, "boot": True},
    ]
    summary = run_vitalmon("decode", "capnostat", str(path), "--summary")
    [counters] = json_lines(summary.stdout)
    assert counters["frames"] == 5 and counters["unconfirmed"] == 1
    assert counters["bytes_dropped"] == 2 + len(lead(0))  # the noise, the unconfirmed frame
    assert counters["lost_frames"] == 0
