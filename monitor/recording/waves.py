"""Waveforms for the session file, taken from the pipeline's own ring buffers.

The pipeline already decoded every sample (and padded silences with NaN, so a gap
stays a gap). `WaveTap` looks at its ring at the start of each chunk, on the pipeline
thread: the newest sample of a look belongs to the previous chunk's data time (the
channel stamps its last sample with the chunk time, and pads silence up to it). A
look is arithmetic only; the samples are copied once, when their block is cut (at
BLOCK_MAX_S, at a jump in time, or when the recorder flushes), from the ring, which
holds more than a block. A copy at every look cost ~4 % of a recorded simulation.
"""

from __future__ import annotations

from monitor.recording.store import WaveBlock
from monitor.ringbuffer import RingBuffer

# A block is cut at half the channels' rings (60 s): a look of up to 30 s more loses nothing.
BLOCK_MAX_S = 30.0
GAP_S = 0.25  # a jump in sample time beyond this starts a new block

# Channel attributes (the GUI contract) that hold a waveform: (ring, rate, signal name).
WAVE_ATTRIBUTES = (
    ("pleth", "pleth_rate_hz", "pleth"),
    ("wave", "wave_rate_hz", "resp"),
    ("co2", "co2_rate_hz", "co2"),
)


class WaveTap:
    """Cuts what one channel's ring receives into evenly spaced blocks (pipeline thread)."""

    def __init__(self, channel: str, signal: str, ring: RingBuffer, rate_hz: float) -> None:
        self.channel = channel
        self.signal = signal
        self._ring = ring
        self.rate_hz = float(rate_hz)
        self._max = max(1, int(BLOCK_MAX_S * self.rate_hz))
        self._seen = ring.total_written  # samples are numbered as the ring counts them
        self._first = self._seen  # the open block's first sample
        self._t0: float | None = None  # its data time (None: no block open)

    def look(self, t_last: float) -> list[WaveBlock]:
        """The blocks completed by the samples written since the last look, the newest
        of them at data time `t_last`."""
        total = self._ring.total_written
        new = total - self._seen
        if new <= 0:
            return []
        blocks: list[WaveBlock] = []
        first_t = t_last - (new - 1) / self.rate_hz
        if self._t0 is not None:
            expected = self._t0 + (self._seen - self._first) / self.rate_hz
            overwritten = total - self._first > self._ring.capacity
            if overwritten or abs(first_t - expected) > GAP_S:
                blocks += self._cut(keep_going=False)
        if self._t0 is None:
            self._first, self._t0 = self._seen, first_t
        self._seen = total
        if total - self._first >= self._max:
            blocks += self._cut(keep_going=True)
        return blocks

    def flush(self) -> list[WaveBlock]:
        """The open block so far; the next sample continues its timeline."""
        return self._cut(keep_going=True)

    def _cut(self, keep_going: bool) -> list[WaveBlock]:
        if self._t0 is None or self._seen == self._first:
            return []
        # Samples a full ring overwrote before the cut are lost; the rest keep their time.
        samples, kept_from = self._ring.span(self._first, self._seen)
        rate = self.rate_hz
        blocks = []
        if len(samples):
            t0 = self._t0 + (kept_from - self._first) / rate
            blocks.append(WaveBlock(self.channel, self.signal, t0, rate, samples))
        end_t = self._t0 + (self._seen - self._first) / rate
        self._first = self._seen
        self._t0 = end_t if keep_going else None
        return blocks


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
