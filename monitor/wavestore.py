"""A waveform's ring buffer in data time, where silence becomes a gap.

docs/clinical.md: a gap in a waveform is drawn as a gap (NaN), never as a straight
line. Every channel with a waveform (pleth, respiration) keeps one of these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from drivers.linkquality import DUE_MARGIN_S, longest_gap
from monitor.ringbuffer import RingBuffer

# A pause in samples longer than this is drawn as a gap.
GAP_TOLERANCE_S = 0.25


class GappedWave:
    """Samples spaced at the device's nominal rate; a pause is filled with NaN."""

    def __init__(self, rate_hz: float, seconds: float) -> None:
        self.rate_hz = rate_hz
        self.ring = RingBuffer(int(rate_hz * seconds))
        self._last_t: float | None = None

    def append(self, samples: np.ndarray, t: float) -> None:
        """Samples whose last one arrived by data time `t`."""
        n = len(samples)
        if n == 0:
            return
        self.pad_until(t - n / self.rate_hz)  # the time just before the first of them
        self.ring.extend(samples)
        self._last_t = t

    def pad_until(self, until_t: float, tolerance_s: float = GAP_TOLERANCE_S) -> None:
        """Fill the silence up to `until_t` with NaN, so the sweep moves on and shows it."""
        if self._last_t is None:
            return
        silence = until_t - self._last_t
        if silence <= tolerance_s:
            return
        count = min(round(silence * self.rate_hz), self.ring.capacity)
        self.ring.extend(np.full(count, np.nan, dtype=np.float32))
        self._last_t = until_t

    def next_due(self, tolerance_s: float = GAP_TOLERANCE_S) -> float:
        """The earliest data time from which `pad_until` with `tolerance_s`, with no more
        samples, adds NaN (inf: no samples yet, nothing to pad)."""
        if self._last_t is None:
            return math.inf
        return self._last_t + tolerance_s - DUE_MARGIN_S

    def steady_through(
        self, frame_times: Sequence[float], t_end: float, tick_tolerance_s: float = GAP_TOLERANCE_S
    ) -> bool:
        """Would samples arriving at `frame_times`, and padding up to `t_end` with
        `tick_tolerance_s`, add no NaN? (Then `append_run` leaves the same ring.)"""
        points = [*([] if self._last_t is None else [self._last_t]), *frame_times]
        if not points:
            return True
        return longest_gap(points) <= GAP_TOLERANCE_S and t_end - points[-1] <= tick_tolerance_s

    def append_run(self, samples: np.ndarray, last_t: float) -> None:
        """Samples of several feeds at once, the last arriving at `last_t`, where
        `steady_through` vouched that no gap falls among them."""
        if len(samples):
            self.ring.extend(samples)
            self._last_t = last_t

    def forget(self) -> None:
        """The link went down: the next samples start afresh."""
        self._last_t = None
