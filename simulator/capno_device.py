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
from simulator.physiology import PatientModel

PROTOCOL = "capnostat"
RATE_HZ = cs.SAMPLE_RATE_HZ
WARMUP_S = 5.0
ZERO_S = 3.0
REVISION = "vitalmon virtual Capnostat 5 v1.0"
F = CapnoFlag
EXPIRATION_START = 0.4  # breath phase where expiration begins (0-0.4 inspiration)
BASE_ETCO2_MMHG = 38.0
ETCO2_PER_MISSING_BREATH = 2.5  # mmHg per breath/min below 14
ROW_STATUS, ROW_ETCO2, ROW_RR, ROW_FICO2 = 0, 25, 50, 75


def etco2_for(rate_bpm: float, obstruction: float) -> float:
    """End-tidal CO2 the model's ventilation gives (mmHg): rises as the rate falls."""
    etco2 = BASE_ETCO2_MMHG + ETCO2_PER_MISSING_BREATH * (14.0 - rate_bpm)
    return float(np.clip(etco2 * (1.0 - 0.35 * obstruction), 15.0, 90.0))


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


# A capnogram source: data second k -> what that second's frames carry.
CapnoSource = Callable[[int], CapnoSecond]


def synth_capnogram(model: PatientModel) -> CapnoSource:
    """The patient model's breaths as a capnogram (rate, depth, obstruction)."""

    def second(k: int) -> CapnoSecond:
        state = model.second(k)
        faults = model.device_state_at(float(k))
        index = np.arange((k - 1) * int(RATE_HZ), k * int(RATE_HZ))
        times = (index + 1) / RATE_HZ
        rate = state.breath_rate_bpm
        phase = (state.resp_phase - (k - times) * rate / 60.0) % 1.0
        obstruction = float(faults.capno_obstruction)
        etco2 = etco2_for(state.vitals.rr_bpm, obstruction) * min(1.0, state.breath_depth)
        breathing = state.breath_depth > 0.05 and rate > 0.5
        co2 = capnogram(phase, np.full(len(index), etco2), np.full(len(index), obstruction))
        prev = (phase - rate / 60.0 / RATE_HZ) % 1.0
        starts = breathing & (prev < EXPIRATION_START) & (phase >= EXPIRATION_START)
        return CapnoSecond(co2 if breathing else np.zeros(len(index)), starts, etco2, rate,
                           breathing)  # fmt: skip

    return second


def breath_marks(starts: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Breath markers (DPI 5): at a breath's start, or the frame after where that frame
    carries another parameter (one parameter a frame)."""
    reserved = np.isin(row, (ROW_STATUS, ROW_ETCO2, ROW_RR, ROW_FICO2))
    marks = starts & ~reserved
    moved = np.flatnonzero(starts & reserved) + 1
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
        self._seed = seed
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
        for message in self._decoder.feed(data):
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
        return self._source(math.ceil(t - 1e-9)).breathing

    def _catch_up(self, t: float) -> None:
        """Frames (and the module's clock) up to `t`. A second is rendered whole when its
        first frame is due, so the bytes do not depend on how callers step time; a
        command takes effect from the next second (the module's latency)."""
        per_second = int(RATE_HZ)
        due = math.floor(t * RATE_HZ + 1e-6)
        while self._sent < due:
            k, first = divmod(self._sent, per_second)
            if first == 0:
                self._second = self._render(k + 1) if self.streaming else None
            end = min(due, (k + 1) * per_second)
            if self.streaming and self._second is not None:
                data, ends = self._second
                begin = int(ends[first - 1]) if first else 0
                self._out += data[begin : int(ends[end - k * per_second - 1])]
            self._sent = end

    def _status(self, t: float, breathing: bool) -> int:
        faults = self._model.device_state_at(t)
        flags = F.NONE
        if t - self._powered_t < WARMUP_S:
            flags |= F.WARM_UP
        if not {cs.Isb.BAROMETRIC_PRESSURE, cs.Isb.GAS_COMPENSATION} <= self.settings.keys():
            flags |= F.COMPENSATION_NOT_SET
        if self._zero_until is not None and t < self._zero_until:
            flags |= F.ZERO_IN_PROGRESS
        elif faults.capno_zero_required and not self._zeroed:
            flags |= F.ZERO_REQUIRED
        if faults.capno_adapter_off:
            flags |= F.CHECK_ADAPTER
        measuring = not faults.capno_adapter_off and not flags & (F.WARM_UP | F.ZERO_IN_PROGRESS)
        if breathing and measuring:
            flags |= F.BREATH_OK
        timeout = self.settings.get(cs.Isb.NO_BREATH_TIMEOUT, b"\x14")[0]
        # The module's no-breath clock runs from its last breath, or from when it began
        # measuring (the end of the warm-up): never "no breaths" the moment it is warm.
        since = self._powered_t + WARMUP_S if self._last_breath_t is None else self._last_breath_t
        quiet = t - since >= timeout
        if quiet and measuring:
            flags |= F.NO_BREATHS
        return int(flags)

    def _blocked(self, times: np.ndarray, adapter_off: bool) -> np.ndarray:
        """Samples with no CO2 reading: adapter off, warming up, zeroing."""
        blocked = (times - self._powered_t < WARMUP_S) | adapter_off
        if self._zero_until is not None:
            blocked |= times < self._zero_until
        return blocked

    def _render(self, k: int) -> tuple[bytes, np.ndarray]:
        """The frames of data second k, and where each one ends."""
        index = np.arange((k - 1) * int(RATE_HZ), k * int(RATE_HZ))
        here = self._source(k)
        faults = self._model.device_state_at(float(k))
        times = (index + 1) / RATE_HZ
        rate, etco2, breathing = here.rate_bpm, here.etco2_mmhg, here.breathing
        blocked = self._blocked(times, faults.capno_adapter_off)
        row = index % int(RATE_HZ)
        noise = np.random.default_rng([self._seed, 0xC02, k]).normal(0.0, 0.15, int(RATE_HZ))
        co2 = np.where(~blocked, here.co2_mmhg, 0.0)
        co2 = np.clip(co2 + noise, 0.0, None)
        status = self._status(float(times[0]), breathing)
        if status & F.ZERO_REQUIRED:
            self._prompted = True  # the host starts a zero when no breath is on the adapter
        starts = here.breath_starts & ~blocked
        if np.any(starts):
            self._last_breath_t = float(times[np.flatnonzero(starts)[-1]])
        ok = breathing & ~blocked  # a value, or the module's 0 for none
        nan = np.full(len(index), np.nan)
        batch = CapnoBatch.build(
            co2,
            etco2_mmhg=np.where(row == ROW_ETCO2, np.where(ok, round(etco2, 1), 0.0), nan),
            rr_bpm=np.where(row == ROW_RR, np.where(ok, round(rate), 0.0), nan),
            fico2_mmhg=np.where(row == ROW_FICO2, 0.0, nan),
            breath_detected=breath_marks(starts, row),
            status=np.full(len(index), status),
            status_frame=row == ROW_STATUS,
        )
        return self._encoder.encode_frames(batch)
