"""`simresp`: vitalmon's OWN respiration stream — not a vendor protocol.

No respiration device of the chair speaks a public serial protocol, yet the
simulator and WFDB records with a RESP channel do have a respiration rate and
waveform; they serve it over this small framed format, so respiration reaches
the monitor exactly as every other device does: bytes on a port, a decoder,
a channel.

Line: 9600 8N1 (a pty ignores it). 25 frames a second, 8 bytes each:

| byte | meaning |
|---|---|
| 0 | `0xA5` frame start |
| 1 | sequence number, +1 per frame, wraps at 256 (gaps = lost frames) |
| 2-3 | respiration waveform sample, int16 little-endian, -2000..2000 = -1..1 |
| 4 | respiration rate, breaths/min, 0-150; `0xFF` = no value |
| 5 | status: bit 0 BREATH (an inspiration began at this sample), bit 1 NO SIGNAL; bits 2-7 zero |
| 6 | whole seconds since the last breath began, 0-254; `0xFF` = unknown |
| 7 | checksum: the frame's 8 bytes sum to 0 mod 256 |

A rate of 0 with a valid signal means apnea: the source saw no breath. The
decoder resyncs on garbage like the others: a frame counts only where the
start byte, the zero status bits and the checksum all hold.
"""

from __future__ import annotations

import numpy as np

from drivers.base import LineSettings, RespDecoder, RespEncoder
from drivers.fixedframe import FrameScan, ScannedDecoder
from drivers.types import RespBatch, RespFlag

FRAME_LEN = 8
START = 0xA5
SAMPLE_RATE_HZ = 25.0
WAVE_FULL_SCALE = 2000
MISSING = 0xFF
MAX_RR_BPM = 150
LINE = LineSettings(baudrate=9600)
STATUS_RESERVED = 0xFC
NO_SIGNAL = int(RespFlag.NO_SIGNAL)
CONFIRM_FRAMES = 2  # frames of a back-to-back run before any is believed


def resp_frames(buf: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Where a whole frame starts: the start byte, zero status bits and the checksum hold
    (no checksum failures are counted: a start byte is an ordinary data value too)."""
    total = buf[:m].copy()  # uint8: the sum wraps modulo 256, as the checksum does
    for i in range(1, FRAME_LEN):
        total += buf[i : i + m]
    ok = (buf[:m] == START) & (total == 0) & ((buf[5 : 5 + m] & STATUS_RESERVED) == 0)
    return ok, ok


class SimRespDecoder(ScannedDecoder[RespBatch], RespDecoder):
    """Incremental decoder for `simresp`: bytes in any split, never raises.

    Random bytes pass the start byte, status bits and checksum about once per 4 MB, so a
    frame is believed only as the second of a back-to-back pair whose sequence numbers
    follow (docs/reliability.md, "Noise"); a lost frame costs the one after it too."""

    sample_rate_hz = SAMPLE_RATE_HZ
    confirm_frames = CONFIRM_FRAMES
    count_follow_breaks = True

    def __init__(self) -> None:
        super().__init__(FRAME_LEN, resp_frames)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._last_values = [-2]  # no frame yet: the first one starts a run

    def _follow_values(self, scan: FrameScan) -> list[np.ndarray]:
        return [scan.rows()[:, 1].astype(np.int16)]

    def _follows(self, columns: list[np.ndarray]) -> np.ndarray:
        """A frame follows the one before if its sequence number is the next; frames lost
        on a line that stayed in step are counted as a resync (`count_follow_breaks`; a
        byte gap already was, by the scanner)."""
        seq = columns[0]
        previous = np.concatenate(([self._last_values[0]], seq[:-1]))
        return ((previous + 1) & 0xFF) == seq

    def _decode(self, scan: FrameScan) -> RespBatch:
        if self._take_frames(scan) is None:
            return RespBatch.empty(SAMPLE_RATE_HZ)
        frames = scan.rows()
        wave = np.ascontiguousarray(frames[:, 2:4]).view("<i2")[:, 0]
        rr = frames[:, 4].astype(np.float32)
        since = frames[:, 6].astype(np.float32)
        flags = frames[:, 5].copy()
        rr[(rr == MISSING) | (rr > MAX_RR_BPM) | ((flags & NO_SIGNAL) != 0)] = np.nan
        since[(since == MISSING) | ((flags & NO_SIGNAL) != 0)] = np.nan
        return RespBatch(SAMPLE_RATE_HZ, wave / np.float32(WAVE_FULL_SCALE), rr, since, flags)


class SimRespEncoder(RespEncoder):
    """Writes rows as `simresp` frames; keeps the sequence number across calls."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self) -> None:
        self._seq = 0

    def encode(self, batch: RespBatch) -> bytes:
        n = len(batch)
        if n == 0:
            return b""
        frames = np.zeros((n, FRAME_LEN), dtype=np.int64)
        frames[:, 0] = START
        frames[:, 1] = (self._seq + np.arange(n)) & 0xFF
        self._seq = (self._seq + n) & 0xFF
        wave = np.asarray(batch.wave, dtype=np.float64)
        wave = np.where(np.isnan(wave), 0.0, wave)
        scaled = np.clip(np.round(wave * WAVE_FULL_SCALE), -WAVE_FULL_SCALE, WAVE_FULL_SCALE)
        raw = scaled.astype(np.int64) & 0xFFFF
        frames[:, 2] = raw & 0xFF
        frames[:, 3] = raw >> 8
        frames[:, 4] = _byte(batch.rr_bpm, MAX_RR_BPM)
        frames[:, 5] = np.asarray(batch.flags, dtype=np.int64) & ~STATUS_RESERVED
        frames[:, 6] = _byte(batch.since_breath_s, MISSING - 1, floor=True)
        frames[:, 7] = (-frames[:, :7].sum(axis=1)) & 0xFF
        return frames.astype(np.uint8).tobytes()


def _byte(values: np.ndarray, top: int, floor: bool = False) -> np.ndarray:
    """A value as one byte, `MISSING` for NaN; clipped to 0..top."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    rounded = np.floor(values) if floor else np.round(values)
    out = np.clip(np.where(missing, 0.0, rounded), 0, top).astype(np.int64)
    out[missing] = MISSING
    return out
