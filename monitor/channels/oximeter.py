"""The pulse-oximeter channel: pleth into a ring buffer, numerics with their validity.

It also speaks for its link: `silent`/`garbage` events from what the decoder
makes of the bytes, and, for two-way devices (a decoder whose `startup_bytes()` says
something), the start command on every (re)open and a keep-alive every
`keepalive_interval_s`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from drivers.base import OximeterDecoder
from drivers.linkquality import LinkQuality
from drivers.registry import oximeter_decoder
from drivers.types import LinkEvent, LinkState, OximeterBatch
from monitor.channels import Channel, ChannelRun, Emit, Record, Write
from monitor.commands import CommandBus
from monitor.numerics import OximeterNumerics, OximeterSnapshot
from monitor.records import link_event
from monitor.wavestore import GappedWave

PLETH_SECONDS = 60


class OximeterChannel(Channel):
    decoder: OximeterDecoder

    def __init__(
        self, name: str, protocol: str, emit: Emit, write: Write, commands: CommandBus
    ) -> None:
        self.name = name
        self.protocol = protocol
        self.decoder = oximeter_decoder(protocol)
        self.run_decoder = self.decoder
        self.numerics = OximeterNumerics()
        self.pleth_rate_hz: float = self.decoder.sample_rate_hz
        self._pleth = GappedWave(self.pleth_rate_hz, PLETH_SECONDS)
        self.pleth = self._pleth.ring
        self._emit = emit
        self._write = write
        self.quality = LinkQuality.for_rate(self.pleth_rate_hz)
        self._keepalive_due_t: float | None = None

    def apply(self, batch: OximeterBatch, n_bytes: int, t: float) -> None:
        """What `n_bytes` arriving at `t` decoded to."""
        n = len(batch)
        self._report_quality(self.quality.observe(n_bytes, n, t), t)
        if n == 0:
            return
        self._pleth.append(batch.pleth, t)
        self.numerics.update(batch, t)

    def next_due(self, t: float) -> float:
        """A link verdict, a pleth gap or a keep-alive."""
        keepalive = math.inf if self._keepalive_due_t is None else self._keepalive_due_t
        return min(self.quality.next_due(t), self._pleth.next_due(), keepalive)

    def take_run(self, run: ChannelRun) -> None:
        """In one step where no link verdict or pleth gap falls due among the run's
        bytes (keep-alives are bytes out only, taken at the ticks they fall on); else
        one by one (for a single chunk too: cheaper so)."""
        share = run.share
        if share is None or len(run.at) == 1:
            super().take_run(run)
            return
        t_end = run.ticks[-1]
        frame_times = share.frame_times()
        if not (
            self.quality.steady_through(share.times, frame_times, t_end)
            and self._pleth.steady_through(frame_times, t_end)
        ):
            super().take_run(run)
            return
        self._keep_alive(run.ticks[:-1])
        self.quality.absorb(share.times, frame_times)
        if frame_times:
            self._pleth.append_run(share.batch.pleth, frame_times[-1])
            self.numerics.update_run(share.batch, share.last_rows(), frame_times)

    def on_link(self, event: LinkEvent, t: float) -> None:
        if event.state is not LinkState.UP:
            self.decoder.reset()
            self.numerics.reset()
            self.quality.link_down()
            self._keepalive_due_t = None
            return
        self.quality.link_up(t)
        self._send_startup(t)

    def tick(self, t: float) -> None:
        self._pleth.pad_until(t)
        self._report_quality(self.quality.check(t), t)
        self._keep_alive((t,))

    def _keep_alive(self, ticks: Sequence[float]) -> None:
        """A two-way device's keep-alive on the first tick it is due at (bytes out only:
        nothing for the records, so a run's ticks may all be taken at once)."""
        due, interval = self._keepalive_due_t, self.decoder.keepalive_interval_s
        if due is None or interval is None or not ticks or ticks[-1] < due:
            return
        for t in ticks:
            if t >= due:
                self._write(self.decoder.keepalive_bytes())
                due = t + interval
        self._keepalive_due_t = due

    def _send_startup(self, t: float) -> None:
        """Two-way devices stream only when asked, and stop unless kept alive."""
        startup = self.decoder.startup_bytes()
        if not startup:
            return
        self._write(startup)
        interval = self.decoder.keepalive_interval_s
        if interval is not None:
            self._keepalive_due_t = t + interval

    def _report_quality(self, changes: list[tuple[LinkState, str]], t: float) -> None:
        for state, detail in changes:
            self._emit(link_event(t, self.name, state.value, detail))

    def snapshot(self, t: float) -> OximeterSnapshot:
        return self.numerics.snapshot(t)

    def numerics_json(self, t: float) -> Record:
        return self.numerics.snapshot(t).to_json()
