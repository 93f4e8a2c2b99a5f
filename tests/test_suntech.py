"""SunTech codec: frames built by hand from docs/protocols.md, both directions, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.registry import get_protocol, make_decoder, make_encoder, parse_port_spec
from drivers.suntech import (
    ERROR_TEXTS,
    Ack,
    AckResponse,
    BpDataResponse,
    CommandKind,
    CuffPressureResponse,
    ModuleDataResponse,
    ReturnCodeResponse,
    SuntechCommand,
    SuntechCommandDecoder,
    SuntechResponseDecoder,
    encode_command,
    encode_response,
    error_text,
)


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text)


# Every command as the table in docs/protocols.md lists it, byte for byte.
COMMAND_TABLE = [
    (CommandKind.START_ADULT, None, "3A 20 A6"),
    (CommandKind.START_PEDIATRIC, None, "3A 87 3F"),
    (CommandKind.START_NEONATE, None, "3A 28 9E"),
    (CommandKind.ABORT, None, "3A 79 01 00 4C"),
    (CommandKind.GET_BP_DATA, None, "3A 79 03 00 4A"),
    (CommandKind.GET_CUFF_PRESSURE, None, "3A 79 05 00 48"),
    (CommandKind.GET_RETURN_CODE, None, "3A 79 02 03 48"),
    (CommandKind.MODULE_DATA, None, "3A 00 C6"),
    (CommandKind.SET_INITIAL_INFLATE, 160, "3A 17 A0 00 0F"),
    (CommandKind.CALIBRATE, 0, "3A 04 00 C2"),
    (CommandKind.CALIBRATE, 250, "3A 04 01 C1"),
]


@pytest.mark.parametrize(("kind", "value", "table"), COMMAND_TABLE)
def test_each_command_encodes_as_the_table_and_sums_to_zero(kind, value, table) -> None:
    frame = encode_command(kind, value)
    assert frame == hexbytes(table)
    assert sum(frame) % 256 == 0


@pytest.mark.parametrize(("kind", "value", "table"), COMMAND_TABLE)
def test_each_table_command_decodes_one_byte_at_a_time(kind, value, table) -> None:
    decoder = SuntechCommandDecoder()
    out = []
    for byte in hexbytes(table):
        out += decoder.feed(bytes([byte]))
    assert out == [SuntechCommand(kind, value)]
    assert decoder.counters.bytes_dropped == 0


def test_bad_command_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        encode_command(CommandKind.CALIBRATE, 100)
    with pytest.raises(ValueError):
        encode_command(CommandKind.SET_INITIAL_INFLATE, -1)


@pytest.mark.parametrize(
    ("char", "ack"),
    [("4F", Ack.OK), ("4B", Ack.DONE), ("42", Ack.BUSY), ("41", Ack.ABORTED), ("53", Ack.SLEEP)],
)
def test_ack_responses(char: str, ack: Ack) -> None:
    body = hexbytes(f"3E 04 {char}")
    frame = body + bytes([(0x100 - sum(body)) & 0xFF])
    assert SuntechResponseDecoder().feed(frame) == [AckResponse(ack)]
    assert encode_response(AckResponse(ack)) == frame


def test_ack_o_by_hand() -> None:
    # 0x3E + 0x04 + 0x4F = 0x91; 0x100 - 0x91 = 0x6F
    assert SuntechResponseDecoder().feed(hexbytes("3E 04 4F 6F")) == [AckResponse(Ack.OK)]


@pytest.mark.parametrize(
    ("frame", "mmhg"),
    [
        ("3E 05 96 00 27", 150),
        ("3E 05 00 00 BD", 0),
        ("3E 05 FE FF C0", -2),
        ("3E 05 2C 01 90", 300),
    ],
)
def test_cuff_pressure_is_int16_little_endian(frame: str, mmhg: int) -> None:
    raw = hexbytes(frame)
    assert sum(raw) % 256 == 0
    assert SuntechResponseDecoder().feed(raw) == [CuffPressureResponse(mmhg)]
    assert encode_response(CuffPressureResponse(mmhg)) == raw


def test_return_code_is_byte_four() -> None:
    raw = hexbytes("3E 06 00 00 00 BC")
    assert SuntechResponseDecoder().feed(raw) == [ReturnCodeResponse(0)]
    raw = hexbytes("3E 06 00 00 07 B5")
    assert SuntechResponseDecoder().feed(raw) == [ReturnCodeResponse(7)]


def bp_frame(sys: int, dia: int, hr: int, map_: int, status: int, error: int) -> bytes:
    """A BP data block built from the offsets of docs/protocols.md, independently of the encoder."""
    frame = bytearray(0x18)
    frame[0], frame[1] = 0x3E, 0x18
    frame[2:4] = sys.to_bytes(2, "little")
    frame[4:6] = dia.to_bytes(2, "little")
    frame[6] = 0x00  # bit-test code
    frame[7] = status
    frame[8:16] = bytes(range(1, 9))  # test codes
    frame[16:18] = hr.to_bytes(2, "little")
    frame[18:20] = map_.to_bytes(2, "little")
    frame[20] = error
    frame[23] = (0x100 - sum(frame[:23])) & 0xFF
    return bytes(frame)


def test_bp_data_offsets() -> None:
    [resp] = SuntechResponseDecoder().feed(bp_frame(128, 82, 71, 97, 1, 0))
    assert isinstance(resp, BpDataResponse)
    assert resp.finished
    assert (resp.systolic_mmhg, resp.diastolic_mmhg, resp.heart_rate_bpm, resp.map_mmhg) == (
        128,
        82,
        71,
        97,
    )
    assert resp.test_codes == bytes(range(1, 9))
    reading = resp.reading()
    assert reading.ok and reading.systolic_mmhg == 128 and reading.map_mmhg == 97
    assert encode_response(resp) == bp_frame(128, 82, 71, 97, 1, 0)


def test_bp_data_not_finished_while_status_is_zero() -> None:
    [resp] = SuntechResponseDecoder().feed(bp_frame(0, 0, 0, 0, 0, 0))
    assert not resp.finished


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (1, "weak signal"),
        (2, "erratic signal"),
        (3, "retries exceeded"),
        (4, "measurement time exceeded"),
        (85, "pneumatic blockage"),
        (87, "inflation timeout"),
        (89, "over-pressure"),
        (90, "power fault"),
    ],
)
def test_every_error_code_decodes_with_its_text_and_no_numbers(code: int, text: str) -> None:
    [resp] = SuntechResponseDecoder().feed(bp_frame(120, 80, 70, 93, 1, code))
    assert resp.error_code == code
    reading = resp.reading()
    assert not reading.ok
    assert reading.error_code == code and reading.error_text == text == ERROR_TEXTS[code]
    assert reading.systolic_mmhg is None and reading.map_mmhg is None
    assert resp.to_json()["sys"] is None and resp.to_json()["error"] == text
    assert error_text(code) == text


def test_module_data_frame_is_67_bytes() -> None:
    raw = encode_response(ModuleDataResponse(b"FW 1.2"))
    assert len(raw) == 0x43 and raw[1] == 0x43 and sum(raw) % 256 == 0
    [resp] = SuntechResponseDecoder().feed(raw)
    assert resp.text == "FW 1.2"


def test_garbage_and_bad_checksums_are_dropped_and_counted() -> None:
    decoder = SuntechResponseDecoder()
    good = encode_response(CuffPressureResponse(88))
    bad = bytearray(good)
    bad[2] ^= 0x01
    out = decoder.feed(b"\x00\xff" + bytes(bad) + good)
    assert out == [CuffPressureResponse(88)]
    assert decoder.counters.checksum_failures == 1
    assert decoder.counters.bytes_dropped == 2 + len(bad)
    assert decoder.counters.resyncs == 1
    assert decoder.counters.frames == 1


def test_unknown_length_or_ack_char_is_not_a_frame() -> None:
    decoder = SuntechResponseDecoder()
    body = b"\x3e\x04Z"
    assert decoder.feed(body + bytes([(0x100 - sum(body)) & 0xFF])) == []
    assert decoder.feed(b"\x3e\x07\x00\x00\x00\x00\xbb") == []
    assert decoder.counters.frames == 0


def test_flush_gives_up_a_start_that_never_completes() -> None:
    decoder = SuntechResponseDecoder()
    ack = encode_response(AckResponse(Ack.OK))
    # '>' 0x43 announces a 67-byte frame: the real answer after it is held back...
    assert decoder.feed(b"\x3e\x43" + ack) == []
    assert decoder.pending == 2 + len(ack)
    # ...until the partial frame is given up as garbage.
    assert decoder.flush() == [AckResponse(Ack.OK)]
    assert decoder.pending == 0


def test_registry_knows_suntech() -> None:
    info = get_protocol("SUNTECH")
    assert info.kind == "nibp" and info.line.baudrate == 9600
    assert (info.line.bytesize, info.line.parity, info.line.stopbits) == (8, "N", 1)
    assert isinstance(make_decoder("suntech"), SuntechResponseDecoder)
    assert make_encoder("suntech").encode(AckResponse(Ack.OK)) == hexbytes("3E 04 4F 6F")
    spec = parse_port_spec("suntech:/dev/ttyUSB1?baud=19200", "nibp")
    assert spec.line.baudrate == 19200 and spec.url == "/dev/ttyUSB1"


# ------------------------------------------------------------------ property-based

u16 = st.integers(0, 0xFFFF)
responses = st.one_of(
    st.sampled_from(list(Ack)).map(AckResponse),
    st.integers(-0x8000, 0x7FFF).map(CuffPressureResponse),
    st.integers(0, 255).map(ReturnCodeResponse),
    st.builds(
        BpDataResponse,
        systolic_mmhg=u16,
        diastolic_mmhg=u16,
        bit_test=st.integers(0, 255),
        bp_status=st.integers(0, 255),
        test_codes=st.binary(min_size=8, max_size=8),
        heart_rate_bpm=u16,
        map_mmhg=u16,
        error_code=st.sampled_from([0, *ERROR_TEXTS]),
    ),
    st.binary(min_size=64, max_size=64).map(ModuleDataResponse),
)
commands = st.one_of(
    st.sampled_from(
        [
            k
            for k in CommandKind
            if k not in (CommandKind.SET_INITIAL_INFLATE, CommandKind.CALIBRATE)
        ]
    ).map(SuntechCommand),
    u16.map(lambda v: SuntechCommand(CommandKind.SET_INITIAL_INFLATE, v)),
    st.sampled_from([0, 250]).map(lambda v: SuntechCommand(CommandKind.CALIBRATE, v)),
)

RESPONSE_LENS = {4, 5, 6, 0x18, 0x43}


def false_frame_possible(stream: bytes, real_starts: set[int], start: int, lengths) -> bool:
    """Could any byte that does not begin a real frame pass for a frame's start?

    Such a stream is ambiguous for any decoder; the property excludes it.
    """
    for i, byte in enumerate(stream):
        if byte != start or i in real_starts or i + 1 >= len(stream):
            continue
        n = lengths(stream, i)
        if n and i + n <= len(stream) and sum(stream[i : i + n]) % 256 == 0:
            return True
    return False


def response_len(stream: bytes, i: int) -> int:
    return stream[i + 1] if stream[i + 1] in RESPONSE_LENS else 0


def command_len(stream: bytes, i: int) -> int:
    extra = {0x20: 0, 0x87: 0, 0x28: 0, 0x00: 0, 0x79: 2, 0x17: 2, 0x04: 1}.get(stream[i + 1])
    return 0 if extra is None else 3 + extra


def build(frames: list[bytes], garbage: list[bytes]) -> tuple[bytes, set[int]]:
    stream, starts = b"", set()
    for frame, junk in zip(frames, garbage, strict=False):
        stream += junk
        starts.add(len(stream))
        stream += frame
    return stream, starts


@settings(max_examples=150, deadline=None)
@given(
    st.lists(responses, min_size=1, max_size=8),
    st.lists(st.binary(max_size=12), min_size=8, max_size=8),
    st.data(),
)
def test_responses_round_trip_through_garbage_split_anywhere(items, garbage, data) -> None:
    frames = [encode_response(r) for r in items]
    stream, starts = build(frames, garbage)
    assume(not false_frame_possible(stream, starts, 0x3E, response_len))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = SuntechResponseDecoder()
    out = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += decoder.feed(stream[a:b])
    out += decoder.flush()
    assert out == items
    assert decoder.counters.frames == len(items)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(commands, min_size=1, max_size=8),
    st.lists(st.binary(max_size=12), min_size=8, max_size=8),
)
def test_commands_round_trip_through_garbage_byte_by_byte(items, garbage) -> None:
    frames = [encode_command(c.kind, c.value) for c in items]
    stream, starts = build(frames, garbage)
    assume(not false_frame_possible(stream, starts, 0x3A, command_len))
    decoder = SuntechCommandDecoder()
    out = []
    for byte in stream:
        out += decoder.feed(bytes([byte]))
    out += decoder.flush()
    assert out == items


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_nor_leave_the_protocol_range(noise: bytes) -> None:
    decoder = SuntechResponseDecoder()
    out = decoder.feed(noise) + decoder.flush()
    for resp in out:
        if isinstance(resp, CuffPressureResponse):
            assert -0x8000 <= resp.mmhg <= 0x7FFF
        elif isinstance(resp, BpDataResponse):
            assert 0 <= resp.systolic_mmhg <= 0xFFFF and 0 <= resp.error_code <= 255
        elif isinstance(resp, AckResponse):
            assert resp.ack in Ack
    commands_out = SuntechCommandDecoder().feed(noise)
    assert all(isinstance(c, SuntechCommand) for c in commands_out)
    counters = decoder.counters
    assert counters.bytes_in == len(noise)
    consumed = sum(len(encode_response(r)) for r in out)
    assert counters.bytes_dropped + consumed == len(noise)


def test_a_frame_hidden_inside_a_real_frame_is_not_taken() -> None:
    """BP data whose test codes happen to hold a whole ack frame: the ack is data."""
    hidden = hexbytes("3E 04 4F 6F")
    bp = BpDataResponse(120, 80, 0, 1, hidden + bytes(4), 70, 93, 0)
    raw = encode_response(bp)
    for cut in range(len(raw) + 1):
        decoder = SuntechResponseDecoder()
        out = list(decoder.feed(raw[:cut])) + list(decoder.feed(raw[cut:]))
        assert out == [bp], cut
        assert decoder.counters.bytes_dropped == 0


def _general_scan_only(decoder):
    """The same decoder with the one-whole-frame shortcut turned off."""
    decoder._one_whole_frame = lambda data: None
    return decoder


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(responses.map(encode_response), st.binary(max_size=8)), max_size=8),
    st.data(),
)
def test_a_whole_frame_fed_alone_is_taken_as_the_general_scan_takes_it(pieces, data) -> None:
    """Feeds that are a frame, a frame spoiled (checksum, length byte, contents), or
    noise: the shortcut and the general scan give the same frames and counters."""
    feeds = []
    for piece in pieces:
        spoil = data.draw(st.sampled_from(["none", "checksum", "length", "ack"]))
        frame = bytearray(piece)
        if spoil == "checksum" and frame:
            frame[-1] ^= 0x01
        elif spoil == "length" and len(frame) > 1:
            frame[1] = 0x07
        elif spoil == "ack" and len(frame) == 4:
            frame[2] = 0x21  # not an ack character, the checksum made good again
            frame[3] = -sum(frame[:3]) & 0xFF
        feeds.append(bytes(frame))
    for kind in (SuntechResponseDecoder, SuntechCommandDecoder):
        fast, general = kind(), _general_scan_only(kind())
        for feed in feeds:
            assert list(fast.feed(feed)) == list(general.feed(feed))
            assert fast.counters == general.counters and fast.pending == general.pending
        assert list(fast.flush()) == list(general.flush())
        assert fast.counters == general.counters


def test_commands_fed_whole_take_the_shortcut_and_match_the_general_scan() -> None:
    fast, general = SuntechCommandDecoder(), _general_scan_only(SuntechCommandDecoder())
    for kind in CommandKind:
        value = {CommandKind.SET_INITIAL_INFLATE: 160, CommandKind.CALIBRATE: 250}.get(kind)
        frame = encode_command(kind, value)
        assert SuntechCommandDecoder()._one_whole_frame(frame) is not None  # shortcut
        assert list(fast.feed(frame)) == list(general.feed(frame)) == [SuntechCommand(kind, value)]
    assert fast.counters == general.counters
