"""Contec CMS50 family: the 5-byte stream (`contec`), BerryMed BM1000 (`berry`), V7.0 (`contec7`).

5-byte stream (docs/protocols.md): bit 7 is set on byte 1 only, which is the whole
framing (no checksum). Byte 1: signal strength and status; byte 2: pleth;
byte 3: bar graph, status, pulse-rate bit 7; byte 4: pulse rate bits 0-6;
byte 5: SpO2. Invalid: PR 0xFF, SpO2 0x7F. BerryMed sends the same layout with
other meanings for some status bits, a 1-100 pleth (0 = invalid) and 100/s.

V7.0: a packet is a type byte (bit 7 clear), a "high byte" whose bit i is bit 7
of data byte i, then data bytes sent with bit 7 forced to 1. Real-time data is
type 0x01, 9 bytes. The device streams only after a start command and stops
unless kept alive, so its decoder offers the bytes the host must send.
"""

from __future__ import annotations

import numpy as np

from drivers.base import LineSettings, OximeterDecoder
from drivers.fixedframe import (
    FrameScan,
    RowEncoder,
    ScannedDecoder,
    pleth_field,
    whole_or_missing,
)
from drivers.types import OximeterBatch, OximeterFlag

FRAME_LEN = 5
SPO2_MAX = 100
PR_INVALID = 0xFF
SPO2_INVALID = 0x7F

# The 5-byte stream has no checksum: bit 7 on byte 1 only is its whole framing, and
# random bytes (a wrong baud rate, line noise) match it once in 32 positions. A frame is
# believed only in a back-to-back run of CONFIRM_FRAMES frames: noise forms such a run
# about once in 32**8 positions (never, in practice), while a real device needs 8 frames
# (133 ms at 60/s) to be believed after each break. Each frame is handed on only once
# HOLD_FRAMES more have followed it (17 ms at 60/s, 10 ms at 100/s), so noise that
# continues a real run for one frame (7 in 100 000 bursts did) is dropped with it.
CONFIRM_FRAMES = 8
HOLD_FRAMES = 1
# V7.0 packets: type 0x01 and eight bytes with bit 7 set, once in 65 536 positions of
# noise; three back to back (50 ms of a real stream) almost never.
CONTEC7_CONFIRM_FRAMES = 3
# A frame continues a run only if its SpO2 and pulse rate are within these of the
# frame before (a 60-100/s stream repeats its values and moves them in small steps);
# a bigger jump starts a new run, believed from its CONFIRM_FRAMES-th frame.
FOLLOW_SPO2_PERCENT = 2
FOLLOW_PR_BPM = 5

CONTEC_RATE_HZ = 60.0
BERRY_RATE_HZ = 100.0
CONTEC_LINE = LineSettings(baudrate=4800, parity="O")
BERRY_LINE = LineSettings(baudrate=9600)

# (byte index within the frame, bit, flag): which status bit means what.
StatusBits = tuple[tuple[int, int, OximeterFlag], ...]
CONTEC_BITS: StatusBits = (
    (0, 0x10, OximeterFlag.SEARCHING),  # searching too long
    (0, 0x20, OximeterFlag.SPO2_DROPPING),
    (0, 0x40, OximeterFlag.PULSE_BEAT),
    (2, 0x10, OximeterFlag.SENSOR_OFF),  # probe error
    (2, 0x20, OximeterFlag.SEARCHING),
)
BERRY_BITS: StatusBits = (
    (0, 0x10, OximeterFlag.NO_SIGNAL),
    (0, 0x20, OximeterFlag.SENSOR_OFF),  # probe unplugged
    (0, 0x40, OximeterFlag.PULSE_BEAT),
    (2, 0x10, OximeterFlag.SENSOR_OFF),  # no finger
    (2, 0x20, OximeterFlag.SEARCHING),
)


def _flag_table(bits: StatusBits, byte_index: int) -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for value in range(256):
        table[value] = sum(int(f) for i, bit, f in bits if i == byte_index and value & bit)
    return table


