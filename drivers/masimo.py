"""Masimo ASCII 1 (`masimo`): one text line a second of KEY=VALUE tokens.

Per docs/protocols.md the fields and their widths vary by model, so a line is parsed
as tokens, not by column: `SPO2=098%`, `BPM=072`, `PI=03.10`, `EXC=000C00`.
Dashes mean no value. EXC is a hex word of exception bits. A line is a frame only
if it carries both SPO2 and BPM, which every model sends (dashed when it has no
value); anything else is noise, its bytes counted as dropped. Random bytes once made
a frame of a stray `PI=` (hypothesis, 24 kB), and a frame, even of no value, tells
link supervision the device is there.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

from drivers.base import LineSettings, OximeterDecoder, OximeterEncoder
from drivers.types import DecoderCounters, OximeterBatch, OximeterFlag

SAMPLE_RATE_HZ = 1.0
LINE = LineSettings(baudrate=9600)
MAX_LINE_BYTES = 512  # a longer run without a newline is garbage
SPO2_MAX = 100.0
PR_MAX = 300.0  # Masimo's displayed range ends at 240 bpm; beyond any device is garbage
PI_MAX = 20.0  # Masimo's PI range is 0.02-20 %

# EXC bit -> flag (docs/protocols.md). 0x800 "full SET mode" is a mode, not a fault.
EXC_BITS: tuple[tuple[int, OximeterFlag], ...] = (
    (0x001, OximeterFlag.NO_SENSOR),
    (0x002, OximeterFlag.DEFECTIVE_SENSOR),
    (0x004, OximeterFlag.LOW_PERFUSION),
    (0x008, OximeterFlag.SEARCHING),
    (0x010, OximeterFlag.INTERFERENCE),
    (0x020, OximeterFlag.SENSOR_OFF),
    (0x040, OximeterFlag.AMBIENT_LIGHT),
    (0x080, OximeterFlag.UNRECOGNIZED_SENSOR),
    (0x400, OximeterFlag.LOW_SIGNAL_IQ),
)
EXC_FULL_SET = 0x800

_TOKEN = re.compile(rb"\b(SPO2|BPM|PI|EXC)=([^\s]*)")
_NUMBER = re.compile(rb"[+-]?\d+(?:\.\d+)?")
_EXC = re.compile(rb"[0-9A-Fa-f]{1,8}")


@lru_cache(maxsize=4096)  # a device repeats the same few tokens all session
def _number(text: bytes | None, top: float) -> float:
    """A token's number, NaN for dashes, anything malformed, or out of range."""
    if not text:
        return float("nan")
    match = _NUMBER.match(text)
    if match is None:
        return float("nan")
    value = float(match.group())
    return value if 0.0 <= value <= top else float("nan")


@lru_cache(maxsize=1024)
def _exc_flags(text: bytes | None) -> int:
    if not text or _EXC.fullmatch(text) is None:
        return 0
    exc = int(text, 16)
    return sum(int(flag) for bit, flag in EXC_BITS if exc & bit)


class MasimoDecoder(OximeterDecoder):
    """Incremental line decoder; a partial line waits for its newline."""

    sample_rate_hz = SAMPLE_RATE_HZ
    pleth_max = 0

    def __init__(self) -> None:
        self.counters = DecoderCounters()
        self._pending = b""

    def reset(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> OximeterBatch:
        self.counters.bytes_in += len(data)
        text = self._pending + bytes(data) if self._pending else bytes(data)
        lines = text.split(b"\n")
        self._pending = lines.pop()
        if len(self._pending) > MAX_LINE_BYTES:
            self.counters.bytes_dropped += len(self._pending)
            self.counters.resyncs += 1
            self._pending = b""
        spo2: list[float] = []
        pr: list[float] = []
        pi: list[float] = []
        flags: list[int] = []
        for line in lines:
            fields = dict(_TOKEN.findall(line))
            if b"SPO2" not in fields or b"BPM" not in fields:  # a frame carries both
                self.counters.bytes_dropped += len(line) + 1
                if line.strip():
                    self.counters.resyncs += 1
                continue
            spo2.append(_number(fields.get(b"SPO2"), SPO2_MAX))
            pr.append(_number(fields.get(b"BPM"), PR_MAX))
            pi.append(_number(fields.get(b"PI"), PI_MAX))
            flags.append(_exc_flags(fields.get(b"EXC")))
        k = len(flags)
        if k == 0:
            return OximeterBatch.empty(SAMPLE_RATE_HZ)
        self.counters.frames += k
        return OximeterBatch(
            SAMPLE_RATE_HZ,
            np.full(k, np.nan, dtype=np.float32),
            np.array(spo2, dtype=np.float32),
            np.array(pr, dtype=np.float32),
            np.array(pi, dtype=np.float32),
            np.array(flags, dtype=np.uint32),
        )


class MasimoEncoder(OximeterEncoder):
    """Writes each row as one ASCII 1 line, with a device clock advancing a second a line."""

    sample_rate_hz = SAMPLE_RATE_HZ
    pleth_max = 0

    def __init__(self, start: datetime | None = None, serial_number: str = "0000123456") -> None:
        self._clock = start or datetime(2016, 3, 17, 19, 19, 36)
        self._serial = serial_number

    def encode(self, batch: OximeterBatch) -> bytes:
        out = []
        for spo2, pr, pi, flags in zip(
            batch.spo2_percent.tolist(),
            batch.pulse_rate_bpm.tolist(),
            batch.perfusion_index_percent.tolist(),
            batch.flags.tolist(),
            strict=True,
        ):
            exc = sum(bit for bit, flag in EXC_BITS if flags & flag)
            spo2_text = "---" if not 0 <= spo2 <= SPO2_MAX else f"{round(spo2):03d}"
            pr_text = "---" if not 0 <= pr <= PR_MAX else f"{round(pr):03d}"
            pi_text = "--.--" if not 0 <= pi <= PI_MAX else f"{pi:05.2f}"
            out.append(
                f"{self._clock:%m/%d/%y %H:%M:%S} SN={self._serial} SPO2={spo2_text}% "
                f"BPM={pr_text} PI={pi_text} SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- "
                f"ALARM=0000 EXC={exc:06X}\r\n"
            )
            self._clock += timedelta(seconds=1)
        return "".join(out).encode("ascii")
