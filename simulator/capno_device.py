"""A virtual Capnostat 5: answers the host's real bytes as the module does.

On power-up (and on a reset or a scenario reboot) it sends the boot NACK and
knows no settings; it streams only after `80 02 00 ..`, 100 frames a second, until
`C9`. It warms up first (`WARMUP_S`), says "compensations not set" until the host
has sent barometric pressure and gas compensation, asks for a zero when the scenario
says so and runs one (`ZERO_S`) when the host sends `82` with no breath on the
adapter. Each second's frames carry the status (row 0), EtCO2 (25), rate (50),
FiCO2 (75), and a breath marker where a breath's expiration begins.

The capnogram follows the patient model: a breath's expiration rises to the EtCO2
and falls at inspiration; EtCO2 rises as the rate falls (hypoventilation); a partly
obstructed airway (`capno_obstruction`, 0-1) slows the rise (the "shark fin") and
lowers the peak, until the breaths stop. All of it is a pure function of data time
and the commands received, so live and replay agree.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from drivers import capnostat as cs
from drivers.capnostat import (
    CapnoBatch,
    CapnoFlag,
    CapnoMessage,
    CapnostatCommandDecoder,
    CapnostatEncoder,
)
from simulator.devices import Model
from simulator.physiology import DeviceState, PatientModel
from simulator.waveforms import NoiseTable

PROTOCOL = "capnostat"
RATE_HZ = cs.SAMPLE_RATE_HZ
WARMUP_S = 5.0
ZERO_S = 3.0
REVISION = "vitalmon virtual Capnostat 5 v1.0"
F = CapnoFlag
_WARM_UP, _ZERO_IN_PROGRESS, _ZERO_REQUIRED = (
    int(F.WARM_UP),
    int(F.ZERO_IN_PROGRESS),
    int(F.ZERO_REQUIRED),
)
_COMPENSATION_NOT_SET, _CHECK_ADAPTER = int(F.COMPENSATION_NOT_SET), int(F.CHECK_ADAPTER)
_BREATH_OK, _NO_BREATHS = int(F.BREATH_OK), int(F.NO_BREATHS)
EXPIRATION_START = 0.4  # breath phase where expiration begins (0-0.4 inspiration)
BASE_ETCO2_MMHG = 38.0
ETCO2_PER_MISSING_BREATH = 2.5  # mmHg per breath/min below 14
ROW_STATUS, ROW_ETCO2, ROW_RR, ROW_FICO2 = 0, 25, 50, 75
NOISE_CAPNO = 3  # the noise table's stream (the oximeter's is 1, respiration's 2)
AHEAD_S = 64  # seconds rendered in one pass (dropped if a command comes meanwhile)


def etco2_for(rate_bpm: np.ndarray, obstruction: np.ndarray) -> np.ndarray:
    """End-tidal CO2 the model's ventilation gives (mmHg): rises as the rate falls."""
    etco2 = BASE_ETCO2_MMHG + ETCO2_PER_MISSING_BREATH * (14.0 - rate_bpm)
    return np.clip(etco2 * (1.0 - 0.35 * obstruction), 15.0, 90.0)


def capnogram(phase: np.ndarray, etco2: np.ndarray, obstruction: np.ndarray) -> np.ndarray:
    """CO2 (mmHg) at breath phases 0..1: inspiration at the baseline, then a rise (slower
    when obstructed) to a plateau that climbs to the EtCO2 at the end of expiration."""
    x = np.clip((phase - EXPIRATION_START) / (1.0 - EXPIRATION_START), 0.0, 1.0)
    rise = 0.06 + 0.5 * obstruction
    shape = (1.0 - np.exp(-x / (rise / 3.0))) * (0.92 + 0.08 * x)
    return np.where(phase < EXPIRATION_START, 0.0, etco2 * shape)


@dataclass(frozen=True, slots=True)
class CapnoSecond:
    """What the patient breathes into the adapter during one data second."""

    co2_mmhg: np.ndarray  # RATE_HZ samples, before the module's own noise and blanking
    breath_starts: np.ndarray  # bool per sample: an expiration begins
    etco2_mmhg: float
    rate_bpm: float
    breathing: bool


@dataclass(frozen=True, slots=True)
class CapnoSeconds:
    """`CapnoSecond`s of consecutive data seconds as columns: samples (RATE_HZ a
    second) and one value a second."""

    co2_mmhg: np.ndarray
    breath_starts: np.ndarray
    etco2_mmhg: np.ndarray
    rate_bpm: np.ndarray
    breathing: np.ndarray

    @classmethod
    def join(cls, seconds: list[CapnoSecond]) -> CapnoSeconds:
        return cls(
            np.concatenate([s.co2_mmhg for s in seconds]),
            np.concatenate([s.breath_starts for s in seconds]),
            np.array([s.etco2_mmhg for s in seconds]),
            np.array([s.rate_bpm for s in seconds]),
            np.array([s.breathing for s in seconds]),
        )


