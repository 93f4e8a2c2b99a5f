"""SunTech Advantage OEM NIBP module (`suntech`): command frames out, response frames back.

Per docs/protocols.md. Host to module: ':' (0x3A), command, data, checksum. Module to
host: '>' (0x3E), LEN (the whole frame's length), data, checksum. The checksum
makes every frame's bytes sum to 0 mod 256. The module sends nothing unasked.

Both directions get an incremental decoder (the virtual module decodes commands,
the monitor decodes responses) and an encoder. The decoders are vectorised
(`drivers.framescan`); they hold back a frame until it is complete, and
`flush()` gives up on a partial frame that will never complete (garbage that
looked like a start) so the frames behind it are found.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from drivers.base import Encoder, LineSettings
from drivers.framescan import FrameScanner
from drivers.types import NibpReading

LINE = LineSettings(baudrate=9600)
COMMAND_START = 0x3A  # ':'
RESPONSE_START = 0x3E  # '>'

ERROR_TEXTS: dict[int, str] = {
    1: "weak signal",
    2: "erratic signal",
    3: "retries exceeded",
    4: "measurement time exceeded",
    85: "pneumatic blockage",
    87: "inflation timeout",
    89: "over-pressure",
    90: "power fault",
}


def error_text(code: int) -> str:
    """The module's words for an error code (unknown codes are said as such)."""
    if code == 0:
        return ""
    return ERROR_TEXTS.get(code, f"unknown error {code}")


def checksum(body: bytes) -> int:
    """The byte that makes `body + checksum` sum to 0 mod 256."""
    return (0x100 - sum(body)) & 0xFF


# ---------------------------------------------------------------- commands (host -> module)


class CommandKind(enum.Enum):
    START_ADULT = "start_adult"
    START_PEDIATRIC = "start_pediatric"
    START_NEONATE = "start_neonate"
    ABORT = "abort"
    GET_BP_DATA = "get_bp_data"
    GET_CUFF_PRESSURE = "get_cuff_pressure"
    GET_RETURN_CODE = "get_return_code"
    MODULE_DATA = "module_data"
    SET_INITIAL_INFLATE = "set_initial_inflate"
    CALIBRATE = "calibrate"


# Command byte -> number of data bytes that follow it.
COMMAND_DATA_LEN: dict[int, int] = {0x20: 0, 0x87: 0, 0x28: 0, 0x00: 0, 0x79: 2, 0x17: 2, 0x04: 1}

# Fixed command bodies (without the checksum), as the table in docs/protocols.md lists them.
FIXED_COMMANDS: dict[CommandKind, bytes] = {
    CommandKind.START_ADULT: b"\x3a\x20",
    CommandKind.START_PEDIATRIC: b"\x3a\x87",
    CommandKind.START_NEONATE: b"\x3a\x28",
    CommandKind.ABORT: b"\x3a\x79\x01\x00",
    CommandKind.GET_BP_DATA: b"\x3a\x79\x03\x00",
    CommandKind.GET_CUFF_PRESSURE: b"\x3a\x79\x05\x00",
    CommandKind.GET_RETURN_CODE: b"\x3a\x79\x02\x03",
    CommandKind.MODULE_DATA: b"\x3a\x00",
}
_BODY_TO_KIND = {body: kind for kind, body in FIXED_COMMANDS.items()}
CALIBRATION_POINTS_MMHG = {0x00: 0, 0x01: 250}


@dataclass(frozen=True, slots=True)
class SuntechCommand:
    """One host command; `value` is the initial inflate (mmHg) or calibration point (mmHg)."""

    kind: CommandKind
    value: int | None = None

    def to_json(self) -> dict[str, object]:
        return {"command": self.kind.value, "value": self.value}


def encode_command(kind: CommandKind, value: int | None = None) -> bytes:
    """Command bytes, checksum included."""
    if kind in FIXED_COMMANDS:
        body = FIXED_COMMANDS[kind]
    elif kind is CommandKind.SET_INITIAL_INFLATE:
        if value is None or not 0 <= value <= 0xFFFF:
            raise ValueError(f"initial inflate must be 0-65535 mmHg, not {value!r}")
        body = bytes((COMMAND_START, 0x17, value & 0xFF, value >> 8))
    elif kind is CommandKind.CALIBRATE:
        points = {mmhg: code for code, mmhg in CALIBRATION_POINTS_MMHG.items()}
        if value not in points:
            raise ValueError(f"calibration point must be 0 or 250 mmHg, not {value!r}")
        body = bytes((COMMAND_START, 0x04, points[value]))
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(f"no encoding for {kind}")
    return body + bytes((checksum(body),))


