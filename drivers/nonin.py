"""Nonin serial data formats 2 and 7 (`nonin2`, `nonin7`): 5-byte frames, 25 to a packet, 75/s.

Format 2 per docs/protocols.md: 0x01, status (bit 7 set), pleth, "float" byte,
checksum (sum of the first four mod 256). Format 7: status, pleth MSB, pleth
LSB, float byte, checksum (same rule), i.e. a 16-bit pleth and no lead byte.
The float byte's meaning depends on the frame's place in the packet, which only
a SYNC-started run of contiguous frames tells; a value is decoded only from such
a run, so garbage never becomes a number. Both formats share everything but the
frame layout, so they share one decoder and one encoder class here.
"""

from __future__ import annotations

from typing import overload

import numpy as np

from drivers.base import LineSettings, OximeterDecoder
from drivers.fixedframe import (
    FrameScan,
    HeldValue,
    RowEncoder,
    ScannedDecoder,
    last_index_where,
    pleth_field,
    whole_or_missing,
)
from drivers.types import OximeterBatch, OximeterFlag

FRAME_LEN = 5
FRAMES_PER_PACKET = 25
SAMPLE_RATE_HZ = 75.0
LINE = LineSettings(baudrate=9600)
HR_MISSING = 511
SPO2_MISSING = 127
SPO2_MAX = 100  # anything above is not a saturation: treated as no value
PLETH_MAX_FORMAT2 = 255
PLETH_MAX_FORMAT7 = 65535
FIRMWARE_REVISION = 42

# Packet positions (0-based) of the float-byte fields we decode.
POS_HR_MSB, POS_HR_LSB = 0, 1
POS_SPO2 = 2
POS_FIRMWARE = 3
POS_TIMER_MSB, POS_TIMER_LSB = 5, 6
POS_STAT2 = 7
POS_SPO2_D = 8
POS_SPO2_FAST = 9
POS_SPO2_BEAT = 10
POS_E_HR_MSB, POS_E_HR_LSB = 13, 14
POS_E_SPO2 = 15
POS_E_SPO2_D = 16
POS_HR_D_MSB, POS_HR_D_LSB = 19, 20
POS_E_HR_D_MSB, POS_E_HR_D_LSB = 21, 22

STAT2_LOW_BATTERY = 0x01
STAT2_SMARTPOINT = 0x20

# Values are re-sent every packet; three packets without one (1 s) and it is gone.
VALUE_MAX_AGE_FRAMES = 3 * FRAMES_PER_PACKET
# Frames of a back-to-back run before any is believed (docs/protocols.md). A format-2
# frame's shape (0x01, status bit 7, checksum) turns up in noise once in ~260 000
# positions, so 3 in a row (40 ms of a real stream) practically never; format 7 has no
# lead byte (once in ~2 000), so it waits for 5 (67 ms). A frame is handed on only once
# HOLD_FRAMES more have followed it (13 ms; format 7: 27 ms), so noise right after a
# device's frame must itself form 2 (format 7: 3) linked frames to continue its run.
CONFIRM_FRAMES_FORMAT2 = 3
CONFIRM_FRAMES_FORMAT7 = 5
HOLD_FRAMES_FORMAT2 = 1
HOLD_FRAMES_FORMAT7 = 2


def _status_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for status in range(256):
        flags = 0
        if status & 0x40:
            flags |= OximeterFlag.SENSOR_OFF
        if status & 0x20:
            flags |= OximeterFlag.ARTIFACT
        if status & 0x10:
            flags |= OximeterFlag.OUT_OF_TRACK
        if status & 0x08:
            flags |= OximeterFlag.SENSOR_ALARM
        perfusion = (status >> 1) & 0x03
        if perfusion == 0b01:
            flags |= OximeterFlag.PULSE_BEAT
        elif perfusion == 0b11:
            flags |= OximeterFlag.MARGINAL_PERFUSION
        elif perfusion == 0b10:
            flags |= OximeterFlag.LOW_PERFUSION
        if status & 0x01:
            flags |= OximeterFlag.PACKET_START
        table[status] = flags
    return table


STATUS_TO_FLAGS = _status_table()


def select_format_command(data_format: int) -> bytes:
    """Ask the device for a data format (Bluetooth models; a wired OEM III may ignore it).

    The device answers ACK 0x06 or NAK 0x15, which the decoder drops as a stray byte.
    """
    return bytes([0x02, 0x70, 0x02, 0x02, data_format, 0x03])


