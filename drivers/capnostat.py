"""Philips Respironics Capnostat 5 / LoFlo CO2 module (`capnostat`), both directions.

Per docs/protocols.md ("Capnostat 5"). Every frame, either way, is
`CMD NBF DATA... CKS`: CMD has bit 7 set, every other byte is below 0x80, NBF counts
the bytes after it (checksum included) and the 7-bit checksum makes the frame's sum
end in seven zero bits. So any byte >= 0x80 begins a frame: the decoder resyncs on it
and a frame can never swallow the next one.

The module streams 100 waveform frames (0x80) a second, each with one CO2 sample and
at most one data parameter (status, EtCO2, rate, FiCO2, "breath"); they are decoded
with numpy into a `CapnoBatch` (per-frame Python cannot reach the 20 MB/s budget).
The rare other frames (zero, settings, NACK, revision, ...) are parsed one by one into
`CapnoMessage`s. The host's commands go through `CapnostatCommandDecoder` (what the
virtual module reads).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from drivers.base import CapnoDecoder, Encoder, LineSettings
from drivers.capnostat_types import (
    SAMPLE_RATE_HZ,
    CapnoBatch,
    CapnoCounters,
    CapnoFlag,
    CapnoFrame,
    frame_json,
)

__all__ = ["CapnoBatch", "CapnoCounters", "CapnoFlag", "CapnoFrame", "frame_json"]

LINE = LineSettings(baudrate=19200)
MAX_NBF = 0x7F  # NBF is a data byte: at most 127, so a frame is at most 129 bytes

# Command bytes (docs/protocols.md).
CMD_WAVEFORM = 0x80
CMD_ZERO = 0x82
CMD_SETTING = 0x84
CMD_NACK = 0xC8
CMD_STOP = 0xC9
CMD_REVISION = 0xCA
CMD_CAPABILITIES = 0xCB
CMD_RESET_NO_BREATH = 0xCC
CMD_RESET = 0xF8

# Data-parameter indexes on a waveform frame, and their data lengths.
DPI_STATUS = 1
DPI_ETCO2 = 2
DPI_RR = 3
DPI_FICO2 = 4
DPI_BREATH = 5
DPI_HARDWARE = 7
DPI_DATA_LEN: dict[int, int] = {DPI_STATUS: 5, DPI_ETCO2: 2, DPI_RR: 2, DPI_FICO2: 2, DPI_BREATH: 0}

CO2_OFFSET = 1000  # raw = mmHg x 100 + 1000
CO2_MIN_MMHG = -CO2_OFFSET / 100
CO2_MAX_MMHG = ((1 << 14) - 1 - CO2_OFFSET) / 100


class Isb(enum.IntEnum):
    """Setting indexes of the get/set command (0x84)."""

    BAROMETRIC_PRESSURE = 1
    GAS_TEMPERATURE = 4
    ETCO2_PERIOD = 5
    NO_BREATH_TIMEOUT = 6
    CO2_UNITS = 7
    SLEEP_MODE = 8
    ZERO_GAS_TYPE = 9
    GAS_COMPENSATION = 11


class ZeroResult(enum.IntEnum):
    """The module's answer to a zero command."""

    STARTED = 0
    NOT_READY = 1
    IN_PROGRESS = 2
    BREATH_DETECTED = 3


NACK_BOOT = 0  # `C8 02 00 ..`: the module has just (re)started and forgot its settings
UNITS_MMHG = 0


F = CapnoFlag
BYTE1_MASK = 0x7F  # byte 1 bits 0-6 are flags 0-6 as they are
# Prioritised code (status byte 5) for a set of flags: the first that holds wins.
PRIORITY_CODES: tuple[tuple[CapnoFlag, int], ...] = (
    (F.SENSOR_FAULTY, 2),
    (F.OVER_TEMPERATURE, 1),
    (F.COMPENSATION_NOT_SET, 3),
    (F.SLEEP, 4),
    (F.ZERO_IN_PROGRESS, 5),
    (F.WARM_UP, 6),
    (F.ZERO_REQUIRED, 7),
    (F.OUT_OF_RANGE, 8),
    (F.CHECK_ADAPTER, 9),
)


def checksum(body: bytes | Sequence[int]) -> int:
    """The byte that makes `body + checksum` sum to a multiple of 128."""
    return (-sum(body)) & 0x7F