def _parse_command(frame: bytes) -> SuntechCommand | None:
    body = frame[:-1]
    kind = _BODY_TO_KIND.get(body)
    if kind is not None:
        return SuntechCommand(kind)
    if body[1] == 0x17:
        return SuntechCommand(CommandKind.SET_INITIAL_INFLATE, body[2] | (body[3] << 8))
    if body[1] == 0x04 and body[2] in CALIBRATION_POINTS_MMHG:
        return SuntechCommand(CommandKind.CALIBRATE, CALIBRATION_POINTS_MMHG[body[2]])
    return None


# ---------------------------------------------------------------- responses (module -> host)


class Ack(enum.Enum):
    """The one-character answers (LEN 4)."""

    OK = "O"
    DONE = "K"
    BUSY = "B"
    ABORTED = "A"
    SLEEP = "S"


LEN_ACK = 4
LEN_CUFF = 5
LEN_RETURN_CODE = 6
LEN_BP_DATA = 0x18
LEN_MODULE_DATA = 0x43
RESPONSE_LENGTHS = frozenset({LEN_ACK, LEN_CUFF, LEN_RETURN_CODE, LEN_BP_DATA, LEN_MODULE_DATA})
MODULE_DATA_PAYLOAD = LEN_MODULE_DATA - 3


@dataclass(frozen=True, slots=True)
class AckResponse:
    ack: Ack

    def to_json(self) -> dict[str, object]:
        return {"response": "ack", "ack": self.ack.name.lower()}


@dataclass(frozen=True, slots=True)
class CuffPressureResponse:
    mmhg: int  # signed 16-bit: a module reports a small negative offset near zero

    def to_json(self) -> dict[str, object]:
        return {"response": "cuff_pressure", "cuff_mmhg": self.mmhg}


@dataclass(frozen=True, slots=True)
class ReturnCodeResponse:
    code: int  # byte 4; 0 = OK

    def to_json(self) -> dict[str, object]:
        return {"response": "return_code", "code": self.code}


@dataclass(frozen=True, slots=True)
class BpDataResponse:
    """The BP data block (LEN 0x18). Raw fields as sent; `reading()` says what they mean."""

    systolic_mmhg: int
    diastolic_mmhg: int
    bit_test: int
    bp_status: int  # non-zero = the measurement finished
    test_codes: bytes  # offsets 8-15
    heart_rate_bpm: int
    map_mmhg: int
    error_code: int

    @property
    def finished(self) -> bool:
        return self.bp_status != 0

    def reading(self) -> NibpReading:
        """A finished measurement as a reading: no numbers when the module reported an error."""
        if self.error_code:
            return NibpReading(None, None, None, None, self.error_code, error_text(self.error_code))
        return NibpReading(
            self.systolic_mmhg, self.diastolic_mmhg, self.map_mmhg, self.heart_rate_bpm
        )

    def to_json(self) -> dict[str, object]:
        ok = self.error_code == 0
        return {
            "response": "bp_data",
            "finished": self.finished,
            "sys": self.systolic_mmhg if ok else None,
            "dia": self.diastolic_mmhg if ok else None,
            "map": self.map_mmhg if ok else None,
            "pr": self.heart_rate_bpm if ok else None,
            "error_code": self.error_code,
            "error": error_text(self.error_code),
        }


@dataclass(frozen=True, slots=True)
class ModuleDataResponse:
    """Firmware, lot, serial number and cycle count (LEN 0x43); the field layout is not
    documented, so the payload is kept whole and shown as its printable text."""

    payload: bytes

    @property
    def text(self) -> str:
        return "".join(chr(b) if 32 <= b < 127 else " " for b in self.payload).strip()

    def to_json(self) -> dict[str, object]:
        return {"response": "module_data", "text": self.text}


SuntechResponse = (
    AckResponse | CuffPressureResponse | ReturnCodeResponse | BpDataResponse | ModuleDataResponse
)
_ACKS = {ord(a.value): a for a in Ack}


def _u16(frame: bytes, at: int) -> int:
    return frame[at] | (frame[at + 1] << 8)


def _parse_response(frame: bytes) -> SuntechResponse | None:
    length = frame[1]
    if length == LEN_ACK:
        ack = _ACKS.get(frame[2])
        return None if ack is None else AckResponse(ack)
    if length == LEN_CUFF:
        return CuffPressureResponse(int.from_bytes(frame[2:4], "little", signed=True))
    if length == LEN_RETURN_CODE:
        return ReturnCodeResponse(frame[4])
    if length == LEN_BP_DATA:
        return BpDataResponse(
            systolic_mmhg=_u16(frame, 2),
            diastolic_mmhg=_u16(frame, 4),
            bit_test=frame[6],
            bp_status=frame[7],
            test_codes=bytes(frame[8:16]),
            heart_rate_bpm=_u16(frame, 16),
            map_mmhg=_u16(frame, 18),
            error_code=frame[20],
        )
    if length == LEN_MODULE_DATA:
        return ModuleDataResponse(bytes(frame[2:-1]))
    return None


