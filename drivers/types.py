"""Measurement types shared by every driver, the simulator and the monitor.

Decoders return columns (numpy arrays, one row per device frame) because a
per-frame Python object cannot reach the decode budget of 20 MB/s; the batch
still iterates as typed `OximeterFrame` rows for tests, the CLI and humans.
Missing values are NaN in the columns and `None` in a frame: never a sentinel.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar, overload

import numpy as np

FlagT = TypeVar("FlagT", bound=enum.IntFlag)


@functools.lru_cache(maxsize=512)
def _made_flag(cls: type[enum.IntFlag], value: int) -> enum.IntFlag:
    return cls(value)


def cached_flag(cls: type[FlagT], value: int) -> FlagT:
    """`cls(value)`, made once per value: a device repeats a few status combinations all
    session, and making an enum flag looks its members up (asked every data second)."""
    return _made_flag(cls, value)  # type: ignore[return-value]


class OximeterFlag(enum.IntFlag):
    """Device status bits, normalised across protocols."""

    NONE = 0
    SENSOR_OFF = 1 << 0  # sensor disconnected / finger out / probe error
    SEARCHING = 1 << 1  # pulse search, searching too long
    ARTIFACT = 1 << 2
    OUT_OF_TRACK = 1 << 3
    SENSOR_ALARM = 1 << 4  # data unusable
    LOW_PERFUSION = 1 << 5
    MARGINAL_PERFUSION = 1 << 6
    LOW_BATTERY = 1 << 7
    PULSE_BEAT = 1 << 8  # beep / sync with a detected pulse
    SPO2_DROPPING = 1 << 9
    NO_SIGNAL = 1 << 10
    INTERFERENCE = 1 << 11
    DEFECTIVE_SENSOR = 1 << 12
    LOW_SIGNAL_IQ = 1 << 13
    PACKET_START = 1 << 14  # protocol framing marker (e.g. Nonin SYNC)
    NO_SENSOR = 1 << 15  # no sensor connected (Masimo EXC 001)
    AMBIENT_LIGHT = 1 << 16
    UNRECOGNIZED_SENSOR = 1 << 17

    @classmethod
    def names(cls, value: int) -> list[str]:
        """Lower-case names of the set bits, in bit order, for JSON output."""
        return [f.name.lower() for f in cls if f.value and value & f.value and f.name]


# Flags that mean "the displayed numbers cannot be trusted right now".
INVALIDATING_FLAGS = (
    OximeterFlag.SENSOR_OFF
    | OximeterFlag.SENSOR_ALARM
    | OximeterFlag.OUT_OF_TRACK
    | OximeterFlag.NO_SIGNAL
    | OximeterFlag.DEFECTIVE_SENSOR
    | OximeterFlag.NO_SENSOR
    | OximeterFlag.UNRECOGNIZED_SENSOR
)


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


class OximeterFrame(NamedTuple):
    """One device frame as a human reads it: `None` where the device sent no value."""

    pleth: float | None
    spo2_percent: float | None
    pulse_rate_bpm: float | None
    perfusion_index_percent: float | None
    flags: OximeterFlag

    def to_json(self) -> dict[str, object]:
        return {
            "pleth": self.pleth,
            "spo2": self.spo2_percent,
            "pr": self.pulse_rate_bpm,
            "pi": self.perfusion_index_percent,
            "status": OximeterFlag.names(self.flags),
        }


@dataclass(slots=True)
class OximeterBatch(Sequence[OximeterFrame]):
    """Frames decoded from one `feed()` call, as equal-length columns.

    `spo2_percent`, `pulse_rate_bpm` and `perfusion_index_percent` hold, for each
    row, the latest value the device had sent by that frame (NaN = no value).
    `extras` keeps protocol-specific columns (e.g. Nonin's non-display values).
    """

    sample_rate_hz: float
    pleth: np.ndarray
    spo2_percent: np.ndarray
    pulse_rate_bpm: np.ndarray
    perfusion_index_percent: np.ndarray
    flags: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, sample_rate_hz: float) -> OximeterBatch:
        nan = np.empty(0, dtype=np.float32)
        return cls(sample_rate_hz, nan, nan, nan, nan, np.empty(0, dtype=np.uint32))

    @classmethod
    def constant(
        cls,
        sample_rate_hz: float,
        pleth: Sequence[float] | np.ndarray,
        spo2_percent: float | None,
        pulse_rate_bpm: float | None,
        perfusion_index_percent: float | None = None,
        flags: int = 0,
    ) -> OximeterBatch:
        """A batch whose numerics and flags are the same on every row (tests, simulator)."""
        wave = np.asarray(pleth, dtype=np.float32)
        n = len(wave)

        def col(v: float | None) -> np.ndarray:
            return np.full(n, np.nan if v is None else v, dtype=np.float32)

        return cls(
            sample_rate_hz,
            wave,
            col(spo2_percent),
            col(pulse_rate_bpm),
            col(perfusion_index_percent),
            np.full(n, int(flags), dtype=np.uint32),
        )

    def __len__(self) -> int:
        return len(self.pleth)

    @overload
    def __getitem__(self, index: int) -> OximeterFrame: ...

    @overload
    def __getitem__(self, index: slice | np.ndarray) -> OximeterBatch: ...

    def __getitem__(self, index: int | slice | np.ndarray) -> OximeterFrame | OximeterBatch:
        if isinstance(index, slice | np.ndarray):  # a slice, or a row mask / index array
            return OximeterBatch(
                self.sample_rate_hz,
                self.pleth[index],
                self.spo2_percent[index],
                self.pulse_rate_bpm[index],
                self.perfusion_index_percent[index],
                self.flags[index],
                {k: v[index] for k, v in self.extras.items()},
            )
        return OximeterFrame(
            _opt(self.pleth[index]),
            _opt(self.spo2_percent[index]),
            _opt(self.pulse_rate_bpm[index]),
            _opt(self.perfusion_index_percent[index]),
            OximeterFlag(int(self.flags[index])),
        )

    def __iter__(self) -> Iterator[OximeterFrame]:
        for i in range(len(self)):
            yield self[i]

    @staticmethod
    def concat(batches: Sequence[OximeterBatch]) -> OximeterBatch:
        if not batches:
            raise ValueError("concat needs at least one batch")
        # Empty batches (a feed that completed no frame) carry no extras: skip them.
        batches = [b for b in batches if len(b)] or list(batches[:1])
        keys = set.intersection(*(set(b.extras) for b in batches))
        return OximeterBatch(
            batches[0].sample_rate_hz,
            np.concatenate([b.pleth for b in batches]),
            np.concatenate([b.spo2_percent for b in batches]),
            np.concatenate([b.pulse_rate_bpm for b in batches]),
            np.concatenate([b.perfusion_index_percent for b in batches]),
            np.concatenate([b.flags for b in batches]),
            {k: np.concatenate([b.extras[k] for b in batches]) for k in sorted(keys)},
        )


@dataclass(slots=True)
class DecoderCounters:
    """Link-quality counters every decoder keeps; the monitor shows them."""

    bytes_in: int = 0
    bytes_dropped: int = 0
    frames: int = 0
    resyncs: int = 0
    checksum_failures: int = 0
    # Well-formed frames not believed: their run broke before it could confirm itself
    # (protocols without a checksum; docs/protocols.md, "What every decoder promises").
    unconfirmed: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "bytes_in": self.bytes_in,
            "bytes_dropped": self.bytes_dropped,
            "frames": self.frames,
            "resyncs": self.resyncs,
            "checksum_failures": self.checksum_failures,
            "unconfirmed": self.unconfirmed,
        }


class LinkState(enum.Enum):
    """What the transport knows about a port."""

    UP = "up"
    DOWN = "down"
    RECONNECTING = "reconnecting"
    SILENT = "silent"
    GARBAGE = "garbage"


@dataclass(frozen=True, slots=True)
class LinkEvent:
    port: str
    state: LinkState
    detail: str
    host_time_s: float


class NibpStatus(enum.Enum):
    """Where an NIBP measurement stands, as the module reports it."""

    IDLE = "idle"
    INFLATING = "inflating"  # measuring: cuff pressure readings flow
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"
    NOT_RESPONDING = "not_responding"


@dataclass(frozen=True, slots=True)
class NibpReading:
    """One finished NIBP measurement. Values are None when the module reported an error."""

    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    map_mmhg: int | None
    pulse_rate_bpm: int | None
    error_code: int = 0  # SunTech error code; 0 = OK
    error_text: str = ""

    @property
    def ok(self) -> bool:
        return self.error_code == 0 and self.systolic_mmhg is not None


class RespFlag(enum.IntFlag):
    """Respiration-source status bits (vitalmon's own `simresp` protocol)."""

    NONE = 0
    BREATH = 1 << 0  # a breath (inspiration) began at this sample
    NO_SIGNAL = 1 << 1  # no respiration signal: rate and breath times are unknown


@dataclass(slots=True)
class RespBatch:
    """Respiration samples decoded from one `feed()` call, as equal-length columns.

    `wave` is the respiration waveform scaled to -1..1; `rr_bpm` the source's
    current respiration rate (NaN = none); `since_breath_s` the source's seconds
    since the last breath began (NaN = unknown).
    """

    sample_rate_hz: float
    wave: np.ndarray
    rr_bpm: np.ndarray
    since_breath_s: np.ndarray
    flags: np.ndarray

    def __len__(self) -> int:
        return len(self.wave)

    @classmethod
    def empty(cls, sample_rate_hz: float) -> RespBatch:
        nothing = np.empty(0, dtype=np.float32)
        return cls(sample_rate_hz, nothing, nothing, nothing, np.empty(0, dtype=np.uint8))

    def __getitem__(self, index: slice | np.ndarray) -> RespBatch:
        return RespBatch(
            self.sample_rate_hz,
            self.wave[index],
            self.rr_bpm[index],
            self.since_breath_s[index],
            self.flags[index],
        )

    @staticmethod
    def concat(batches: Sequence[RespBatch]) -> RespBatch:
        if not batches:
            raise ValueError("concat needs at least one batch")
        return RespBatch(
            batches[0].sample_rate_hz,
            np.concatenate([b.wave for b in batches]),
            np.concatenate([b.rr_bpm for b in batches]),
            np.concatenate([b.since_breath_s for b in batches]),
            np.concatenate([b.flags for b in batches]),
        )
