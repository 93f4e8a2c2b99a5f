"""Waveforms for the session file, taken from the pipeline's own ring buffers.

The pipeline already decoded every sample (and padded silences with NaN, so a gap
stays a gap). `WaveTap` runs on the pipeline thread, at the start of each chunk, and
copies the samples written since its last look (microseconds, no decoding); the
recorder's thread turns them into blocks with `BlockBuilder`. The newest sample of
a look belongs to the previous chunk's data time: the channel stamps its last
sample with the chunk time, and pads silence up to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.recording.store import WaveBlock
from monitor.ringbuffer import RingBuffer

BLOCK_MAX_S = 60.0
GAP_S = 0.25  # a jump in sample time beyond this starts a new block

# Channel attributes (the GUI contract) that hold a waveform: (ring, rate, signal name).
WAVE_ATTRIBUTES = (
    ("pleth", "pleth_rate_hz", "pleth"),
    ("wave", "wave_rate_hz", "resp"),
    ("co2", "co2_rate_hz", "co2"),
)


@dataclass(frozen=True, slots=True)
class WaveSlice:
    """Samples new since the last look; the last one at data time `t_last`."""

    channel: str
    signal: str
    rate_hz: float
    t_last: float
    samples: np.ndarray
    lost: int = 0  # samples overwritten before they could be copied


class WaveTap:
    """Copies one channel's new ring-buffer samples (pipeline thread)."""

    def __init__(self, channel: str, signal: str, ring: RingBuffer, rate_hz: float) -> None:
        self.channel = channel
        self.signal = signal
        self._ring = ring
        self.rate_hz = float(rate_hz)
        self._seen = ring.total_written

    def take(self, t_last: float) -> WaveSlice | None:
        new = self._ring.total_written - self._seen
        if new <= 0:
            return None
        samples, total = self._ring.snapshot(new)
        lost = total - self._seen - len(samples)
        self._seen = total
        return WaveSlice(self.channel, self.signal, self.rate_hz, t_last, samples, lost)


def taps_for(channels: dict[str, object]) -> list[WaveTap]:
    """A tap for every waveform any channel exposes."""
    taps = []
    for name, channel in channels.items():
        for ring_attr, rate_attr, signal in WAVE_ATTRIBUTES:
            ring = getattr(channel, ring_attr, None)
            rate = getattr(channel, rate_attr, None)
            if isinstance(ring, RingBuffer) and rate:
                taps.append(WaveTap(name, signal, ring, float(rate)))
    return taps


class BlockBuilder:
    """Joins slices of one signal into evenly spaced blocks (recorder thread)."""

    def __init__(self, channel: str, signal: str, rate_hz: float) -> None:
        self.channel, self.signal, self.rate_hz = channel, signal, rate_hz
        self._t0: float | None = None
        self._parts: list[np.ndarray] = []
        self._count = 0

    def add(self, piece: WaveSlice) -> list[WaveBlock]:
        n = len(piece.samples)
        first_t = piece.t_last - (n - 1) / self.rate_hz
        done: list[WaveBlock] = []
        expected = None if self._t0 is None else self._t0 + self._count / self.rate_hz
        if piece.lost or (expected is not None and abs(first_t - expected) > GAP_S):
            done += self.flush()
        if self._t0 is None:
            self._t0 = first_t
        self._parts.append(np.asarray(piece.samples, dtype=np.float32))
        self._count += n
        if self._count >= BLOCK_MAX_S * self.rate_hz:
            done += self.flush(keep_going=True)
        return done

    def flush(self, keep_going: bool = False) -> list[WaveBlock]:
        """The block so far; with `keep_going` the next sample continues its timeline."""
        if self._t0 is None or not self._parts:
            return []
        samples = np.concatenate(self._parts)
        block = WaveBlock(self.channel, self.signal, self._t0, self.rate_hz, samples)
        self._parts, self._count = [], 0
        self._t0 = block.t_end if keep_going else None
        return [block]
