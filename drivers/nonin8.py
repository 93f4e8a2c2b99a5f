"""Nonin serial data format 8 (`nonin8`): 4 bytes once a second, numerics only, no checksum.

Per docs/protocols.md: byte 1 has bit 7 set (bit 5 OOT, 4 low perfusion, 3 marginal
perfusion, 2 ARTF, 1-0 = HR bits 8-7); byte 2 = HR-D bits 6-0; byte 3 = SpO2-D;
byte 4 = STAT2 (bit 5 SmartPoint, bit 3 SNSA, bit 0 low battery). Bytes 2-4
carry 7-bit values, so only byte 1 has bit 7 set: that is the only framing a
receiver has. There is no pleth in this format (the column is NaN).
"""

from __future__ import annotations

import numpy as np

from drivers.base import LineSettings, OximeterDecoder
from drivers.fixedframe import FrameScan, RowEncoder, ScannedDecoder, whole_or_missing
from drivers.nonin import HR_MISSING, hr_from_pair, hr_value, select_format_command, spo2_value
from drivers.types import OximeterBatch, OximeterFlag

FRAME_LEN = 4
SAMPLE_RATE_HZ = 1.0
LINE = LineSettings(baudrate=9600)
SPO2_MISSING = 127

STATUS_OOT = 0x20
STATUS_LOW_PERFUSION = 0x10
STATUS_MARGINAL_PERFUSION = 0x08
STATUS_ARTIFACT = 0x04
STAT2_SMARTPOINT = 0x20
STAT2_SENSOR_ALARM = 0x08
STAT2_LOW_BATTERY = 0x01

_STATUS_BITS = (
    (STATUS_OOT, OximeterFlag.OUT_OF_TRACK),
    (STATUS_LOW_PERFUSION, OximeterFlag.LOW_PERFUSION),
    (STATUS_MARGINAL_PERFUSION, OximeterFlag.MARGINAL_PERFUSION),
    (STATUS_ARTIFACT, OximeterFlag.ARTIFACT),
)
_STAT2_BITS = (
    (STAT2_SENSOR_ALARM, OximeterFlag.SENSOR_ALARM),
    (STAT2_LOW_BATTERY, OximeterFlag.LOW_BATTERY),
)


def _table(bits: tuple[tuple[int, OximeterFlag], ...]) -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for value in range(256):
        table[value] = sum(int(flag) for bit, flag in bits if value & bit)
    return table


STATUS_TO_FLAGS = _table(_STATUS_BITS)
STAT2_TO_FLAGS = _table(_STAT2_BITS)


# No checksum, and bit 7 of byte 1 is the only framing: one random 4-byte window in 16
# has that shape. A frame is believed only in a back-to-back run of CONFIRM_FRAMES in
# which each frame's display values follow the one before as a device's can (they are
# averaged and change slowly), and it is handed on only once HOLD_FRAMES more have
# followed it: so noise must form three linked frames of its own to pass, whether it
# continues a real run (right after a frame) or leads into one (right before), about
# once in 10**9 bursts. A real device is believed 5 s after each break, and each value
# is handed on 2 s after its frame came.
CONFIRM_FRAMES = 5
HOLD_FRAMES = 2
FOLLOW_SPO2_PERCENT = 10  # display SpO2 moves less than this in a second ...
FOLLOW_HR_BPM = 40  # ... and display pulse rate less than this


def find_frames(buf: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    high = buf >= 0x80
    header = high[:m]
    shaped = header & ~(high[1 : m + 1] | high[2 : m + 2] | high[3 : m + 3])
    spo2 = buf[2 : m + 2]
    return header, shaped & ((spo2 <= 100) | (spo2 == SPO2_MISSING))


class Nonin8Decoder(ScannedDecoder[OximeterBatch], OximeterDecoder):
    """Incremental decoder for Nonin format 8: one row per 1-second frame."""

    sample_rate_hz = SAMPLE_RATE_HZ
    pleth_max = 0
    confirm_frames = CONFIRM_FRAMES
    hold_frames = HOLD_FRAMES

    follow = ((SPO2_MISSING, FOLLOW_SPO2_PERCENT), (HR_MISSING, FOLLOW_HR_BPM))

    def __init__(self) -> None:
        super().__init__(FRAME_LEN, find_frames)

    def _follow_values(self, scan: FrameScan) -> list[np.ndarray]:
        rows = scan.rows()
        hr = hr_from_pair(rows[:, 0].astype(np.int16), rows[:, 1])
        return [rows[:, 2].astype(np.int16), hr]

    def startup_bytes(self) -> bytes:
        """Sent on every (re)open: select format 8 (docs/protocols.md)."""
        return select_format_command(8)

    def _decode(self, scan: FrameScan) -> OximeterBatch:
        if self._take_frames(scan) is None:
            return OximeterBatch.empty(SAMPLE_RATE_HZ)
        k = len(scan.starts)
        spo2_raw, hr_raw = self._taken_values  # as `_follow_values` read them
        rows = scan.rows()
        status, stat2 = rows[:, 0], rows[:, 3]
        flags = STATUS_TO_FLAGS[status] | STAT2_TO_FLAGS[stat2]
        return OximeterBatch(
            SAMPLE_RATE_HZ,
            np.full(k, np.nan, dtype=np.float32),
            spo2_value(spo2_raw),
            hr_value(hr_raw),
            np.full(k, np.nan, dtype=np.float32),
            flags,
            {"smartpoint": ((stat2 & STAT2_SMARTPOINT) != 0).astype(np.float32)},
        )


class Nonin8Encoder(RowEncoder):
    """Writes each row as one format-8 frame (the device sends one a second)."""

    sample_rate_hz = SAMPLE_RATE_HZ
    pleth_max = 0

    def _encode_rows(self, batch: OximeterBatch, flags: np.ndarray) -> bytes:
        n = len(batch)
        hr = whole_or_missing(batch.pulse_rate_bpm, HR_MISSING, HR_MISSING)
        spo2 = whole_or_missing(batch.spo2_percent, SPO2_MISSING, 100)
        status = np.full(n, 0x80, dtype=np.int64) | ((hr >> 7) & 0x03)
        for bit, flag in _STATUS_BITS:
            status |= np.where(flags & flag, bit, 0)
        stat2 = np.zeros(n, dtype=np.int64)
        for bit, flag in _STAT2_BITS:
            stat2 |= np.where(flags & flag, bit, 0)
        frames = np.empty((n, FRAME_LEN), dtype=np.uint8)
        frames[:, 0] = status
        frames[:, 1] = hr & 0x7F
        frames[:, 2] = spo2
        frames[:, 3] = stat2
        return frames.tobytes()