def frame(cmd: int, data: bytes | Sequence[int] = b"") -> bytes:
    """`CMD NBF DATA CKS`; refuses bytes the framing cannot carry."""
    data = bytes(data)
    if not 0x80 <= cmd <= 0xFF:
        raise ValueError(f"a command byte is 0x80-0xFF, not {cmd:#x}")
    if any(b >= 0x80 for b in data) or len(data) + 1 > MAX_NBF:
        raise ValueError(f"frame data must be < 0x80 and at most 126 bytes: {data.hex(' ')}")
    body = bytes((cmd, len(data) + 1)) + data
    return body + bytes((checksum(body),))


def split14(value: int) -> bytes:
    """A 14-bit number as two 7-bit bytes, high first (the module's `128 * DB1 + DB2`)."""
    if not 0 <= value < 1 << 14:
        raise ValueError(f"{value} does not fit in 14 bits")
    return bytes((value >> 7, value & 0x7F))


# ---------------------------------------------------------------- host -> module


def start_stream() -> bytes:
    """`80 02 00 7E`: CO2 waveform/data mode."""
    return frame(CMD_WAVEFORM, b"\x00")


def stop_stream() -> bytes:
    """`C9 01 36`: stop continuous mode."""
    return frame(CMD_STOP)


def start_zero() -> bytes:
    """`82 01 7D`."""
    return frame(CMD_ZERO)


def get_setting(isb: Isb) -> bytes:
    return frame(CMD_SETTING, bytes((int(isb),)))


def set_setting(isb: Isb, data: bytes | Sequence[int]) -> bytes:
    return frame(CMD_SETTING, bytes((int(isb),)) + bytes(data))


def set_barometric_pressure(mmhg: int) -> bytes:
    """`84 04 01 05 78 7A` for 760 mmHg."""
    return set_setting(Isb.BAROMETRIC_PRESSURE, split14(int(mmhg)))


def set_units_mmhg() -> bytes:
    return set_setting(Isb.CO2_UNITS, (UNITS_MMHG,))


def set_no_breath_timeout(seconds: int) -> bytes:
    if not 0 <= seconds < 0x80:
        raise ValueError(f"no-breath timeout must be 0-127 s, not {seconds}")
    return set_setting(Isb.NO_BREATH_TIMEOUT, (seconds,))


def set_gas_compensation(o2_percent: int, balance_gas: int, agent_percent_x10: int) -> bytes:
    """O2 %, balance gas code, anaesthetic agent (% x 10, 14-bit)."""
    if not 0 <= o2_percent < 0x80 or not 0 <= balance_gas < 0x80:
        raise ValueError("O2 % and balance gas code must be 0-127")
    return set_setting(
        Isb.GAS_COMPENSATION, bytes((o2_percent, balance_gas)) + split14(agent_percent_x10)
    )


def get_revision() -> bytes:
    return frame(CMD_REVISION)


def get_capabilities(index: int = 0) -> bytes:
    return frame(CMD_CAPABILITIES, (index,))


def reset_no_breath() -> bytes:
    return frame(CMD_RESET_NO_BREATH)


def reset_module() -> bytes:
    return frame(CMD_RESET)


# ---------------------------------------------------------------- module -> host


def status_bytes(flags: int) -> bytes:
    """The five DPI 1 bytes for a set of flags (bytes 3 and 4 are not used: 0)."""
    flags = CapnoFlag(flags)
    byte1 = int(flags) & BYTE1_MASK
    temperature = (1 if flags & F.WARM_UP else 0) | (2 if flags & F.OVER_TEMPERATURE else 0)
    zero = 2 if flags & F.ZERO_REQUIRED else 1 if flags & F.ZERO_IN_PROGRESS else 0
    byte2 = temperature | zero << 2 | (0x10 if flags & F.COMPENSATION_NOT_SET else 0)
    code = next((c for f, c in PRIORITY_CODES if flags & f), 0)
    return bytes((byte1, byte2, 0, 0, code))


def waveform_frame(
    sync: int, co2_mmhg: float, dpi: int | None = None, data: bytes | Sequence[int] = b""
) -> bytes:
    """One stream frame: the sync counter, a CO2 sample and at most one parameter."""
    raw = round(min(max(co2_mmhg, CO2_MIN_MMHG), CO2_MAX_MMHG) * 100) + CO2_OFFSET
    body = bytes((sync & 0x7F,)) + split14(raw)
    if dpi is not None:
        body += bytes((dpi,)) + bytes(data)
    return frame(CMD_WAVEFORM, body)


