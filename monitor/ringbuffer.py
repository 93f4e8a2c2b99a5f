"""A fixed-capacity numpy ring for waveform samples: bounded memory for any session length."""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    """Writer appends, readers take snapshots of the newest samples; both may be on any thread."""

    def __init__(self, capacity: int, dtype: type = np.float32) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._data: np.ndarray = np.full(capacity, np.nan, dtype=dtype)
        self._write = 0  # next index to write
        self._total = 0  # samples ever written
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return min(self._total, self.capacity)

    @property
    def total_written(self) -> int:
        return self._total

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        n = len(values)
        if n == 0:
            return
        with self._lock:
            if n >= self.capacity:
                self._data[:] = values[-self.capacity :]
                self._write = 0
            else:
                end = self._write + n
                if end <= self.capacity:
                    self._data[self._write : end] = values
                else:
                    split = self.capacity - self._write
                    self._data[self._write :] = values[:split]
                    self._data[: n - split] = values[split:]
                self._write = end % self.capacity
            self._total += n

    def snapshot(self, n: int | None = None) -> tuple[np.ndarray, int]:
        """The newest `n` samples oldest first (a copy of just those), and the total written."""
        with self._lock:
            count = len(self) if n is None else min(n, len(self))
            return self._copy(self._total - count, count), self._total

    def span(self, first: int, end: int) -> tuple[np.ndarray, int]:
        """A copy of samples number `first` to `end - 1` (numbered from the first ever
        written) that the ring still holds, and the number of the first returned."""
        with self._lock:
            first = max(first, self._total - len(self))
            return self._copy(first, min(end, self._total) - first), first

    def _copy(self, first: int, count: int) -> np.ndarray:
        """`count` samples from number `first` on, all still held (the lock is held)."""
        if count <= 0:
            return self._data[:0].copy()
        start = (self._write - (self._total - first)) % self.capacity
        if start + count <= self.capacity:
            return self._data[start : start + count].copy()
        head = self._data[start:]
        return np.concatenate((head, self._data[: count - len(head)]))
