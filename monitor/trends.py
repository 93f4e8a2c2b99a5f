"""The trend store: every numeric of the session at 1 Hz, NIBP readings, events and alarms.

A pipeline listener on records (`pipeline.trends`). The trend view and the report
ask it for a time range; numerics live in preallocated numpy columns grown in
whole blocks (an hour at a time), so a query is two binary searches and a slice,
and memory grows by a few hundred kilobytes over an 8-hour session, never per row.
Missing values are NaN here (`None` in the records), so a trend draws them as gaps.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from monitor.records import as_float, time_of

# The numerics every trend keeps (keys of the `numerics` record).
NUMERIC_KEYS: tuple[str, ...] = ("spo2", "pr", "pi", "rr", "etco2", "fico2")
NIBP_KEYS: tuple[str, ...] = ("sys", "dia", "map", "pr")
BLOCK_ROWS = 3600  # one hour of 1 Hz numerics


def _float(value: object) -> float:
    return float("nan") if value is None else as_float(value)


class _Columns:
    """Equal-length float columns with a time column, grown a block at a time."""

    def __init__(self, keys: tuple[str, ...], block_rows: int) -> None:
        self.keys = keys
        self.block_rows = block_rows
        self.n = 0
        self.t = np.empty(block_rows, dtype=np.float64)
        self.data = {k: np.empty(block_rows, dtype=np.float32) for k in keys}

    @property
    def capacity(self) -> int:
        return len(self.t)

    def append(self, t: float, values: dict[str, object]) -> None:
        if self.n == self.capacity:
            self._grow()
        self.t[self.n] = t
        for key, column in self.data.items():
            column[self.n] = _float(values.get(key))
        self.n += 1

    def _grow(self) -> None:
        size = self.capacity + self.block_rows
        t = np.empty(size, dtype=np.float64)
        t[: self.n] = self.t[: self.n]
        self.t = t
        for key, old in self.data.items():
            new = np.empty(size, dtype=np.float32)
            new[: self.n] = old[: self.n]
            self.data[key] = new

    def window(self, t0: float | None, t1: float | None) -> dict[str, np.ndarray]:
        times = self.t[: self.n]
        lo = 0 if t0 is None else int(np.searchsorted(times, t0, side="left"))
        hi = self.n if t1 is None else int(np.searchsorted(times, t1, side="right"))
        out: dict[str, np.ndarray] = {"t": times[lo:hi].copy()}
        for key, column in self.data.items():
            out[key] = column[lo:hi].copy()
        return out

    def nbytes(self) -> int:
        return self.t.nbytes + sum(c.nbytes for c in self.data.values())


@dataclass(frozen=True, slots=True)
class TrendSpan:
    first_t: float | None
    last_t: float | None


class TrendStore:
    """Listens to pipeline records; answers time-range queries from any thread."""

    def __init__(self, numeric_keys: tuple[str, ...] = NUMERIC_KEYS, block_rows: int = BLOCK_ROWS):
        self._lock = threading.Lock()
        self._numerics = _Columns(numeric_keys, block_rows)
        self._nibp = _Columns(NIBP_KEYS, 256)
        self._events: list[dict[str, object]] = []
        self._alarms: list[dict[str, object]] = []

    def __call__(self, record: dict[str, object]) -> None:
        kind = record.get("type")
        t = record.get("t")
        if t is None:
            return
        t = time_of(record)
        with self._lock:
            if kind == "numerics":
                if self._numerics.n and t <= self._numerics.t[self._numerics.n - 1]:
                    return  # time never runs backwards in a session
                self._numerics.append(t, record)
            elif kind == "nibp":
                self._nibp.append(t, record)
            elif kind == "event":
                self._events.append(dict(record))
            elif kind == "alarm":
                self._alarms.append(dict(record))

    def numerics(self, t0: float | None = None, t1: float | None = None) -> dict[str, np.ndarray]:
        """Columns `t` and every numeric key for t0 <= t <= t1 (copies; NaN = missing)."""
        with self._lock:
            return self._numerics.window(t0, t1)

    def nibp(self, t0: float | None = None, t1: float | None = None) -> dict[str, np.ndarray]:
        """Every NIBP reading in the range: `t`, `sys`, `dia`, `map`, `pr` (NaN when failed)."""
        with self._lock:
            return self._nibp.window(t0, t1)

    def events(self, t0: float | None = None, t1: float | None = None) -> list[dict[str, object]]:
        """Session and link events in the range, oldest first."""
        with self._lock:
            return _in_range(self._events, t0, t1)

    def alarms(self, t0: float | None = None, t1: float | None = None) -> list[dict[str, object]]:
        """Alarm records (onset, end, acknowledged, ...) in the range, oldest first."""
        with self._lock:
            return _in_range(self._alarms, t0, t1)

    def span(self) -> TrendSpan:
        with self._lock:
            n = self._numerics.n
            if n == 0:
                return TrendSpan(None, None)
            return TrendSpan(float(self._numerics.t[0]), float(self._numerics.t[n - 1]))

    def __len__(self) -> int:
        return self._numerics.n

    def nbytes(self) -> int:
        """Memory held by the numeric and NIBP columns (for the memory benchmark)."""
        with self._lock:
            return self._numerics.nbytes() + self._nibp.nbytes()


def _in_range(
    records: list[dict[str, object]], t0: float | None, t1: float | None
) -> list[dict[str, object]]:
    return [
        r for r in records if (t0 is None or time_of(r) >= t0) and (t1 is None or time_of(r) <= t1)
    ]
