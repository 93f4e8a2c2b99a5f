"""What the Capnostat driver hands the monitor: status flags, stream columns, counters.

Columns (numpy arrays, one row per stream frame) for the same reason as the oximeter
batches (drivers/types.py): per-frame objects cannot reach the decode budget. A row
still reads as a typed `CapnoFrame` for tests, the CLI and humans.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, overload

import numpy as np

from drivers.types import DecoderCounters

if TYPE_CHECKING:
    from drivers.capnostat import CapnoMessage

SAMPLE_RATE_HZ = 100.0


class CapnoFlag(enum.IntFlag):
    """The module's status (DPI 1), bit by bit; names are what `vitalmon decode` prints."""

    NONE = 0
    SENSOR_ERROR = 1 << 0  # byte 1 bit 0: CO2 negative / sensor error
    CHECK_ADAPTER = 1 << 1  # byte 1 bit 1: airway adapter or sampling line
    BREATH_OK = 1 << 2  # byte 1 bit 2: valid breath data
    OUT_OF_RANGE = 1 << 3  # byte 1 bit 3
    NOT_READY_TO_ZERO = 1 << 4  # byte 1 bit 4
    SLEEP = 1 << 5  # byte 1 bit 5
    NO_BREATHS = 1 << 6  # byte 1 bit 6: apnea
    WARM_UP = 1 << 7  # byte 2 temperature = 1
    OVER_TEMPERATURE = 1 << 8  # byte 2 temperature = 2
    ZERO_IN_PROGRESS = 1 << 9  # byte 2 zero = 1
    ZERO_REQUIRED = 1 << 10  # byte 2 zero = 2 or 3
    COMPENSATION_NOT_SET = 1 << 11  # byte 2 bit 4
    SENSOR_FAULTY = 1 << 12  # byte 5 prioritised code 2

    @classmethod
    def names(cls, value: int) -> list[str]:
        """Status names for JSON, in bit order; `breath_ok` is said by `breath` instead."""
        return list(_status_names(int(value)))


@functools.cache
def _status_names(value: int) -> tuple[str, ...]:
    """`CapnoFlag.names`, worked out once per status (asked once a data second)."""
    return tuple(
        f.name.lower()
        for f in CapnoFlag
        if f.value and f is not CapnoFlag.BREATH_OK and value & f.value and f.name
    )