def _encode_bits(flags: np.ndarray, bits: StatusBits, byte_index: int) -> np.ndarray:
    """Status bits of one byte from flags; a flag two bits share is sent on the last one."""
    out = np.zeros(len(flags), dtype=np.int64)
    owner = {f: (i, bit) for i, bit, f in bits}
    for flag, (i, bit) in owner.items():
        if i == byte_index:
            out |= np.where(flags & flag, bit, 0)
    return out


def five_byte_frames(buf: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    high = buf >= 0x80
    header = high[:m]
    tail = high[1 : m + 1] | high[2 : m + 2] | high[3 : m + 3] | high[4 : m + 4]
    return header, header & ~tail & sendable_spo2(buf[4 : m + 4])


def sendable_spo2(raw: np.ndarray) -> np.ndarray:
    """A SpO2 byte a device can send: 0-100 %, or the "no value" code. Anything else
    (101-126) marks the frame as noise that happens to have the right shape."""
    return (raw <= SPO2_MAX) | (raw == SPO2_INVALID)


class ContecDecoder(ScannedDecoder[OximeterBatch], OximeterDecoder):
    """Incremental decoder for the Contec 5-byte stream, one row per frame."""

    sample_rate_hz = CONTEC_RATE_HZ
    pleth_max = 127
    status_bits = CONTEC_BITS
    pleth_zero_invalid = False
    confirm_frames = CONFIRM_FRAMES
    hold_frames = HOLD_FRAMES
    follow = ((SPO2_INVALID, FOLLOW_SPO2_PERCENT), (PR_INVALID, FOLLOW_PR_BPM))

    def __init__(self) -> None:
        super().__init__(FRAME_LEN, five_byte_frames)
        self._flags0 = _flag_table(self.status_bits, 0)
        self._flags2 = _flag_table(self.status_bits, 2)

    def _follow_values(self, scan: FrameScan) -> list[np.ndarray]:
        rows = scan.rows()
        pr = ((rows[:, 2].astype(np.int16) & 0x40) << 1) | rows[:, 3]
        return [rows[:, 4].astype(np.int16), pr]

    def _decode(self, scan: FrameScan) -> OximeterBatch:
        if self._take_frames(scan) is None:
            return OximeterBatch.empty(self.sample_rate_hz)
        k = len(scan.starts)
        rows = scan.rows()
        b0, b1, b2 = rows[:, 0], rows[:, 1], rows[:, 2]
        b4, pr_raw = self._taken_values  # as `_follow_values` read them
        pleth = b1.astype(np.float32)
        if self.pleth_zero_invalid:  # BerryMed: 0 = invalid, and 1-100 is the whole range
            pleth[(b1 == 0) | (b1 > self.pleth_max)] = np.nan
        pr = pr_raw.astype(np.float32)
        pr[pr_raw == PR_INVALID] = np.nan
        spo2 = b4.astype(np.float32)
        spo2[b4 > SPO2_MAX] = np.nan
        flags = self._flags0[b0] | self._flags2[b2]
        extras = {
            "signal_strength": (b0 & 0x0F).astype(np.float32),
            "bar_graph": (b2 & 0x0F).astype(np.float32),
        }
        return OximeterBatch(
            self.sample_rate_hz,
            pleth,
            spo2,
            pr,
            np.full(k, np.nan, dtype=np.float32),
            flags,
            extras,
        )


class BerryDecoder(ContecDecoder):
    """BerryMed BM1000: the Contec layout at 100/s with its own status bits."""

    sample_rate_hz = BERRY_RATE_HZ
    pleth_max = 100
    status_bits = BERRY_BITS
    pleth_zero_invalid = True


def _strength_and_bar(batch: OximeterBatch) -> tuple[np.ndarray, np.ndarray]:
    """Signal strength and bar graph from the batch's extras, else a good signal's."""
    n = len(batch)
    strength = batch.extras.get("signal_strength")
    bar = batch.extras.get("bar_graph")
    strength = np.full(n, 8) if strength is None else np.nan_to_num(strength).astype(np.int64)
    bar = np.full(n, 5) if bar is None else np.nan_to_num(bar).astype(np.int64)
    return strength, bar


class ContecEncoder(RowEncoder):
    """Writes rows as 5-byte frames; signal strength and bar graph from the extras if given."""

    sample_rate_hz = CONTEC_RATE_HZ
    pleth_max = 127
    status_bits = CONTEC_BITS
    pleth_min = 0

    def _encode_rows(self, batch: OximeterBatch, flags: np.ndarray) -> bytes:
        n = len(batch)
        pleth = pleth_field(batch.pleth, self.pleth_min, self.pleth_max)
        pleth[np.isnan(batch.pleth)] = 0
        pr = whole_or_missing(batch.pulse_rate_bpm, PR_INVALID, PR_INVALID - 1)
        spo2 = whole_or_missing(batch.spo2_percent, SPO2_INVALID, SPO2_MAX)
        strength, bar = _strength_and_bar(batch)
        frames = np.empty((n, FRAME_LEN), dtype=np.uint8)
        frames[:, 0] = 0x80 | (strength & 0x0F) | _encode_bits(flags, self.status_bits, 0)
        frames[:, 1] = pleth & 0x7F
        frames[:, 2] = (bar & 0x0F) | _encode_bits(flags, self.status_bits, 2) | ((pr >> 1) & 0x40)
        frames[:, 3] = pr & 0x7F
        frames[:, 4] = spo2
        return frames.tobytes()


class BerryEncoder(ContecEncoder):
    sample_rate_hz = BERRY_RATE_HZ
    pleth_max = 100
    status_bits = BERRY_BITS
    pleth_min = 1


# --- V7.0 -----------------------------------------------------------------

CONTEC7_RATE_HZ = 60.0
CONTEC7_LINE = LineSettings(baudrate=115200)
PACKET_LEN = 9
TYPE_REALTIME = 0x01
TYPE_DISCONNECT = 0x0D
PI_INVALID = 0xFFFF
PI_SCALE_PERCENT = 0.01  # raw units per percent: not verified against a device (docs/protocols.md)
PI_MAX_PERCENT = 100.0


def _command(code: int) -> bytes:
    return bytes([0x7D, 0x81, code, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80])


START_REALTIME = _command(0xA1)
STOP_REALTIME = _command(0xA2)
KEEPALIVE = _command(0xAF)
KEEPALIVE_INTERVAL_S = 2.0  # the device stops after 5 s without one

CONTEC7_BITS: StatusBits = (
    (0, 0x10, OximeterFlag.SEARCHING),  # searching too long
    (0, 0x20, OximeterFlag.SPO2_DROPPING),  # low SpO2
    (0, 0x40, OximeterFlag.PULSE_BEAT),
    (0, 0x80, OximeterFlag.SENSOR_OFF),  # probe error / finger out
    (1, 0x80, OximeterFlag.SEARCHING),
)
D2_PI_VALID = 0x10
_D_BITS = np.arange(PACKET_LEN - 2, dtype=np.uint8)  # d0-d6's bit 7, in the high byte


def v7_packets(buf: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    high = (buf >= 0x80).astype(np.int32)
    header = buf[:m] == TYPE_REALTIME
    highs = np.concatenate(([0], np.cumsum(high)))
    body_high = highs[PACKET_LEN : m + PACKET_LEN] - highs[1 : m + 1]
    # d4 (SpO2) is byte 6 with its bit 7 from bit 4 of the high byte.
    spo2 = (buf[6 : m + 6] & 0x7F) | (((buf[1 : m + 1] >> 4) & 1) << 7)
    return header, header & (body_high == PACKET_LEN - 1) & sendable_spo2(spo2)


class Contec7Decoder(ScannedDecoder[OximeterBatch], OximeterDecoder):
    """Incremental decoder for Contec V7.0 real-time packets; other packet types are skipped."""

    sample_rate_hz = CONTEC7_RATE_HZ
    pleth_max = 127
    keepalive_interval_s = KEEPALIVE_INTERVAL_S
    confirm_frames = CONTEC7_CONFIRM_FRAMES
    follow = ((SPO2_INVALID, FOLLOW_SPO2_PERCENT), (PR_INVALID, FOLLOW_PR_BPM))

    def __init__(self) -> None:
        super().__init__(PACKET_LEN, v7_packets)
        self._flags0 = _flag_table(CONTEC7_BITS, 0)
        self._flags1 = _flag_table(CONTEC7_BITS, 1)

    def startup_bytes(self) -> bytes:
        """Sent on every (re)open: the device streams nothing until asked."""
        return START_REALTIME

    def keepalive_bytes(self) -> bytes:
        """Sent every `keepalive_interval_s` while the link is up."""
        return KEEPALIVE

    def _follow_values(self, scan: FrameScan) -> list[np.ndarray]:
        d = self._data_bytes(scan)  # `_decode` gets them too (`_taken_values`)
        return [d[:, 4].astype(np.int16), d[:, 3].astype(np.int16), d]  # SpO2, PR

    @staticmethod
    def _data_bytes(scan: FrameScan) -> np.ndarray:
        """d0-d6 of each packet (a row each), bit 7 restored from the high byte."""
        rows = scan.rows()
        high_bits = (rows[:, 1:2] >> _D_BITS) & 1
        return (rows[:, 2:PACKET_LEN] & 0x7F) | (high_bits << 7)

    def _decode(self, scan: FrameScan) -> OximeterBatch:
        if self._take_frames(scan) is None:
            return OximeterBatch.empty(CONTEC7_RATE_HZ)
        spo2_raw, pr_raw, data = self._taken_values  # as `_follow_values` read them
        d = [data[:, i] for i in range(PACKET_LEN - 2)]
        pr = pr_raw.astype(np.float32)
        pr[pr_raw == PR_INVALID] = np.nan
        spo2 = spo2_raw.astype(np.float32)
        spo2[spo2_raw > SPO2_MAX] = np.nan
        pi_raw = d[5] | (d[6].astype(np.int64) << 8)
        pi = pi_raw.astype(np.float32) * np.float32(PI_SCALE_PERCENT)
        pi[(pi_raw == PI_INVALID) | ((d[2] & D2_PI_VALID) == 0) | (pi > PI_MAX_PERCENT)] = np.nan
        return OximeterBatch(
            CONTEC7_RATE_HZ,
            (d[1] & 0x7F).astype(np.float32),
            spo2,
            pr,
            pi,
            self._flags0[d[0]] | self._flags1[d[1]],
            {
                "signal_strength": (d[0] & 0x0F).astype(np.float32),
                "bar_graph": (d[2] & 0x0F).astype(np.float32),
            },
        )


class Contec7Encoder(RowEncoder):
    """Writes rows as V7.0 real-time packets (type 0x01)."""

    sample_rate_hz = CONTEC7_RATE_HZ
    pleth_max = 127

    def _encode_rows(self, batch: OximeterBatch, flags: np.ndarray) -> bytes:
        n = len(batch)
        pleth = pleth_field(batch.pleth, 0, self.pleth_max)
        pr = whole_or_missing(batch.pulse_rate_bpm, PR_INVALID, PR_INVALID - 1)
        spo2 = whole_or_missing(batch.spo2_percent, SPO2_INVALID, SPO2_MAX)
        pi_pct = batch.perfusion_index_percent
        pi_ok = np.isfinite(pi_pct) & (pi_pct >= 0) & (pi_pct <= PI_MAX_PERCENT)
        pi_raw = np.where(
            pi_ok, np.round(np.nan_to_num(pi_pct) / PI_SCALE_PERCENT), PI_INVALID
        ).astype(np.int64)
        strength, bar = _strength_and_bar(batch)
        d = [
            (strength & 0x0F) | _encode_bits(flags, CONTEC7_BITS, 0),
            pleth | _encode_bits(flags, CONTEC7_BITS, 1),
            (bar & 0x0F) | np.where(pi_ok, D2_PI_VALID, 0),
            pr,
            spo2,
            pi_raw & 0xFF,
            (pi_raw >> 8) & 0xFF,
        ]
        packets = np.empty((n, PACKET_LEN), dtype=np.uint8)
        packets[:, 0] = TYPE_REALTIME
        high = np.full(n, 0x80, dtype=np.int64)
        for i, byte in enumerate(d):
            high |= ((byte >> 7) & 1) << i
            packets[:, 2 + i] = byte | 0x80
        packets[:, 1] = high
        return packets.tobytes()
