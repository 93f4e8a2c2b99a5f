"""The respiration channel: waveform into a ring buffer, the rate with its validity, and
the time since the last breath, so the alarm engine can tell apnea (no breath for 30 s)
from a slow rate.

docs/clinical.md: respiration rate is shown and alarmed only where a source gives it;
a value with no valid source is dashes (`null`), never its last number.
"""

from __future__ import annotations

import bisect
import itertools
import math

import numpy as np

from drivers.registry import resp_decoder
from drivers.types import LinkEvent, LinkState, RespBatch, RespFlag
from monitor.channels import Channel, ChannelRun, Emit, Record, Write
from monitor.commands import CommandBus
from monitor.numerics import QUIET_LINE_S, STALE_HOLD_S, ValueState
from monitor.wavestore import GappedWave

WAVE_SECONDS = 60
# While nothing arrives, the sweep is kept moving with NaN only after this long: a source
# stepped in whole seconds (--speed max) delivers a second's samples in one piece, and
# another channel's chunk of the same step must not punch a gap before they arrive.
QUIET_PAD_S = 1.5
BREATH, NO_SIGNAL = int(RespFlag.BREATH), int(RespFlag.NO_SIGNAL)


class RespChannel(Channel):
    def __init__(
        self, name: str, protocol: str, emit: Emit, write: Write, commands: CommandBus
    ) -> None:
        self.name = name
        self.protocol = protocol
        self.decoder = resp_decoder(protocol)
        self.run_decoder = self.decoder
        self.wave_rate_hz: float = float(self.decoder.sample_rate_hz)
        self._wave = GappedWave(self.wave_rate_hz, WAVE_SECONDS)
        self.wave = self._wave.ring
        self._emit = emit
        self._write = write
        self._reset_values()

    def _reset_values(self) -> None:
        self._wave.forget()
        self._rr: float | None = None
        self._last_frame_t: float | None = None
        self._signal_since: float | None = None  # first frame of the current valid signal
        self.last_breath_t: float | None = None  # data time the last breath began
        self._device_since_breath_s: float | None = None

    def next_due(self, t: float) -> float:
        """The wave's gap (nothing else here is timed)."""
        return self._wave.next_due(QUIET_PAD_S)

    def take_run(self, run: ChannelRun) -> None:
        """In one step where no wave gap falls due and no feed reports a lost signal;
        else (and for a single chunk, where one by one is the cheaper) one by one."""
        share = run.share
        frame_times = [] if share is None or len(run.at) == 1 else share.frame_times()
        if share is None or not frame_times:
            super().take_run(run)
            return
        lost = np.any(share.batch.flags[share.last_rows()] & NO_SIGNAL)
        if lost or not self._wave.steady_through(frame_times, run.ticks[-1], QUIET_PAD_S):
            super().take_run(run)
            return
        batch, counts, times = share.batch, share.counts, share.times
        fed = share.fed()
        starts = [0, *itertools.accumulate(counts)]
        dt = 1.0 / self.wave_rate_hz

        def first_t(i: int) -> float:
            return times[i] - (counts[i] - 1) * dt

        self._after_gap(first_t(fed[0]))
        self._wave.append_run(batch.wave, times[fed[-1]])
        self._last_frame_t = times[fed[-1]]
        if self._signal_since is None:
            self._signal_since = first_t(fed[0])
        breaths = (batch.flags & BREATH).nonzero()[0]
        if len(breaths):
            row = int(breaths[-1])
            i = bisect.bisect_right(starts, row) - 1
            self.last_breath_t = first_t(i) + (row - starts[i]) * dt
        self._take_values(batch)

    def apply(self, batch: RespBatch, n_bytes: int, t: float) -> None:
        """What `n_bytes` arriving at `t` decoded to."""
        n = len(batch)
        if n == 0:
            return
        dt = 1.0 / self.wave_rate_hz
        first_t = t - (n - 1) * dt
        self._after_gap(first_t)
        self._wave.append(batch.wave, t)
        self._last_frame_t = t
        if int(batch.flags[-1]) & NO_SIGNAL:
            self._rr = None
            self._signal_since = None
            self.last_breath_t = None
            self._device_since_breath_s = None
            return
        if self._signal_since is None:
            self._signal_since = first_t
        breaths = (batch.flags & BREATH).nonzero()[0]
        if len(breaths):
            self.last_breath_t = first_t + int(breaths[-1]) * dt
        self._take_values(batch)

    def _after_gap(self, first_t: float) -> None:
        """Frames again after the value went missing: a breath marked before the gap says
        nothing of the breaths missed in it (the device's own count does), so the
        monitor's apnea count starts afresh (else a dropout ends in a false apnea)."""
        if self._last_frame_t is not None and first_t - self._last_frame_t > (
            QUIET_LINE_S + STALE_HOLD_S
        ):
            self._signal_since = None
            self.last_breath_t = None
            self._device_since_breath_s = None

    def _take_values(self, batch: RespBatch) -> None:
        """The rate and seconds since the last breath, as the last row has them."""
        rr = float(batch.rr_bpm[-1])
        self._rr = None if math.isnan(rr) else rr
        since = float(batch.since_breath_s[-1])
        self._device_since_breath_s = None if math.isnan(since) else since

    def on_link(self, event: LinkEvent, t: float) -> None:
        if event.state is not LinkState.UP:
            self.decoder.reset()
            self._reset_values()

    def tick(self, t: float) -> None:
        self._wave.pad_until(t, QUIET_PAD_S)

    def rr_reading(self, t: float) -> tuple[float | None, ValueState]:
        """The rate as the screen should show it (docs/clinical.md stale/missing rules)."""
        if self._rr is None or self._last_frame_t is None:
            return None, ValueState.MISSING
        quiet = t - self._last_frame_t
        if quiet <= QUIET_LINE_S:
            return self._rr, ValueState.VALID
        if quiet - QUIET_LINE_S <= STALE_HOLD_S:
            return self._rr, ValueState.STALE
        return None, ValueState.MISSING

    def apnea_s(self, t: float) -> float | None:
        """Seconds without a breath while the signal is valid (None: no valid signal)."""
        _, state = self.rr_reading(t)
        if state is not ValueState.VALID or self._signal_since is None:
            return None
        if self.last_breath_t is not None:
            return max(0.0, t - self.last_breath_t)
        if self._device_since_breath_s is not None and self._last_frame_t is not None:
            return self._device_since_breath_s + (t - self._last_frame_t)
        return max(0.0, t - self._signal_since)

    def numerics_json(self, t: float) -> Record:
        rr, state = self.rr_reading(t)
        apnea = self.apnea_s(t)
        return {
            "rr": None if rr is None else round(rr),
            "rr_state": state.value,
            "apnea_s": None if apnea is None else round(apnea, 1),
            "rr_source": "respiration",
            "resp_last_frame_t": None
            if self._last_frame_t is None
            else round(self._last_frame_t, 3),
        }