def hr_value(raw: np.ndarray) -> np.ndarray:
    """9-bit heart rate -> bpm, NaN for the "no value" 511."""
    out = raw.astype(np.float32)
    out[raw == HR_MISSING] = np.nan
    return out


def spo2_value(raw: np.ndarray) -> np.ndarray:
    """SpO2 byte -> %, NaN for the "no value" 127 and for anything above 100."""
    out = raw.astype(np.float32)
    out[raw > SPO2_MAX] = np.nan
    return out


@overload
def hr_from_pair(msb: int, lsb: int) -> int: ...


@overload
def hr_from_pair(msb: np.ndarray, lsb: np.ndarray) -> np.ndarray: ...


def hr_from_pair(msb: int | np.ndarray, lsb: int | np.ndarray) -> int | np.ndarray:
    """Heart rate from its two float bytes: ((MSB & 0x03) << 7) | (LSB & 0x7F)."""
    return ((msb & 0x03) << 7) | (lsb & 0x7F)


def format2_frames(buf: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    wide = buf.astype(np.uint16)
    b0, b1, b2, b3, b4 = (wide[i : i + m] for i in range(FRAME_LEN))
    header = (b0 == 0x01) & (b1 >= 0x80)
    return header, header & (((b0 + b1 + b2 + b3) & 0xFF) == b4) & (b3 < 0x80)


def format7_frames(buf: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    wide = buf.astype(np.uint16)
    b0, b1, b2, b3, b4 = (wide[i : i + m] for i in range(FRAME_LEN))
    # Status and pleth bytes look alike here, so a failed checksum at a status-like
    # byte means nothing: only whole frames count (no checksum-failure counting).
    valid = (b0 >= 0x80) & (b3 < 0x80) & (((b0 + b1 + b2 + b3) & 0xFF) == b4)
    return valid, valid


class Nonin2Decoder(ScannedDecoder[OximeterBatch], OximeterDecoder):
    """Incremental decoder for Nonin format 2."""

    sample_rate_hz = SAMPLE_RATE_HZ
    pleth_max = PLETH_MAX_FORMAT2
    data_format = 2
    confirm_frames = CONFIRM_FRAMES_FORMAT2
    hold_frames = HOLD_FRAMES_FORMAT2
    _frame_test = staticmethod(format2_frames)

    def __init__(self) -> None:
        super().__init__(FRAME_LEN, self._frame_test)
        self.reset()

    def startup_bytes(self) -> bytes:
        """Sent on every (re)open: select this data format (docs/protocols.md)."""
        return select_format_command(self.data_format)

    def _frame_fields(
        self, buf: np.ndarray, starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(status, pleth, float byte) of each frame."""
        return buf[starts + 1], buf[starts + 2].astype(np.float32), buf[starts + 3]

    def reset(self) -> None:
        """Forget everything in flight (after a reconnect): no value survives it."""
        super().reset()
        self._prev_pos = -1  # packet position of that frame, -1 = unknown
        self._prev_float = 0
        age = VALUE_MAX_AGE_FRAMES
        self._spo2_d = HeldValue(age)
        self._hr_d = HeldValue(age)
        self._spo2 = HeldValue(age)
        self._hr = HeldValue(age)
        self._stat2 = HeldValue(age)
        self._timer = HeldValue(age)

    def _decode(self, scan: FrameScan) -> OximeterBatch:
        contiguous = self._take_frames(scan)
        if contiguous is None:
            return OximeterBatch.empty(SAMPLE_RATE_HZ)
        k = len(contiguous)
        status, pleth, float_bytes = self._frame_fields(scan.buf, scan.starts)
        floats = float_bytes.astype(np.int64)
        sync = (status & 0x01).astype(bool)

        start = self._steady_start(sync, contiguous)
        if start is not None:
            # Steady stream (the common case): positions simply count on, so each field's
            # rows are every 25th row from a known offset and every pair is complete.
            positions = (start + np.arange(k, dtype=np.int64)) % FRAMES_PER_PACKET

            def rows_at(pos: int, msb_pos: int | None = None) -> np.ndarray:
                return np.arange((pos - start) % FRAMES_PER_PACKET, k, FRAMES_PER_PACKET)

        else:
            positions = self._positions(sync, contiguous)
            pos_prev = np.concatenate(([self._prev_pos], positions[:-1]))

            def rows_at(pos: int, msb_pos: int | None = None) -> np.ndarray:
                at = positions == pos
                if msb_pos is not None:
                    at &= pos_prev == msb_pos
                return at.nonzero()[0]

        float_ext = np.concatenate(([self._prev_float], floats))
        self._prev_pos = int(positions[-1])
        self._prev_float = int(floats[-1])
        believed = self._believed

        def trusted(rows: np.ndarray) -> np.ndarray:
            """Only a believed frame sets a value: one held for the rows after it must
            not come from noise that the run then dropped."""
            return rows if believed is None else rows[believed[rows]]

        def single(pos: int) -> tuple[np.ndarray, np.ndarray]:
            rows = trusted(rows_at(pos))
            return rows, floats[rows] & 0x7F

        def pair(msb_pos: int) -> tuple[np.ndarray, np.ndarray]:
            rows = trusted(rows_at(msb_pos + 1, msb_pos))
            return rows, hr_from_pair(float_ext[rows], floats[rows])

        rows, raw = pair(POS_HR_D_MSB)
        pulse_rate = self._hr_d.fill(k, rows, hr_value(raw))
        rows, raw = single(POS_SPO2_D)
        spo2 = self._spo2_d.fill(k, rows, spo2_value(raw))
        rows, raw = pair(POS_HR_MSB)
        pulse_rate_plain = self._hr.fill(k, rows, hr_value(raw))
        rows, raw = single(POS_SPO2)
        spo2_plain = self._spo2.fill(k, rows, spo2_value(raw))
        rows, raw = single(POS_STAT2)
        stat2 = self._stat2.fill(k, rows, raw.astype(np.float32))
        rows = trusted(rows_at(POS_TIMER_LSB, POS_TIMER_MSB))
        timer_ticks = ((float_ext[rows] & 0x7F) << 7) | (floats[rows] & 0x7F)
        timer_s = self._timer.fill(k, rows, timer_ticks.astype(np.float32) / 3.0)

        flags = STATUS_TO_FLAGS[status]
        low_battery = np.fmax(stat2, 0).astype(np.uint32) & STAT2_LOW_BATTERY  # NaN -> 0
        flags = flags | (low_battery * np.uint32(OximeterFlag.LOW_BATTERY))
        return OximeterBatch(
            SAMPLE_RATE_HZ,
            pleth,
            spo2,
            pulse_rate,
            np.full(k, np.nan, dtype=np.float32),
            flags.astype(np.uint32),
            {
                "spo2_plain": spo2_plain,
                "pr_plain": pulse_rate_plain,
                "device_time_s": timer_s,
                "packet_position": positions.astype(np.float32),
            },
        )

    def _steady_start(self, sync: np.ndarray, contiguous: np.ndarray) -> int | None:
        """Packet position of the first frame if the whole feed just counts on, else None."""
        if not contiguous.all():
            return None
        if self._prev_pos >= 0:
            start = (self._prev_pos + 1) % FRAMES_PER_PACKET
        elif sync[0]:
            start = 0
        else:
            return None
        expected = np.zeros(len(sync), dtype=bool)
        expected[(FRAMES_PER_PACKET - start) % FRAMES_PER_PACKET :: FRAMES_PER_PACKET] = True
        return start if np.array_equal(sync, expected) else None

    def _positions(self, sync: np.ndarray, contiguous: np.ndarray) -> np.ndarray:
        """Packet position of every frame (0 = SYNC frame), -1 where it is unknown."""
        k = len(sync)
        idx = np.arange(k, dtype=np.int64)
        last_break = last_index_where(sync | ~contiguous)
        positions = np.full(k, -1, dtype=np.int64)
        in_segment = last_break >= 0
        seg_sync = np.zeros(k, dtype=bool)
        seg_sync[in_segment] = sync[last_break[in_segment]]
        positions[seg_sync] = (idx - last_break)[seg_sync]
        # Frames before the first break continue the previous feed's packet.
        head = ~in_segment
        if self._prev_pos >= 0:
            positions[head] = self._prev_pos + 1 + idx[head]
        positions[positions >= FRAMES_PER_PACKET] = -1
        return positions


class Nonin2Encoder(RowEncoder):
    """Writes rows as format-2 frames; keeps its packet position across calls."""

    sample_rate_hz = SAMPLE_RATE_HZ
    pleth_max = PLETH_MAX_FORMAT2

    def __init__(self) -> None:
        self._position = 0
        self._packets = 0

    def _encode_rows(self, batch: OximeterBatch, flags: np.ndarray) -> bytes:
        n = len(batch)
        positions = (self._position + np.arange(n)) % FRAMES_PER_PACKET
        packet_index = self._packets + (self._position + np.arange(n)) // FRAMES_PER_PACKET
        self._packets += (self._position + n) // FRAMES_PER_PACKET
        self._position = (self._position + n) % FRAMES_PER_PACKET

        status = np.full(n, 0x80, dtype=np.int64)
        status |= np.where(flags & OximeterFlag.SENSOR_OFF, 0x40, 0)
        status |= np.where(flags & OximeterFlag.ARTIFACT, 0x20, 0)
        status |= np.where(flags & OximeterFlag.OUT_OF_TRACK, 0x10, 0)
        status |= np.where(flags & OximeterFlag.SENSOR_ALARM, 0x08, 0)
        perfusion = np.where(
            flags & OximeterFlag.LOW_PERFUSION,
            0b10,
            np.where(
                flags & OximeterFlag.MARGINAL_PERFUSION,
                0b11,
                np.where(flags & OximeterFlag.PULSE_BEAT, 0b01, 0),
            ),
        )
        status |= perfusion << 1
        status |= (positions == 0).astype(np.int64)

        hr = whole_or_missing(batch.pulse_rate_bpm, HR_MISSING, HR_MISSING)
        spo2 = whole_or_missing(batch.spo2_percent, SPO2_MISSING, 100)
        timer = (packet_index % (1 << 14)).astype(np.int64)
        stat2 = np.where(flags & OximeterFlag.LOW_BATTERY, STAT2_LOW_BATTERY, 0)

        floats = np.zeros(n, dtype=np.int64)
        for msb_pos in (POS_HR_MSB, POS_E_HR_MSB, POS_HR_D_MSB, POS_E_HR_D_MSB):
            at = positions == msb_pos
            floats[at] = (hr[at] >> 7) & 0x03
            at = positions == msb_pos + 1
            floats[at] = hr[at] & 0x7F
        for spo2_pos in (
            POS_SPO2,
            POS_SPO2_D,
            POS_SPO2_FAST,
            POS_SPO2_BEAT,
            POS_E_SPO2,
            POS_E_SPO2_D,
        ):
            at = positions == spo2_pos
            floats[at] = spo2[at]
        floats[positions == POS_FIRMWARE] = FIRMWARE_REVISION
        at = positions == POS_TIMER_MSB
        floats[at] = (timer[at] >> 7) & 0x7F
        at = positions == POS_TIMER_LSB
        floats[at] = timer[at] & 0x7F
        at = positions == POS_STAT2
        floats[at] = stat2[at]

        return self._pack(status, batch.pleth, floats)

    def _pack(self, status: np.ndarray, pleth: np.ndarray, floats: np.ndarray) -> bytes:
        wave = pleth_field(pleth, 0, PLETH_MAX_FORMAT2)
        wave = wave.astype(np.int64)
        frames = np.empty((len(status), FRAME_LEN), dtype=np.uint8)
        frames[:, 0] = 0x01
        frames[:, 1] = status
        frames[:, 2] = wave
        frames[:, 3] = floats
        frames[:, 4] = (0x01 + status + wave + floats) & 0xFF
        return frames.tobytes()


class Nonin7Decoder(Nonin2Decoder):
    """Format 7: the same packets, but status first and a 16-bit big-endian pleth."""

    pleth_max = PLETH_MAX_FORMAT7
    data_format = 7
    confirm_frames = CONFIRM_FRAMES_FORMAT7
    hold_frames = HOLD_FRAMES_FORMAT7
    _frame_test = staticmethod(format7_frames)

    def _frame_fields(
        self, buf: np.ndarray, starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pleth = (buf[starts + 1].astype(np.int64) << 8) | buf[starts + 2]
        return buf[starts], pleth.astype(np.float32), buf[starts + 3]


class Nonin7Encoder(Nonin2Encoder):
    """Writes rows as format-7 frames (status, pleth MSB, pleth LSB, float, checksum)."""

    pleth_max = PLETH_MAX_FORMAT7

    def _pack(self, status: np.ndarray, pleth: np.ndarray, floats: np.ndarray) -> bytes:
        wave = pleth_field(pleth, 0, PLETH_MAX_FORMAT7)
        wave = wave.astype(np.int64)
        msb, lsb = wave >> 8, wave & 0xFF
        frames = np.empty((len(status), FRAME_LEN), dtype=np.uint8)
        frames[:, 0] = status
        frames[:, 1] = msb
        frames[:, 2] = lsb
        frames[:, 3] = floats
        frames[:, 4] = (status + msb + lsb + floats) & 0xFF
        return frames.tobytes()