@dataclass(slots=True)
class CapnoBatch(Sequence["CapnoFrame"]):
    """Stream frames from one `feed()`, as columns, one row per frame.

    `etco2_mmhg`, `fico2_mmhg`, `rr_bpm` are NaN except on the frame that carries
    that parameter; `breath_detected` marks DPI 5; `status` is the module's latest
    status as of the row (held from the last DPI 1 frame; `status_frame` marks rows
    that carry one; `status_seen` is false before any). `lost_before` counts frames
    the sync counter says were lost just before the row. `messages` lists the other
    frames with the row they came before.
    """

    sync: np.ndarray
    co2_mmhg: np.ndarray
    etco2_mmhg: np.ndarray
    fico2_mmhg: np.ndarray
    rr_bpm: np.ndarray
    breath_detected: np.ndarray
    status: np.ndarray
    status_frame: np.ndarray
    status_seen: np.ndarray
    lost_before: np.ndarray
    messages: list[tuple[int, CapnoMessage]] = field(default_factory=list)
    sample_rate_hz: float = SAMPLE_RATE_HZ

    @classmethod
    def empty(cls) -> CapnoBatch:
        f = np.empty(0, dtype=np.float32)
        b = np.empty(0, dtype=bool)
        return cls(np.empty(0, np.uint8), f, f, f, f, b, np.empty(0, np.uint32), b, b,
                   np.empty(0, np.int64))  # fmt: skip

    @classmethod
    def build(
        cls,
        co2_mmhg: Sequence[float] | np.ndarray,
        *,
        etco2_mmhg: Sequence[float] | np.ndarray | None = None,
        fico2_mmhg: Sequence[float] | np.ndarray | None = None,
        rr_bpm: Sequence[float] | np.ndarray | None = None,
        breath_detected: Sequence[bool] | np.ndarray | None = None,
        status: Sequence[int] | np.ndarray | None = None,
        status_frame: Sequence[bool] | None = None,
    ) -> CapnoBatch:
        """A batch to encode (simulator, tests): NaN / False where a row has no parameter."""
        co2 = np.asarray(co2_mmhg, dtype=np.float32)
        n = len(co2)

        def col(values: Sequence[float] | np.ndarray | None) -> np.ndarray:
            return (
                np.full(n, np.nan, np.float32)
                if values is None
                else np.asarray(values, dtype=np.float32)
            )

        def flag(values: Sequence[bool] | np.ndarray | None) -> np.ndarray:
            return np.zeros(n, bool) if values is None else np.asarray(values, dtype=bool)

        st = np.zeros(n, np.uint32) if status is None else np.asarray(status, dtype=np.uint32)
        sf = flag(status_frame)
        return cls(
            np.zeros(n, np.uint8), co2, col(etco2_mmhg), col(fico2_mmhg), col(rr_bpm),
            flag(breath_detected), st, sf, sf.copy(), np.zeros(n, np.int64),
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.co2_mmhg)

    @overload
    def __getitem__(self, index: int) -> CapnoFrame: ...

    @overload
    def __getitem__(self, index: slice) -> CapnoBatch: ...

    def __getitem__(self, index: int | slice) -> CapnoFrame | CapnoBatch:
        if isinstance(index, slice):
            start, stop, _ = index.indices(len(self))
            return CapnoBatch(
                self.sync[index], self.co2_mmhg[index], self.etco2_mmhg[index],
                self.fico2_mmhg[index], self.rr_bpm[index], self.breath_detected[index],
                self.status[index], self.status_frame[index], self.status_seen[index],
                self.lost_before[index],
                [(r - start, m) for r, m in self.messages if start <= r < stop],
            )  # fmt: skip
        return CapnoFrame(
            float(self.co2_mmhg[index]),
            _opt(self.etco2_mmhg[index]),
            _opt(self.fico2_mmhg[index]),
            _opt(self.rr_bpm[index]),
            bool(self.breath_detected[index]),
            CapnoFlag(int(self.status[index])),
        )

    def __iter__(self) -> Iterator[CapnoFrame]:
        for i in range(len(self)):
            yield self[i]

    @staticmethod
    def concat(batches: Sequence[CapnoBatch]) -> CapnoBatch:
        if not batches:
            return CapnoBatch.empty()
        messages: list[tuple[int, CapnoMessage]] = []
        offset = 0
        for b in batches:
            messages += [(r + offset, m) for r, m in b.messages]
            offset += len(b)

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(b, name) for b in batches])

        return CapnoBatch(
            cat("sync"), cat("co2_mmhg"), cat("etco2_mmhg"), cat("fico2_mmhg"), cat("rr_bpm"),
            cat("breath_detected"), cat("status"), cat("status_frame"), cat("status_seen"),
            cat("lost_before"), messages,
        )  # fmt: skip


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 2)


class CapnoFrame(NamedTuple):
    """One stream frame as a human reads it (None where the frame has no such value)."""

    co2_mmhg: float
    etco2_mmhg: float | None
    fico2_mmhg: float | None
    rr_bpm: float | None
    breath_detected: bool
    status: CapnoFlag

    def to_json(self) -> dict[str, object]:
        return frame_json(
            self.co2_mmhg, self.etco2_mmhg, self.fico2_mmhg, self.rr_bpm, int(self.status)
        )


def frame_json(
    co2: float, etco2: float | None, fico2: float | None, rr: float | None, status: int
) -> dict[str, object]:
    """What `vitalmon decode capnostat` prints for a stream frame: `breath` is the
    module's "breath OK" (valid breath data) as of this frame."""
    return {
        "co2": _num(co2),
        "etco2": _num(etco2),
        "fico2": _num(fico2),
        "rr": _num(rr),
        "breath": bool(status & CapnoFlag.BREATH_OK),
        "status": CapnoFlag.names(status),
    }


def _num(value: float | None) -> float | int | None:
    if value is None or value != value:
        return None
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


@dataclass(slots=True)
class CapnoCounters(DecoderCounters):
    """The shared counters plus frames the sync counter says were lost."""

    lost_frames: int = 0

    def to_json(self) -> dict[str, int]:
        return {**DecoderCounters.to_json(self), "lost_frames": self.lost_frames}