# A capnogram source: (first data second k0, count) -> what those seconds' frames carry.
CapnoSource = Callable[[int, int], CapnoSeconds]


def by_second(second: Callable[[int], CapnoSecond]) -> CapnoSource:
    """A capnogram source from one that knows a second at a time (a recording)."""
    return lambda k0, count: CapnoSeconds.join([second(k) for k in range(k0, k0 + count)])


def synth_capnogram(model: PatientModel) -> CapnoSource:
    """The patient model's breaths as a capnogram (rate, depth, obstruction), many
    seconds in one numpy pass."""
    per = int(RATE_HZ)

    def seconds(k0: int, count: int) -> CapnoSeconds:
        ks = range(k0, k0 + count)
        states = [model.second(k) for k in ks]
        obstruction = np.array([model.device_state_at(float(k)).capno_obstruction for k in ks])
        rate = np.array([s.breath_rate_bpm for s in states])
        depth = np.array([s.breath_depth for s in states])
        rr = np.array([s.vitals.rr_bpm for s in states])
        etco2 = etco2_for(rr, obstruction) * np.minimum(1.0, depth)
        breathing = (depth > 0.05) & (rate > 0.5)
        times = np.arange((k0 - 1) * per + 1, (k0 + count - 1) * per + 1) / RATE_HZ
        each = np.repeat(rate, per)
        ahead = np.repeat(np.asarray(ks, dtype=np.float64), per) - times  # to the second's end
        phase = (np.repeat([s.resp_phase for s in states], per) - ahead * each / 60.0) % 1.0
        on = np.repeat(breathing, per)
        co2 = capnogram(phase, np.repeat(etco2, per), np.repeat(obstruction, per))
        prev = (phase - each / 60.0 / RATE_HZ) % 1.0
        starts = on & (prev < EXPIRATION_START) & (phase >= EXPIRATION_START)
        return CapnoSeconds(np.where(on, co2, 0.0), starts, etco2, rate, breathing)

    return seconds


