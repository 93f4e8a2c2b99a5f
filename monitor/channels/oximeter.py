"""The pulse-oximeter channel: pleth into a ring buffer, numerics with their validity."""

from __future__ import annotations

import numpy as np

from drivers.registry import make_decoder
from drivers.types import LinkEvent, LinkState
from monitor.channels import Emit, Record, Write
from monitor.commands import CommandBus
from monitor.numerics import OximeterNumerics, OximeterSnapshot
from monitor.ringbuffer import RingBuffer

PLETH_SECONDS = 60
# A pause in samples longer than this is drawn as a gap.
GAP_TOLERANCE_S = 0.25


class OximeterChannel:
    def __init__(
        self, name: str, protocol: str, emit: Emit, write: Write, commands: CommandBus
    ) -> None:
        self.name = name
        self.protocol = protocol
        self.decoder = make_decoder(protocol)
        self.numerics = OximeterNumerics()
        self.pleth_rate_hz: float = self.decoder.sample_rate_hz
        self.pleth = RingBuffer(int(self.pleth_rate_hz * PLETH_SECONDS))
        self._pleth_last_t: float | None = None
        self._emit = emit
        self._write = write

    def feed(self, data: bytes, t: float) -> None:
        batch = self.decoder.feed(data)
        n = len(batch)
        if n == 0:
            return
        first_sample_t = t - (n - 1) / self.pleth_rate_hz
        self._pad_pleth(first_sample_t - 1.0 / self.pleth_rate_hz)
        self.pleth.extend(batch.pleth)
        self._pleth_last_t = t
        self.numerics.update(batch, t)

    def on_link(self, event: LinkEvent, t: float) -> None:
        if event.state is not LinkState.UP:
            self.decoder.reset()
            self.numerics.reset()

    def tick(self, t: float) -> None:
        self._pad_pleth(t)

    def snapshot(self, t: float) -> OximeterSnapshot:
        return self.numerics.snapshot(t)

    def numerics_json(self, t: float) -> Record:
        return self.numerics.snapshot(t).to_json()

    def _pad_pleth(self, until_t: float) -> None:
        """Fill silence with NaN so the sweep keeps moving and shows the gap as a gap."""
        if self._pleth_last_t is None:
            return
        silence = until_t - self._pleth_last_t
        if silence <= GAP_TOLERANCE_S:
            return
        count = min(round(silence * self.pleth_rate_hz), self.pleth.capacity)
        self.pleth.extend(np.full(count, np.nan, dtype=np.float32))
        self._pleth_last_t = until_t
