"""The `wave` topic: pleth and CO2 samples in blocks of about 0.25 s of data time.

Bedside (`WaveBlocks`): the publisher's own thread reads what the channels' ring
buffers gained since its last look, so the acquisition thread does nothing extra and
the ring is the bounded queue (60 s deep: a sender stuck longer loses the oldest).
Central (`ChairWaves`): each block goes into a `GappedWave` of the chair, so a lost
block (QoS 0) or a silent bedside draws as a gap, never as a straight line
(docs/clinical.md). Payload: `{"t0", "fs", "pleth": [...]}` plus `"co2_fs", "co2"`
with capnography; a gap sample is `null` (docs/central.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from monitor.pipeline import AcquisitionPipeline
from monitor.ringbuffer import RingBuffer
from monitor.wavestore import GappedWave

BLOCK_S = 0.25
CENTRAL_WAVE_S = 10.0  # what the central keeps of each chair's waves (its sweep shows 8 s)
LOST_BLOCK_S = 0.1  # a block starting this much after the last one ended: a gap (one lost)
DECIMALS = 2


@dataclass(slots=True)
class _Tap:
    key: str  # "pleth" or "co2"
    ring: RingBuffer
    fs: float
    seen: int = 0  # ring.total_written at the last look

    def take(self) -> np.ndarray:
        total = self.ring.total_written
        new = min(total - self.seen, self.ring.capacity)
        self.seen = total
        if new <= 0:
            return np.empty(0, dtype=np.float32)
        samples, _ = self.ring.snapshot(new)
        return samples


def as_list(samples: np.ndarray) -> list[float | None]:
    """JSON-ready: rounded, NaN (a gap) as None."""
    return [None if math.isnan(v) else v for v in np.round(samples, DECIMALS).tolist()]


class WaveBlocks:
    """Cuts the pipeline's pleth (and CO2) rings into `wave` payloads; call `take()` often."""

    def __init__(self, pipeline: AcquisitionPipeline, block_s: float = BLOCK_S) -> None:
        self._pipeline = pipeline
        self.block_s = block_s
        self.taps: list[_Tap] = []
        oximeter = pipeline.oximeter
        if oximeter is not None:
            self.taps.append(_Tap("pleth", oximeter.pleth, float(oximeter.pleth_rate_hz)))
        capno = pipeline.channels.get("capno")
        if capno is not None and hasattr(capno, "co2"):
            self.taps.append(_Tap("co2", capno.co2, float(capno.co2_rate_hz)))
        self._t0: float | None = None

    def take(self) -> list[dict[str, object]]:
        """The blocks due by the pipeline's data time now (none before 0.25 s has passed).

        Data time moves faster than the sender looks when the simulator runs at
        `--speed N`: what came since the last block is then split into blocks of 0.25 s."""
        if not self.taps:
            return []
        t = self._pipeline.t
        if self._t0 is None or t < self._t0:  # the start, or a pipeline begun again
            self._t0 = t
            for tap in self.taps:
                tap.seen = tap.ring.total_written
            return []
        span = t - self._t0
        if span < self.block_s:
            return []
        count = int(span / self.block_s)
        waves = {tap.key: (tap, np.array_split(tap.take(), count)) for tap in self.taps}
        blocks: list[dict[str, object]] = []
        for i in range(count):
            block: dict[str, object] = {"t0": round(self._t0 + i * span / count, 3)}
            for key, (tap, parts) in waves.items():
                block["fs" if key == "pleth" else f"{key}_fs"] = tap.fs
                block[key] = as_list(parts[i])
            blocks.append(block)
        self._t0 = t
        return blocks


def _samples(values: object) -> np.ndarray | None:
    if not isinstance(values, list):
        return None
    try:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float32)
    except (TypeError, ValueError):
        return None


@dataclass(slots=True)
class ChairWaves:
    """A chair's pleth and capnogram at the central, from its `wave` blocks."""

    pleth: GappedWave | None = None
    co2: GappedWave | None = None
    blocks: int = 0
    last_t: float | None = field(default=None)

    def add(self, block: dict[str, object]) -> bool:
        """One `wave` payload; False when it is not one."""
        t0 = block.get("t0")
        if not isinstance(t0, int | float) or not math.isfinite(t0):
            return False
        if self.last_t is not None and t0 < self.last_t - 1.0:  # the bedside began again
            self.pleth = self.co2 = None
        took = False
        for key, rate_key in (("pleth", "fs"), ("co2", "co2_fs")):
            samples = _samples(block.get(key))
            fs = block.get(rate_key)
            if samples is None or not isinstance(fs, int | float) or not 0 < fs < 100_000:
                continue
            wave = getattr(self, key)
            if wave is None or wave.rate_hz != fs:
                wave = GappedWave(float(fs), CENTRAL_WAVE_S)
                setattr(self, key, wave)
            wave.pad_until(float(t0), LOST_BLOCK_S)
            end = float(t0) + len(samples) / fs
            wave.append(samples, end)
            self.last_t = end
            took = True
        self.blocks += took
        return took