def breath_marks(starts: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Breath markers (DPI 5): at a breath's start, or the frame after where that frame
    carries another parameter (one parameter a frame)."""
    reserved = np.isin(row, (ROW_STATUS, ROW_ETCO2, ROW_RR, ROW_FICO2))
    marks = starts & ~reserved
    moved = (starts & reserved).nonzero()[0] + 1
    marks[moved[moved < len(marks)]] = True
    return marks


class VirtualCapnostat:
    """Reads commands with `receive`, streams and answers through `generate_until`."""

    protocol = PROTOCOL

    def __init__(
        self, model: Model, seed: int = 0, capnogram_source: CapnoSource | None = None
    ) -> None:
        """`capnogram_source`: what the patient breathes (a recording); by default the
        patient model's breaths (a `PatientModel`)."""
        self._model = model
        if capnogram_source is None:
            if not isinstance(model, PatientModel):
                raise ValueError("a recorded patient must bring its own capnogram")
            capnogram_source = synth_capnogram(model)
        self._source = capnogram_source
        self._noise = NoiseTable(seed, NOISE_CAPNO)  # by sample index: any block, same noise
        self._decoder = CapnostatCommandDecoder()
        self._out = bytearray()
        # Bytes out that may make the host write (a boot NACK, a reply, a status asking
        # for a zero): a simulation running ahead of the monitor stops there.
        self._prompted = False
        self.settings: dict[int, bytes] = {}
        self.streaming = False
        self._sent = 0  # frames generated since time 0 (also while not streaming: the clock)
        self._encoder = CapnostatEncoder()  # keeps the sync counter
        # The current second's frames and where each ends (None: not streaming then).
        self._second: tuple[bytes, np.ndarray] | None = None
        # Seconds rendered ahead (one numpy pass for many), dropped when a command
        # comes; and the state after the last second handed out, to go back to.
        self._ahead: deque[_Rendered] = deque()
        self._kept: tuple[int, float | None] = (0, None)
        self._powered_t = 0.0
        self._zero_until: float | None = None
        self._zeroed = False  # a zero ran since power-up (clears a scenario's request)
        self._last_breath_t: float | None = None
        self.boots = 0
        self.received: list[CapnoMessage] = []
        self.power_on(0.0)

    # ------------------------------------------------------------ the module's life

    def power_on(self, t: float) -> None:
        """A (re)start: settings forgotten, stream stopped, the boot NACK sent."""
        self.boots += 1
        self._forget_ahead()
        self.settings.clear()
        self.streaming = False
        self._powered_t = t
        self._zero_until = None
        self._decoder.reset()
        self._out += cs.nack(cs.NACK_BOOT)
        self._prompted = True

    def receive(self, data: bytes, t: float) -> None:
        """Bytes the host wrote, at data time `t`."""
        self._catch_up(t)
        messages = self._decoder.feed(data)
        if messages:  # a command takes effect from the next second: render afresh
            self._forget_ahead()
        for message in messages:
            self.received.append(message)
            answer = self._answer(message, t)
            self._out += answer
            self._prompted = self._prompted or bool(answer)

    def take_prompted(self) -> bool:
        """Did the bytes out since the last call include any the host answers? The
        stream alone it only reads (docs/architecture.md, "the simulator ahead")."""
        prompted, self._prompted = self._prompted, False
        return prompted

    def generate_until(self, t: float) -> bytes:
        self._catch_up(t)
        out, self._out = bytes(self._out), bytearray()
        return out

    # ------------------------------------------------------------ commands

    def _answer(self, message: CapnoMessage, t: float) -> bytes:
        cmd, data = message.cmd, message.data
        if cmd == cs.CMD_WAVEFORM:
            self.streaming = True
            return b""
        if cmd == cs.CMD_STOP:
            self.streaming = False
            return cs.stop_reply()
        if cmd == cs.CMD_SETTING and data:
            isb = data[0]
            if len(data) > 1:
                self.settings[isb] = bytes(data[1:])
            return cs.setting_reply(isb, self.settings.get(isb, b""))
        if cmd == cs.CMD_ZERO:
            return cs.zero_reply(self._zero(t))
        if cmd == cs.CMD_REVISION:
            return cs.revision_reply(REVISION)
        if cmd == cs.CMD_CAPABILITIES:
            return cs.capabilities_reply(data[0] if data else 0)
        if cmd == cs.CMD_RESET_NO_BREATH:
            self._last_breath_t = t
            return cs.frame(cs.CMD_RESET_NO_BREATH)
        if cmd == cs.CMD_RESET:
            self.power_on(t)
            return b""
        return cs.nack(1)  # an unknown command

    def _zero(self, t: float) -> cs.ZeroResult:
        if self._zero_until is not None and t < self._zero_until:
            return cs.ZeroResult.IN_PROGRESS
        if self._breathing(t) and not self._model.device_state_at(t).capno_adapter_off:
            return cs.ZeroResult.BREATH_DETECTED
        self._zero_until = t + ZERO_S
        self._zeroed = True
        return cs.ZeroResult.STARTED

    # ------------------------------------------------------------ the stream

    def _breathing(self, t: float) -> bool:
        return bool(self._source(math.ceil(t - 1e-9), 1).breathing[0])

    def _catch_up(self, t: float) -> None:
        """Frames (and the module's clock) up to `t`. A second is rendered whole when its
        first frame is due, so the bytes do not depend on how callers step time; a
        command takes effect from the next second (the module's latency)."""
        per_second = int(RATE_HZ)
        due = math.floor(t * RATE_HZ + 1e-6)
        while self._sent < due:
            k, first = divmod(self._sent, per_second)
            if first == 0:
                self._second = self._next_second(k + 1) if self.streaming else None
            end = min(due, (k + 1) * per_second)
            if self.streaming and self._second is not None:
                data, ends = self._second
                begin = int(ends[first - 1]) if first else 0
                self._out += data[begin : int(ends[end - k * per_second - 1])]
            self._sent = end

    def _status(self, t: float, breathing: bool, faults: DeviceState) -> int:
        flags = 0  # CapnoFlag bits as a plain int: worked out every second
        if t - self._powered_t < WARMUP_S:
            flags |= _WARM_UP
        if not {cs.Isb.BAROMETRIC_PRESSURE, cs.Isb.GAS_COMPENSATION} <= self.settings.keys():
            flags |= _COMPENSATION_NOT_SET
        if self._zero_until is not None and t < self._zero_until:
            flags |= _ZERO_IN_PROGRESS
        elif faults.capno_zero_required and not self._zeroed:
            flags |= _ZERO_REQUIRED
        if faults.capno_adapter_off:
            flags |= _CHECK_ADAPTER
        measuring = not faults.capno_adapter_off and not flags & (_WARM_UP | _ZERO_IN_PROGRESS)
        if breathing and measuring:
            flags |= _BREATH_OK
        timeout = self.settings.get(cs.Isb.NO_BREATH_TIMEOUT, b"\x14")[0]
        # The module's no-breath clock runs from its last breath, or from when it began
        # measuring (the end of the warm-up): never "no breaths" the moment it is warm.
        since = self._powered_t + WARMUP_S if self._last_breath_t is None else self._last_breath_t
        quiet = t - since >= timeout
        if quiet and measuring:
            flags |= _NO_BREATHS
        return flags

    def _blocked(self, times: np.ndarray, adapter_off: np.ndarray) -> np.ndarray:
        """Samples with no CO2 reading: adapter off, warming up, zeroing."""
        blocked = (times - self._powered_t < WARMUP_S) | adapter_off
        if self._zero_until is not None:
            blocked |= times < self._zero_until
        return blocked

    def _next_second(self, k: int) -> tuple[bytes, np.ndarray]:
        """Data second k's frames and where each ends, from the seconds rendered ahead."""
        if not self._ahead or self._ahead[0].k != k:
            self._forget_ahead()
            self._ahead.extend(self._render(k, AHEAD_S))
        second = self._ahead.popleft()
        self._kept = (second.sync_after, second.last_breath_after)
        if second.prompts:
            self._prompted = True  # the host starts a zero when no breath is on the adapter
        return second.data, second.ends

    def _forget_ahead(self) -> None:
        """Drop the seconds rendered ahead, back to the state after the last one sent."""
        if self._ahead:
            self._encoder.sync, self._last_breath_t = self._kept
            self._ahead.clear()

    def _render(self, k0: int, count: int) -> list[_Rendered]:
        """Data seconds k0 .. k0+count-1, as the module would send them with no command
        coming meanwhile: each second's status from the one before, all of them in
        one numpy pass."""
        per = int(RATE_HZ)
        self._kept = (self._encoder.sync, self._last_breath_t)
        here = self._source(k0, count)
        faults = [self._model.device_state_at(float(k)) for k in range(k0, k0 + count)]
        index = np.arange((k0 - 1) * per, (k0 + count - 1) * per)
        times = (index + 1) / RATE_HZ
        blocked = self._blocked(times, np.repeat([f.capno_adapter_off for f in faults], per))
        noise = 0.15 * self._noise.at(index)
        co2 = np.clip(np.where(~blocked, here.co2_mmhg, 0.0) + noise, 0.0, None)
        starts = here.breath_starts & ~blocked
        starts_by_second = starts.reshape(count, per)
        last_start = per - 1 - np.argmax(starts_by_second[:, ::-1], axis=1)
        has_start = starts_by_second.any(axis=1).tolist()
        statuses, states = [], []
        for i in range(count):
            statuses.append(self._status(float(times[i * per]), bool(here.breathing[i]), faults[i]))
            if has_start[i]:
                self._last_breath_t = float(times[i * per + last_start[i]])
            sync = (self._encoder.sync + (i + 1) * per) & 0x7F
            states.append((sync, self._last_breath_t))
        row = np.tile(np.arange(per), count)
        ok = np.repeat(here.breathing, per) & ~blocked  # a value, or the module's 0 for none
        nan = np.full(len(row), np.nan)

        def every_second(values: np.ndarray, at_row: int) -> np.ndarray:
            return np.where(row == at_row, np.where(ok, np.repeat(values, per), 0.0), nan)

        batch = CapnoBatch.build(
            co2,
            etco2_mmhg=every_second(np.round(here.etco2_mmhg, 1), ROW_ETCO2),
            rr_bpm=every_second(np.round(here.rate_bpm), ROW_RR),
            fico2_mmhg=np.where(row == ROW_FICO2, 0.0, nan),
            breath_detected=breath_marks(starts, row),
            status=np.repeat(statuses, per),
            status_frame=row == ROW_STATUS,
        )
        data, ends = self._encoder.encode_frames(batch)
        out = []
        for i, (sync, last_breath) in enumerate(states):
            begin = int(ends[i * per - 1]) if i else 0
            own = ends[i * per : (i + 1) * per] - begin
            prompts = bool(statuses[i] & _ZERO_REQUIRED)
            out.append(_Rendered(k0 + i, data[begin : int(own[-1]) + begin], own, prompts,
                                 sync, last_breath))  # fmt: skip
        return out


@dataclass(frozen=True, slots=True)
class _Rendered:
    """One data second's frames rendered ahead, and the module's state after it."""

    k: int
    data: bytes
    ends: np.ndarray  # where each frame ends in `data`
    prompts: bool  # its status asks the host for a zero
    sync_after: int
    last_breath_after: float | None
