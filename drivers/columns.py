"""Vectorised helpers shared by the decoders: sparse value updates -> per-frame columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class HeldValue:
    """A device value that holds between updates, and expires if not re-sent.

    `age_frames` counts frames since the last update, so expiry spans `feed()` calls.
    """

    max_age_frames: int
    value: float = float("nan")
    age_frames: int = 1 << 30

    def fill(self, n: int, update_rows: np.ndarray, update_values: np.ndarray) -> np.ndarray:
        """Column of `n` rows: the latest value at each row, NaN once it is too old."""
        rows = np.arange(n, dtype=np.int64)
        if len(update_rows) == 0:
            ages = self.age_frames + 1 + rows
            col = np.full(n, self.value, dtype=np.float32)
        else:
            marker = np.full(n, -1, dtype=np.int64)
            marker[update_rows] = np.arange(len(update_rows))
            np.maximum.accumulate(marker, out=marker)
            values = np.concatenate(([self.value], update_values.astype(np.float32)))
            col = values[marker + 1].astype(np.float32)
            since = np.where(
                marker >= 0,
                rows - update_rows[np.maximum(marker, 0)],
                self.age_frames + 1 + rows,
            )
            ages = since
            self.value = float(update_values[-1])
        if n:
            self.age_frames = int(ages[-1])
        col[ages > self.max_age_frames] = np.nan
        return col

    def reset(self) -> None:
        self.value = float("nan")
        self.age_frames = 1 << 30


def runs_of_step(starts: np.ndarray, step: int) -> list[np.ndarray]:
    """Split sorted frame-start candidates into runs spaced exactly `step` apart."""
    if len(starts) == 0:
        return []
    breaks = np.flatnonzero(np.diff(starts) != step) + 1
    return np.split(starts, breaks)


def select_frames(candidates: np.ndarray, frame_len: int) -> np.ndarray:
    """Choose non-overlapping frames from checksum-valid candidates, left to right.

    A lone candidate that overlaps the start of a longer run is taken for
    garbage that happened to checksum: real devices send frames back to back.
    """
    runs = runs_of_step(candidates, frame_len)
    chosen: list[np.ndarray] = []
    next_free = 0
    for i, run in enumerate(runs):
        if len(run) == 1 and i + 1 < len(runs) and runs[i + 1][0] < run[0] + frame_len:
            continue
        if run[0] < next_free:
            run = run[run >= next_free]
            if len(run) == 0:
                continue
        chosen.append(run)
        next_free = int(run[-1]) + frame_len
    if not chosen:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(chosen).astype(np.int64)
