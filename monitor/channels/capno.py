"""The capnography channel: a CO2 module's capnogram, EtCO2, FiCO2, rate and apnea.

docs/clinical.md ("Capnography"): a value counts only while the module says "breath
OK" and is neither warming up nor zeroing, and only within the module's range (an
EtCO2 or rate of 0 is the module's "none"). Where a CO2 module is connected the
monitor's rate and apnea come from it (`rr_source: "capnography"`). Apnea: the
seconds since the module last marked a breath, at least its own no-breath timeout
once it says "no breaths"; the preset's RR_LOW_CRITICAL decides when that alarms.
Whether the link is lost is the alarm engine's call, from `co2_last_frame_t`.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.capnostat import CapnoBatch, CapnoFlag
from drivers.capnostat_host import CapnostatHost, HostEvent
from drivers.types import LinkEvent, LinkState
from monitor.channels import Channel, Emit, Record, Write
from monitor.commands import CommandBus
from monitor.numerics import QUIET_LINE_S, STALE_HOLD_S
from monitor.records import event_record
from monitor.wavestore import GappedWave

SETTINGS_FILE = Path(__file__).with_name("capno.toml")
WAVE_SECONDS = 60
QUIET_PAD_S = 1.5  # as the respiration channel: a whole-second step is not a gap
F = CapnoFlag
NOT_MEASURING = F.WARM_UP | F.ZERO_IN_PROGRESS | F.CHECK_ADAPTER | F.SLEEP
# As plain ints: the status is asked several times a data second, and enum flag
# arithmetic costs a Python call each time.
_NOT_MEASURING, _BREATH_OK, _NO_BREATHS = int(NOT_MEASURING), int(F.BREATH_OK), int(F.NO_BREATHS)
_WARM_UP, _ZEROING, _CHECK_ADAPTER = int(F.WARM_UP), int(F.ZERO_IN_PROGRESS), int(F.CHECK_ADAPTER)


@dataclass(frozen=True, slots=True)
class CapnoLimits:
    max_mmhg: float
    max_rr_bpm: float
    hold_s: float

    @classmethod
    def load(cls, path: Path = SETTINGS_FILE) -> CapnoLimits:
        with path.open("rb") as f:
            values = tomllib.load(f)["values"]
        return cls(float(values["max_mmhg"]), float(values["max_rr_bpm"]), float(values["hold_s"]))


@dataclass(slots=True)
class _Held:
    """A value the module sent, with the data time it came (None: none)."""

    value: float | None = None
    t: float | None = None

    def current(self, t: float, hold_s: float) -> float | None:
        if self.value is None or self.t is None or t - self.t > hold_s:
            return None
        return self.value


class CapnoChannel(Channel):
    """One CO2 module on one port; the GUI reads `co2` (the capnogram) and `numerics_json`."""

    def __init__(
        self, name: str, protocol: str, emit: Emit, write: Write, commands: CommandBus
    ) -> None:
        self.name = name
        self.protocol = protocol
        self.limits = CapnoLimits.load()
        self.host = CapnostatHost(write)
        self.decoder = self.host.decoder
        self.co2_rate_hz = float(self.decoder.sample_rate_hz)
        self._wave = GappedWave(self.co2_rate_hz, WAVE_SECONDS)
        self.co2 = self._wave.ring  # the capnogram, mmHg (recorded as signal "co2")
        self._emit = emit
        self._started = False  # set up once even where no link event comes (simulator)
        self._reset_values()

    def _reset_values(self) -> None:
        self._wave.forget()
        self._etco2 = _Held()
        self._fico2 = _Held()
        self._rr = _Held()
        self.last_breath_t: float | None = None
        self._measuring_since: float | None = None

    # ------------------------------------------------------------ pipeline interface

    def feed(self, data: bytes, t: float) -> None:
        self._start(t)
        self.apply(self.decoder.feed(data), len(data), t)

    def apply(self, decoded: CapnoBatch, n_bytes: int, t: float) -> None:
        self._start(t)
        events = self.host.take(decoded, t)
        self._take(decoded, t)
        self._report(events)

    def on_link(self, event: LinkEvent, t: float) -> None:
        if event.state is LinkState.UP:
            self._started = True
            self.run_decoder = self.decoder
            self._reset_values()
            self._report(self.host.link_up(t))
        elif event.state in (LinkState.DOWN, LinkState.RECONNECTING):
            self.host.link_down()
            self._reset_values()

    def tick(self, t: float) -> None:
        self._start(t)
        self._wave.pad_until(t, QUIET_PAD_S)
        self._report(self.host.poll(t))

    def next_due(self, t: float) -> float:
        """The host's next set-up or zero, and the capnogram's gap; at once until the
        module has been set up."""
        if not self._started:
            return t
        return min(self.host.next_action_t(), self._wave.next_due(QUIET_PAD_S))

    def next_write_due(self, t: float, streamed_through: float | None = None) -> float:
        """The host's next set-up or zero (the capnogram's gap writes nothing); a module
        streaming through a time is not silent before it."""
        return t if not self._started else self.host.next_action_t(streamed_through)

    # ------------------------------------------------------------ what the module says

    @property
    def status(self) -> CapnoFlag:
        return self.host.status

    def measuring(self) -> bool:
        """The module reads CO2 now: breath values count (docs/clinical.md)."""
        return self.host.up and self.host.status_seen and not int(self.host.status) & _NOT_MEASURING

    def value_state(self, t: float) -> str:
        """valid | stale | missing | warm_up | zeroing | check_adapter."""
        s = int(self.host.status)
        last = self.host.last_frame_t
        if not self.host.up or last is None or not self.host.status_seen:
            return "missing"
        if s & _WARM_UP:
            return "warm_up"
        if s & _ZEROING:
            return "zeroing"
        if s & _CHECK_ADAPTER:
            return "check_adapter"
        quiet = t - last
        if quiet <= QUIET_LINE_S:
            return "valid"
        return "stale" if quiet - QUIET_LINE_S <= STALE_HOLD_S else "missing"

    def readings(self, t: float) -> dict[str, float | None]:
        """EtCO2, FiCO2 (mmHg) and rate (/min) as they may be shown now."""
        state = self.value_state(t)
        if state not in ("valid", "stale") or not int(self.host.status) & _BREATH_OK:
            return {"etco2": None, "fico2": None, "rr": None}
        hold = self.limits.hold_s
        return {
            "etco2": self._etco2.current(t, hold),
            "fico2": self._fico2.current(t, hold),
            "rr": self._rr.current(t, hold),
        }

    def apnea_s(self, t: float) -> float | None:
        """Seconds without a breath while the module measures (None: it does not)."""
        if not self.measuring() or self.value_state(t) != "valid":
            return None
        since = self.last_breath_t if self.last_breath_t is not None else self._measuring_since
        apnea = 0.0 if since is None else max(0.0, t - since)
        if int(self.host.status) & _NO_BREATHS:
            apnea = max(apnea, float(self.host.settings.no_breath_timeout_s))
        return apnea

    def numerics_json(self, t: float) -> Record:
        state = self.value_state(t)
        values = self.readings(t)
        apnea = self.apnea_s(t)
        rr = values["rr"]
        rr_state = "missing" if rr is None else "valid" if state == "valid" else "stale"
        return {
            "etco2": _round(values["etco2"]),
            "fico2": _round(values["fico2"]),
            "etco2_state": state,
            "rr": None if rr is None else round(rr),
            "rr_state": rr_state,
            "apnea_s": None if apnea is None else round(apnea, 1),
            "rr_source": "capnography",
            "co2_status": F.names(int(self.host.status)) if self.host.status_seen else [],
            "co2_last_frame_t": self.host.last_frame_t,
        }

    # ------------------------------------------------------------ internals

    def _start(self, t: float) -> None:
        if not self._started:
            self._started = True
            self.run_decoder = self.decoder  # decoded a run at a time from here on
            self._report(self.host.link_up(t))

    def _take(self, batch: CapnoBatch, t: float) -> None:
        n = len(batch)
        if n == 0:
            return
        self._wave.append(batch.co2_mmhg, t)
        dt = 1.0 / self.co2_rate_hz

        def row_t(row: int) -> float:
            # Rounded to the microsecond: the same frame gets the same time whatever the
            # chunking (92.15 and 92.149999... would round apnea_s differently).
            return round((t - (n - 1 - row) * dt) * 1e6) / 1e6  # as np.round(.., 6)

        if not self.measuring():
            # Breaths from before the adapter came off (a warm-up, a zero) say nothing
            # about now: apnea counts afresh from when measuring resumes.
            self._measuring_since = None
            self.last_breath_t = None
            self._etco2, self._fico2, self._rr = _Held(), _Held(), _Held()
            return
        if self._measuring_since is None:
            self._measuring_since = row_t(0)
        breaths = batch.breath_detected.nonzero()[0]
        if len(breaths):
            self.last_breath_t = row_t(int(breaths[-1]))
        ok = bool(int(self.host.status) & _BREATH_OK)
        top, top_rr = self.limits.max_mmhg, self.limits.max_rr_bpm
        for held, column, limit in (
            (self._etco2, batch.etco2_mmhg, top),
            (self._fico2, batch.fico2_mmhg, top),
            (self._rr, batch.rr_bpm, top_rr),
        ):
            rows = np.isfinite(column).nonzero()[0]
            if not len(rows):
                continue
            last = int(rows[-1])
            value = float(column[last])
            zero_is_none = held is not self._fico2  # inspired CO2 of 0 is a real value
            if not ok or value > limit or (zero_is_none and value <= 0):
                held.value, held.t = None, row_t(last)
            else:
                held.value, held.t = value, row_t(last)

    def _report(self, events: list[HostEvent]) -> None:
        for event in events:
            self._emit(event_record(event.t, "capno", state=event.kind.value, message=event.detail))


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 1)