def _finish(body: bytes) -> bytes:
    return body + bytes((checksum(body),))


def encode_ack(ack: Ack) -> bytes:
    return _finish(bytes((RESPONSE_START, LEN_ACK, ord(ack.value))))


def encode_cuff_pressure(mmhg: int) -> bytes:
    return _finish(bytes((RESPONSE_START, LEN_CUFF)) + int(mmhg).to_bytes(2, "little", signed=True))


def encode_return_code(code: int) -> bytes:
    return _finish(bytes((RESPONSE_START, LEN_RETURN_CODE, 0, 0, code & 0xFF)))


def encode_bp_data(response: BpDataResponse) -> bytes:
    r = response
    test_codes = r.test_codes.ljust(8, b"\x00")[:8]
    body = (
        bytes((RESPONSE_START, LEN_BP_DATA))
        + r.systolic_mmhg.to_bytes(2, "little")
        + r.diastolic_mmhg.to_bytes(2, "little")
        + bytes((r.bit_test & 0xFF, r.bp_status & 0xFF))
        + test_codes
        + r.heart_rate_bpm.to_bytes(2, "little")
        + r.map_mmhg.to_bytes(2, "little")
        + bytes((r.error_code & 0xFF, 0, 0))
    )
    return _finish(body)


def encode_module_data(payload: bytes | str) -> bytes:
    """Module data; a payload shorter than the frame's 64 bytes is padded with spaces."""
    if isinstance(payload, str):
        payload = payload.encode("ascii", "replace")
    payload = payload[:MODULE_DATA_PAYLOAD].ljust(MODULE_DATA_PAYLOAD)
    return _finish(bytes((RESPONSE_START, LEN_MODULE_DATA)) + payload)


def encode_response(response: SuntechResponse) -> bytes:
    """Any response object back to its bytes (the inverse of the decoder)."""
    if isinstance(response, AckResponse):
        return encode_ack(response.ack)
    if isinstance(response, CuffPressureResponse):
        return encode_cuff_pressure(response.mmhg)
    if isinstance(response, ReturnCodeResponse):
        return encode_return_code(response.code)
    if isinstance(response, BpDataResponse):
        return encode_bp_data(response)
    return encode_module_data(response.payload)


# ---------------------------------------------------------------- decoders


def _length_table(lengths: dict[int, int]) -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for byte, length in lengths.items():
        table[byte] = length
    return table


_ACK_TABLE = np.zeros(256, dtype=bool)
_ACK_TABLE[list(_ACKS)] = True
# Lookup tables, not np.isin (a set operation: ~50 us a call, on a frame or two).
_SUBCOMMAND_79_TABLE = np.zeros(1 << 16, dtype=bool)
_SUBCOMMAND_79_TABLE[
    [(body[2] << 8) | body[3] for body in FIXED_COMMANDS.values() if body[1] == 0x79]
] = True
_CALIBRATION_TABLE = np.zeros(256, dtype=bool)
_CALIBRATION_TABLE[list(CALIBRATION_POINTS_MMHG)] = True


class SuntechResponseDecoder(FrameScanner[SuntechResponse]):
    """Module -> host bytes to response objects (what the monitor uses)."""

    start_byte = RESPONSE_START
    length_table = _length_table({n: n for n in RESPONSE_LENGTHS})

    def contents_ok(self, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        ok = np.ones(len(starts), dtype=bool)
        acks = lengths == LEN_ACK
        ok[acks] = _ACK_TABLE[buf[starts[acks] + 2]]
        return ok

    def parse(self, frame: bytes) -> SuntechResponse:
        response = _parse_response(frame)
        assert response is not None  # contents_ok let only known frames through
        return response


class SuntechCommandDecoder(FrameScanner[SuntechCommand]):
    """Host -> module bytes to command objects (what the virtual module uses)."""

    start_byte = COMMAND_START
    length_table = _length_table({cmd: 3 + n for cmd, n in COMMAND_DATA_LEN.items()})

    def contents_ok(self, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        ok = np.ones(len(starts), dtype=bool)
        command = buf[starts + 1]
        sub = command == 0x79
        pair = (buf[starts[sub] + 2].astype(np.int64) << 8) | buf[starts[sub] + 3]
        ok[sub] = _SUBCOMMAND_79_TABLE[pair]
        cal = command == 0x04
        ok[cal] = _CALIBRATION_TABLE[buf[starts[cal] + 2]]
        return ok

    def parse(self, frame: bytes) -> SuntechCommand:
        command = _parse_command(frame)
        assert command is not None  # contents_ok let only known commands through
        return command


class SuntechResponseEncoder(Encoder[SuntechResponse]):
    """Registry face of the response encoder (the simulator's side of the wire)."""

    def encode(self, response: SuntechResponse) -> bytes:
        return encode_response(response)