def zero_reply(result: ZeroResult) -> bytes:
    return frame(CMD_ZERO, (int(result),))


def setting_reply(isb: Isb | int, data: bytes | Sequence[int] = b"") -> bytes:
    return frame(CMD_SETTING, bytes((int(isb),)) + bytes(data))


def nack(code: int = NACK_BOOT) -> bytes:
    """`C8 02 00 36` is the boot NACK."""
    return frame(CMD_NACK, (code,))


def stop_reply() -> bytes:
    return frame(CMD_STOP)


def revision_reply(text: str) -> bytes:
    return frame(CMD_REVISION, text.encode("ascii", "replace")[:120])


def capabilities_reply(index: int, data: bytes | Sequence[int] = b"") -> bytes:
    return frame(CMD_CAPABILITIES, bytes((index,)) + bytes(data))


# ---------------------------------------------------------------- decoded values


@dataclass(frozen=True, slots=True)
class CapnoMessage:
    """A frame that is not a stream sample: a reply from the module, or a host command.

    `data` is the frame's data bytes (without CMD, NBF and checksum)."""

    cmd: int
    data: bytes

    @property
    def name(self) -> str:
        return _MESSAGE_NAMES.get(self.cmd, f"cmd_{self.cmd:02x}")

    @property
    def is_boot_nack(self) -> bool:
        return self.cmd == CMD_NACK and self.data[:1] == bytes((NACK_BOOT,))

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"frame": self.name}
        d = self.data
        if self.cmd == CMD_ZERO and d:
            result = d[0]
            out["zero"] = ZeroResult(result).name.lower() if result <= 3 else result
        elif self.cmd == CMD_SETTING and d:
            out["isb"] = d[0]
            out["data"] = list(d[1:])
        elif self.cmd == CMD_NACK and d:
            out["code"] = d[0]
            out["boot"] = self.is_boot_nack
        elif self.cmd == CMD_REVISION:
            out["text"] = "".join(chr(b) if 32 <= b < 127 else " " for b in d).strip()
        elif d:
            out["data"] = list(d)
        return out

    def encode(self) -> bytes:
        return frame(self.cmd, self.data)


_MESSAGE_NAMES = {
    CMD_WAVEFORM: "start_stream",
    CMD_ZERO: "zero",
    CMD_SETTING: "setting",
    CMD_NACK: "nack",
    CMD_STOP: "stop",
    CMD_REVISION: "revision",
    CMD_CAPABILITIES: "capabilities",
    CMD_RESET_NO_BREATH: "reset_no_breath",
    CMD_RESET: "reset",
}


# ---------------------------------------------------------------- framing


