"""A chair's last hour of trends at the central, from its `numerics` and `nibp` messages.

Fixed rings (an hour of 1 Hz rows, the last NIBP readings), so a central that runs for
weeks holds the same memory for each chair whatever its sessions did. A bedside that
starts again (its data time goes back) starts a new trend.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from monitor.ringbuffer import RingBuffer
from monitor.trends import NIBP_KEYS, NUMERIC_KEYS

HOUR_S = 3600.0
ROWS = 3660  # an hour of 1 Hz numerics and a minute to spare
NIBP_ROWS = 128  # every 5 min for 8 hours and more


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


class _Rows:
    def __init__(self, keys: tuple[str, ...], rows: int) -> None:
        self.keys = keys
        self.t = RingBuffer(rows, dtype=np.float64)
        self.columns = {k: RingBuffer(rows) for k in keys}

    def add(self, t: float, record: dict[str, object]) -> None:
        self.t.extend(np.array([t]))
        for key, ring in self.columns.items():
            ring.extend(np.array([_float(record.get(key))], dtype=np.float32))

    def since(self, t0: float) -> dict[str, np.ndarray]:
        t, _ = self.t.snapshot()
        keep = t >= t0
        out = {"t": t[keep]}
        for key, ring in self.columns.items():
            values, _ = ring.snapshot()
            out[key] = values[keep]
        return out


class HourTrend:
    """`numerics()` and `nibp()` of the last hour of data time, oldest first (NaN = missing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._numerics = _Rows(NUMERIC_KEYS, ROWS)
        self._nibp = _Rows(NIBP_KEYS, NIBP_ROWS)
        self.last_t: float | None = None

    def add(self, record: dict[str, object]) -> None:
        t = record.get("t")
        if not isinstance(t, int | float) or not math.isfinite(t):
            return
        with self._lock:
            if record.get("type") == "numerics":
                if self.last_t is not None and t <= self.last_t:
                    if t < self.last_t - 1.0:
                        self._reset()  # a new session at the bedside: data time began again
                    else:
                        return
                self._numerics.add(float(t), record)
                self.last_t = float(t)
            elif record.get("type") == "nibp":
                self._nibp.add(float(t), record)

    def numerics(self) -> dict[str, np.ndarray]:
        with self._lock:
            return self._numerics.since(self._start())

    def nibp(self) -> dict[str, np.ndarray]:
        with self._lock:
            return self._nibp.since(self._start())

    def _start(self) -> float:
        return -np.inf if self.last_t is None else self.last_t - HOUR_S

    def __len__(self) -> int:
        return len(self._numerics.t)