class CapnoFramer:
    """Finds whole, checked frames in a byte stream, any split; memory stays under one
    frame (129 bytes) between feeds, because only a frame begun by the last command
    byte can still be completed."""

    def __init__(self, counters: CapnoCounters) -> None:
        self.counters = counters
        self._pending = b""
        self._in_sync = True

    def reset(self) -> None:
        self._pending = b""
        self._in_sync = True

    @property
    def pending_bytes(self) -> int:
        """Bytes held back for a frame still arriving (at most one frame's worth)."""
        return len(self._pending)

    def scan(self, data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(buffer, starts, ends, joined) of the valid frames, in order; `joined`: the
        frame follows the frame before it (in this feed or an earlier one) with no byte
        dropped between them."""
        c = self.counters
        c.bytes_in += len(data)
        raw = self._pending + bytes(data) if self._pending else bytes(data)
        buf = np.frombuffer(raw, dtype=np.uint8)
        n = len(buf)
        starts = (buf >= 0x80).nonzero()[0]
        if len(starts) == 0:
            self._drop(n)
            self._pending = b""
            return buf, starts, starts, np.empty(0, dtype=bool)
        was_in_sync = self._in_sync
        following = np.empty(len(starts), dtype=np.int64)
        following[:-1] = starts[1:]
        following[-1] = n
        has_nbf = starts + 1 < n
        nbf = np.zeros(len(starts), dtype=np.int64)
        nbf[has_nbf] = buf[starts[has_nbf] + 1]
        nbf[nbf >= 0x80] = -1  # the "NBF" is itself a command byte: no frame here
        ends = starts + 2 + nbf
        whole = has_nbf & (nbf >= 1) & (ends <= following)
        # Only the last command byte's frame may still be completed by later bytes.
        cut = n
        last = len(starts) - 1
        if not has_nbf[last] or (nbf[last] >= 1 and ends[last] > n):
            cut = int(starts[last])
        sums = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(buf, out=sums[1:])
        idx = whole.nonzero()[0]
        good = np.zeros(len(starts), dtype=bool)
        good[idx] = ((sums[ends[idx]] - sums[starts[idx]]) & 0x7F) == 0
        bad = whole & ~good
        c.checksum_failures += int(np.count_nonzero(bad))
        taken_starts, taken_ends = starts[good], ends[good]
        # Dropped bytes and resyncs: every run of bytes between frames.
        prev_ends = np.concatenate(([0], taken_ends[:-1]))
        gaps = taken_starts - prev_ends
        c.frames += len(taken_starts)
        c.bytes_dropped += int(gaps.sum()) if len(gaps) else 0
        if len(gaps):
            c.resyncs += int(np.count_nonzero(gaps[1:])) + int(bool(gaps[0]) and self._in_sync)
            self._in_sync = True
        tail_from = int(taken_ends[-1]) if len(taken_ends) else 0
        self._drop(cut - tail_from)
        self._pending = raw[cut:]
        joined = gaps == 0
        if len(joined):
            joined[0] &= was_in_sync
        return buf, taken_starts, taken_ends, joined

    def _drop(self, count: int) -> None:
        if count <= 0:
            return
        self.counters.bytes_dropped += count
        self.counters.resyncs += int(self._in_sync)
        self._in_sync = False


# ---------------------------------------------------------------- decoders


_STATUS_TEMPERATURE = np.array([0, F.WARM_UP, F.OVER_TEMPERATURE, F.WARM_UP | F.OVER_TEMPERATURE],
                               dtype=np.uint32)  # fmt: skip
_STATUS_ZERO = np.array([0, F.ZERO_IN_PROGRESS, F.ZERO_REQUIRED, F.ZERO_REQUIRED], dtype=np.uint32)


# A stream frame is believed only as the second of a pair: random bytes pass the framing
# and the 7-bit checksum as a stream frame about once in 270 MB (docs/reliability.md,
# "Noise"), but almost never twice in a row with SYNC counting on.
CONFIRM_FRAMES = 2


class CapnostatDecoder(CapnoDecoder):
    """Module -> host: stream frames to a `CapnoBatch`, other frames to `CapnoMessage`s.

    Incremental (any split gives the same result) and never raises. A waveform frame
    whose length does not fit its parameter is dropped as malformed. A stream frame is
    believed only if it follows the stream frame before it byte for byte (module replies
    may come between) and its SYNC is that frame's plus one; one that is not is left
    out (counted as `unconfirmed`), so the first frame after any break costs one sample
    (10 ms) and a lost frame the one after it too (both counted in `lost_before`)."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self) -> None:
        self.counters = CapnoCounters()
        self._framer = CapnoFramer(self.counters)
        self.reset()

    def reset(self) -> None:
        """Forget everything in flight (after a reconnect)."""
        self._framer.reset()
        self._last_sync = -1  # of the last believed stream frame (lost-frame count)
        self._seen_sync = -1  # of the last stream frame, believed or not
        self._chain = False  # no byte dropped since that frame
        self._status = 0
        self._status_seen = False

    def feed(self, data: bytes) -> CapnoBatch:
        return self._decode(data)[0]

    def feed_run(self, datas: Sequence[bytes]) -> tuple[CapnoBatch, np.ndarray]:
        """The same as `feed` on each of `datas` in turn: (their stream rows joined, the
        rows each completed), in one pass. A run with any other frame in it (a reply,
        a NACK: a command byte other than 0x80) goes one feed at a time, since a message
        belongs to the feed that brought it, not to a row."""
        joined = b"".join(datas)
        if not joined or np.frombuffer(joined, dtype=np.uint8).max() > CMD_WAVEFORM:
            batches = [self.feed(data) for data in datas]
            counts = np.fromiter((len(b) for b in batches), dtype=np.int64, count=len(datas))
            return CapnoBatch.concat(batches), counts
        pending = self._framer.pending_bytes
        batch, ends = self._decode(joined)
        bounds = np.fromiter(map(len, datas), np.int64, len(datas)).cumsum()
        by = bounds.searchsorted(ends - pending, side="left")
        return batch, np.bincount(by, minlength=len(datas)).astype(np.int64)

    def _decode(self, data: bytes) -> tuple[CapnoBatch, np.ndarray]:
        """The stream rows of `data`, and where each row's frame ends in the framer's
        buffer (held-back bytes first, then `data`)."""
        buf, starts, ends, joined = self._framer.scan(data)
        if len(starts) == 0:
            return CapnoBatch.empty(), starts
        cmd = buf[starts]
        nbf = ends - starts - 2
        wave = cmd == CMD_WAVEFORM
        dpi = np.zeros(len(starts), dtype=np.int64)
        has_dpi = wave & (nbf >= 5)
        dpi[has_dpi] = buf[starts[has_dpi] + 5]
        data_len = nbf - 5
        expected = np.full(len(starts), -1, dtype=np.int64)
        for index, length in DPI_DATA_LEN.items():
            expected[dpi == index] = length
        # Known parameters must have their length; unknown ones (hardware status) any.
        wave &= (nbf == 4) | (has_dpi & ((expected < 0) | (data_len == expected)))
        malformed = (cmd == CMD_WAVEFORM) & ~wave & (nbf != 2)  # `80 02 ..`: a start command
        self.counters.frames -= int(np.count_nonzero(malformed))
        self.counters.bytes_dropped += int((ends - starts)[malformed].sum())
        messages = self._messages(buf, starts, ends, wave | malformed, joined)
        believed = wave.copy()
        believed[wave] = self._confirmed(buf, starts, joined, wave)
        s = starts[believed]
        d = dpi[believed]
        batch = self._stream(buf, s, d)
        if messages:
            rows = believed.cumsum() - believed  # stream rows before each frame
            batch.messages = [(int(rows[i]), m) for i, m in messages]
        return batch, ends[believed]

    def _confirmed(
        self, buf: np.ndarray, starts: np.ndarray, joined: np.ndarray, wave: np.ndarray
    ) -> np.ndarray:
        """Of the stream frames (`wave`), which follow the stream frame before them: no
        byte dropped since it, and SYNC one on. The rest are counted as unconfirmed."""
        at = wave.nonzero()[0]
        if len(at) == 0:
            self._chain &= bool(joined.all())
            return np.empty(0, dtype=bool)
        breaks = (~joined).cumsum()
        intact = np.empty(len(at), dtype=bool)
        intact[0] = self._chain and breaks[at[0]] == 0
        intact[1:] = breaks[at[1:]] == breaks[at[:-1]]
        sync = buf[starts[at] + 2].astype(np.int64)
        previous = np.concatenate(([self._seen_sync], sync[:-1]))
        ok = intact & (previous >= 0) & (((previous + 1) & 0x7F) == sync)
        self._seen_sync = int(sync[-1])
        self._chain = bool(breaks[-1] == breaks[at[-1]])
        doubted = len(ok) - int(np.count_nonzero(ok))
        if doubted:
            lengths = (buf[starts[at[~ok]] + 1].astype(np.int64) + 2).sum()
            self.counters.unconfirmed += doubted
            self.counters.frames -= doubted
            self.counters.bytes_dropped += int(lengths)
        return ok

    def _messages(
        self,
        buf: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        skip: np.ndarray,
        joined: np.ndarray,
    ) -> list[tuple[int, CapnoMessage]]:
        """The other frames, each only where no byte was dropped just before it: the
        module's replies follow its stream or silence, while random bytes make a
        reply-shaped frame (a boot NACK, a zero reply) about 15 times a megabyte, each
        right after bytes that framed nothing (counted as unconfirmed)."""
        out = []
        doubted = ~skip & ~joined
        if doubted.any():
            self.counters.unconfirmed += int(np.count_nonzero(doubted))
            self.counters.frames -= int(np.count_nonzero(doubted))
            self.counters.bytes_dropped += int((ends - starts)[doubted].sum())
        for i in (~skip & joined).nonzero()[0].tolist():
            s, e = int(starts[i]), int(ends[i])
            out.append((i, CapnoMessage(int(buf[s]), buf[s + 2 : e - 1].tobytes())))
        return out

    def _stream(self, buf: np.ndarray, s: np.ndarray, dpi: np.ndarray) -> CapnoBatch:
        k = len(s)
        if k == 0:
            return CapnoBatch.empty()
        sync = buf[s + 2]
        co2 = (buf[s + 3].astype(np.int64) * 128 + buf[s + 4] - CO2_OFFSET) / np.float32(100)
        previous = np.empty(k, dtype=np.int64)
        previous[0] = self._last_sync
        previous[1:] = sync[:-1]
        lost = np.where(previous >= 0, (sync.astype(np.int64) - previous - 1) & 0x7F, 0)
        self.counters.lost_frames += int(lost.sum())
        self._last_sync = int(sync[-1])

        def value(index: int) -> np.ndarray:
            col = np.full(k, np.nan, dtype=np.float32)
            rows = (dpi == index).nonzero()[0]
            if len(rows):
                at = s[rows]
                col[rows] = buf[at + 6].astype(np.float32) * 128 + buf[at + 7]
            return col

        status_rows = (dpi == DPI_STATUS).nonzero()[0]
        status_frame = np.zeros(k, dtype=bool)
        status_frame[status_rows] = True
        held = np.full(k, self._status, dtype=np.uint32)
        seen = np.full(k, self._status_seen, dtype=bool)
        if len(status_rows):
            at = s[status_rows]
            b1 = buf[at + 6].astype(np.uint32) & BYTE1_MASK
            b2 = buf[at + 7]
            none = np.uint32(0)
            flags = (
                b1
                | _STATUS_TEMPERATURE[b2 & 0x3]
                | _STATUS_ZERO[(b2 >> 2) & 0x3]
                | np.where(b2 & 0x10, np.uint32(F.COMPENSATION_NOT_SET), none)
                | np.where(buf[at + 10] == 2, np.uint32(F.SENSOR_FAULTY), none)
            )
            marker = np.full(k, -1, dtype=np.int64)
            marker[status_rows] = np.arange(len(status_rows))
            np.maximum.accumulate(marker, out=marker)
            after = marker >= 0
            held[after] = flags[marker[after]]
            seen[after] = True
            self._status = int(flags[-1])
            self._status_seen = True
        return CapnoBatch(
            sync.copy(),
            co2.astype(np.float32),
            value(DPI_ETCO2) / np.float32(10),
            value(DPI_FICO2) / np.float32(10),
            value(DPI_RR),
            dpi == DPI_BREATH,
            held,
            status_frame,
            seen,
            lost,
        )


class CapnostatCommandDecoder:
    """Host -> module bytes to commands (what the virtual module reads); never raises."""

    def __init__(self) -> None:
        self.counters = CapnoCounters()
        self._framer = CapnoFramer(self.counters)

    def reset(self) -> None:
        self._framer.reset()

    def feed(self, data: bytes) -> list[CapnoMessage]:
        buf, starts, ends, _ = self._framer.scan(data)
        return [
            CapnoMessage(int(buf[s]), buf[s + 2 : e - 1].tobytes())
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
        ]


class CapnostatEncoder(Encoder[CapnoBatch]):
    """Rows of a `CapnoBatch` as stream frames, the sync counter kept across calls.

    A row's parameter: its status if `status_frame`, else EtCO2, rate, FiCO2 or the
    breath marker, whichever it carries first in that order (one per frame)."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self) -> None:
        self.sync = 0

    def encode(self, batch: CapnoBatch) -> bytes:
        return self.encode_frames(batch)[0]

    def encode_frames(self, batch: CapnoBatch) -> tuple[bytes, np.ndarray]:
        """The bytes, and where each row's frame ends in them (so a caller can hand
        frames out one by one)."""
        data, ends = encode_stream(batch, self.sync)
        self.sync = (self.sync + len(batch)) & 0x7F
        return data, ends


_FRAME_WIDTH = 12  # the longest stream frame: 5 header bytes, DPI 1 + 5 bytes, checksum
_14BIT = (1 << 14) - 1


def _status_columns(flags: np.ndarray) -> np.ndarray:
    """`status_bytes` for a column of flags: (n, 5)."""
    f = flags.astype(np.int64)

    def has(flag: CapnoFlag) -> np.ndarray:
        return (f & int(flag)) != 0

    out = np.zeros((len(f), 5), dtype=np.int64)
    out[:, 0] = f & BYTE1_MASK
    temperature = np.where(has(F.WARM_UP), 1, 0) | np.where(has(F.OVER_TEMPERATURE), 2, 0)
    zero = np.where(has(F.ZERO_REQUIRED), 2, np.where(has(F.ZERO_IN_PROGRESS), 1, 0))
    out[:, 1] = temperature | zero << 2 | np.where(has(F.COMPENSATION_NOT_SET), 0x10, 0)
    code = np.zeros(len(f), dtype=np.int64)
    for flag, value in reversed(PRIORITY_CODES):  # the first that holds wins
        code = np.where(has(flag), value, code)
    out[:, 4] = code
    return out


def encode_stream(batch: CapnoBatch, sync: int = 0) -> tuple[bytes, np.ndarray]:
    """Every row of `batch` as a stream frame, vectorised (the same bytes as
    `waveform_frame` with `row_parameter` row by row); and each frame's end offset."""
    n = len(batch)
    if n == 0:
        return b"", np.empty(0, dtype=np.int64)
    co2 = np.clip(batch.co2_mmhg.astype(np.float64), CO2_MIN_MMHG, CO2_MAX_MMHG)
    raw = np.round(co2 * 100).astype(np.int64) + CO2_OFFSET
    frames = np.zeros((n, _FRAME_WIDTH), dtype=np.int32)  # 7-bit bytes, and their sums
    frames[:, 0] = CMD_WAVEFORM
    frames[:, 2] = (sync + np.arange(n)) & 0x7F
    frames[:, 3] = raw >> 7
    frames[:, 4] = raw & 0x7F
    data_len = np.zeros(n, dtype=np.int64)  # bytes after CO2_LO, checksum excluded
    taken = np.asarray(batch.status_frame, dtype=bool).copy()
    if taken.any():
        rows = taken.nonzero()[0]
        frames[rows, 5] = DPI_STATUS
        frames[rows, 6:11] = _status_columns(batch.status[rows])
        data_len[rows] = 6
    for dpi, column, scale in (
        (DPI_ETCO2, batch.etco2_mmhg, 10),
        (DPI_RR, batch.rr_bpm, 1),
        (DPI_FICO2, batch.fico2_mmhg, 10),
    ):
        carries = ~taken & np.isfinite(column)
        if carries.any():
            rows = carries.nonzero()[0]
            scaled = np.clip(np.round(column[rows].astype(np.float64) * scale), 0, _14BIT)
            value = scaled.astype(np.int64)
            frames[rows, 5] = dpi
            frames[rows, 6] = value >> 7
            frames[rows, 7] = value & 0x7F
            data_len[rows] = 3
            taken |= carries
    breath = ~taken & np.asarray(batch.breath_detected, dtype=bool)
    frames[breath, 5] = DPI_BREATH
    data_len[breath] = 1
    length = 6 + data_len  # CMD NBF SYNC HI LO [data] CKS
    frames[:, 1] = length - 2
    rows = np.arange(n)
    frames[rows, length - 1] = (-frames.sum(axis=1, dtype=np.int32)) & 0x7F
    keep = np.arange(_FRAME_WIDTH) < length[:, None]
    return frames.astype(np.uint8)[keep].tobytes(), length.cumsum()


def row_parameter(batch: CapnoBatch, i: int) -> tuple[int | None, bytes]:
    """Which parameter row `i` of a batch to encode carries (see `CapnostatEncoder`)."""
    if batch.status_frame[i]:
        return DPI_STATUS, status_bytes(int(batch.status[i]))
    for dpi, col, scale in (
        (DPI_ETCO2, batch.etco2_mmhg, 10),
        (DPI_RR, batch.rr_bpm, 1),
        (DPI_FICO2, batch.fico2_mmhg, 10),
    ):
        v = float(col[i])
        if v == v:
            return dpi, split14(min(max(round(v * scale), 0), (1 << 14) - 1))
    if batch.breath_detected[i]:
        return DPI_BREATH, b""
    return None, b""


class CapnostatCommandEncoder:
    """Registry face of the host's side of the wire: a message back to its bytes."""

    def encode(self, message: CapnoMessage) -> bytes:
        return message.encode()
