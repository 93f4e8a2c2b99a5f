"""Virtual devices: a patient model rendered as real protocol bytes.

Every device renders whole data seconds: the frames of second k (times in
(k-1, k]) take that second's numerics, phases and faults from the model (a
fault set at `at_s = 30` silences the frames after 29 s), and a frame's
waveform value depends only on its time. So a run stepped at 40 ms and one
stepped at 1 s, or at any other steps, send identical bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from drivers.registry import get_protocol, oximeter_encoder, resp_encoder
from drivers.types import OximeterBatch, OximeterFlag, RespBatch, RespFlag
from simulator.nibp_device import VirtualNibpModule
from simulator.physiology import DeviceState, PatientModel, VitalSigns
from simulator.scenario import NurseAction, Scenario
from simulator.waveforms import (
    NoiseTable,
    just_started,
    motion_artifact,
    pleth_samples,
    resp_samples,
)

# Pleth range of each oximeter protocol in device units (low, high); others: 0..255.
PLETH_RANGE: dict[str, tuple[float, float]] = {
    "nonin2": (0.0, 255.0),
    "nonin7": (0.0, 65535.0),
    "contec": (0.0, 127.0),
    "contec7": (0.0, 127.0),
    "berry": (1.0, 100.0),  # 0 means "invalid" on the BerryMed
}
DEFAULT_PLETH_RANGE = (0.0, 255.0)
# How long the display values hold after the finger comes out (Nonin "-D" values: 10 s).
DISPLAY_HOLD_S: dict[str, float] = {"nonin2": 10.0, "nonin7": 10.0, "nonin8": 10.0}
BEAT_FLAG_FRAMES = 12  # Nonin holds its perfusion colour 12 frames per pulse
LOW_PERFUSION_PI = 0.3
MARGINAL_PERFUSION_PI = 1.0
PROBE_OFF_FLAGS = OximeterFlag.SENSOR_OFF | OximeterFlag.SENSOR_ALARM
NO_SIGNAL_FLAGS = (
    OximeterFlag.OUT_OF_TRACK
    | OximeterFlag.SENSOR_ALARM
    | OximeterFlag.SEARCHING
    | OximeterFlag.NO_SIGNAL
)
NOISE_OXIMETER, NOISE_RESP = 1, 2
BREATH_FLAG = int(RespFlag.BREATH)
OXIMETER_BLOCK_S = 64  # seconds of oximeter frames encoded at a time (fixed-size frames)


class Model(Protocol):
    """What a virtual device reads: the patient model, or a recorded patient (WFDB)."""

    def vitals_at(self, t_s: float) -> VitalSigns: ...

    def device_state_at(self, t_s: float) -> DeviceState: ...


class VirtualDevice(Protocol):
    protocol: str

    def generate_until(self, t_s: float) -> bytes: ...

    def receive(self, data: bytes, t: float) -> None:
        """Bytes the monitor wrote to the device at data time `t` (a one-way device
        hears nothing)."""


def frames_due(t_s: float, rate_hz: float) -> int:
    """How many frames a device at `rate_hz` has sent by data time `t_s` (frame i at (i+1)/rate)."""
    return math.floor(t_s * rate_hz + 1e-9)


def frames_by_second(sent: int, t_s: float, rate_hz: float) -> list[tuple[int, np.ndarray]]:
    """Indices of the frames due by `t_s` after `sent` frames, grouped by data second k:
    frame i is at time (i + 1) / rate, which lies in (k - 1, k]."""
    due = frames_due(t_s, rate_hz)
    if due <= sent:
        return []
    first_k = math.ceil((sent + 1) / rate_hz - 1e-9)
    last_k = math.ceil(due / rate_hz - 1e-9)
    index = np.arange(sent, due, dtype=np.int64)
    if first_k == last_k:  # the usual case: all in one second
        return [(first_k, index)]
    seconds = np.ceil((index + 1) / rate_hz - 1e-9).astype(np.int64)
    bounds = np.flatnonzero(np.diff(seconds)) + 1
    return [
        (int(part_s[0]), part)
        for part_s, part in zip(np.split(seconds, bounds), np.split(index, bounds), strict=True)
    ]


# A pleth source renders frames: (data second of each frame, frame index, frame time,
# artifact on) -> (values 0..1, beat-start mask); many seconds at once.
PlethSource = Callable[
    [np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]
]


def synth_pleth(model: PatientModel, rate_hz: float, seed: int) -> PlethSource:
    """Pleth from the model's phases: beats follow its HR, amplitude its perfusion."""
    noise = NoiseTable(seed, NOISE_OXIMETER)

    def render(
        seconds: np.ndarray, index: np.ndarray, times: np.ndarray, artifact: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        first, last = int(seconds[0]), int(seconds[-1])
        states = [model.second(k) for k in range(first, last + 1)]
        motion = None
        if artifact.any():
            motion = np.where(artifact, motion_artifact(times, index, noise), 0.0)
        wave, at = pleth_samples(states, seconds, times, noise.at(index), motion)
        return wave, just_started(at.beat, at.hr_bpm, rate_hz, BEAT_FLAG_FRAMES)

    return render


class VirtualOximeter:
    """Frames due up to a data time, in any oximeter protocol of the registry.

    Honours the scenario's oximeter faults as the real device shows them:
    `probe_off` sets SENSOR_OFF (+ sensor alarm), holds the display values for
    the protocol's hold time, then sends "no value", pleth flat; `no_signal`
    sends out-of-track/searching with no values; `artifact` sets the artifact
    flag and shakes the pleth; `silent` sends no bytes at all.
    """

    def __init__(
        self,
        model: Model,
        protocol: str,
        pleth: PlethSource | None = None,
        seed: int = 0,
    ) -> None:
        info = get_protocol(protocol)
        if info.kind != "oximeter":
            raise ValueError(f"'{info.name}' is not an oximeter protocol")
        self.protocol = info.name
        self._model = model
        self._encoder = oximeter_encoder(self.protocol)
        self.sample_rate_hz: float = float(self._encoder.sample_rate_hz)
        # A synthetic patient may be rendered ahead; a recorded one only as it plays.
        ahead = pleth is None
        if pleth is None:
            if not isinstance(model, PatientModel):
                raise ValueError("a recorded patient must bring its own pleth source")
            pleth = synth_pleth(model, self.sample_rate_hz, seed)
        self._pleth = pleth
        self._frames_sent = 0
        self._low, self._high = PLETH_RANGE.get(self.protocol, DEFAULT_PLETH_RANGE)
        self._hold_s = DISPLAY_HOLD_S.get(self.protocol, 0.0)
        self._last_good: tuple[float | None, float | None, float | None] | None = None
        self._probe_off_since: int | None = None
        self._frame_len = fixed_frame_len(self.protocol, self.sample_rate_hz) if ahead else None
        self._ahead: dict[int, bytes] = {}  # whole seconds encoded ahead, by second

    def receive(self, data: bytes, t: float) -> None:
        """An oximeter that only streams: what the monitor writes goes nowhere."""

    def generate_until(self, t_s: float) -> bytes:
        whole = self._whole_second(t_s)
        if whole is not None:  # the usual step: one data second, rendered ahead
            if whole not in self._ahead:
                self._encode_ahead(whole)
            self._frames_sent = frames_due(t_s, self.sample_rate_hz)
            return self._ahead.pop(whole)
        out = []
        for k, index in frames_by_second(self._frames_sent, t_s, self.sample_rate_hz):
            data = self._frames(k, index)
            if data:
                out.append(data)
        self._frames_sent = max(self._frames_sent, frames_due(t_s, self.sample_rate_hz))
        return b"".join(out)

    def _frames(self, k: int, index: np.ndarray) -> bytes:
        """Frames `index` of second k. Protocols with fixed-size frames are encoded
        OXIMETER_BLOCK_S whole seconds at a time, in order (one encoder call instead of
        one a second), and cut; a second's bytes do not depend on how it is cut."""
        if self._frame_len is None:
            return self._second(k, index)
        if k not in self._ahead:
            self._encode_ahead(k)
        data = self._ahead[k]
        first = int(index[0]) - self._second_start(k)
        if first + len(index) == self._frames_in(k):
            self._ahead.pop(k)  # the second's last frames: done with it
        return data[first * self._frame_len : (first + len(index)) * self._frame_len]

    def _whole_second(self, t_s: float) -> int | None:
        """The data second k if the frames due by `t_s` are exactly all of second k's,
        where seconds are encoded ahead (else None: cut them out of their seconds)."""
        if self._frame_len is None:
            return None
        rate = self.sample_rate_hz
        k = math.ceil((self._frames_sent + 1) / rate - 1e-9)  # the next frame's second
        if self._frames_sent != self._second_start(k):
            return None
        return k if frames_due(t_s, rate) == frames_due(float(k), rate) else None

    def _second_start(self, k: int) -> int:
        """Index of second k's first frame (frame i is at (i + 1) / rate, in (k - 1, k])."""
        return frames_due(k - 1.0, self.sample_rate_hz)

    def _frames_in(self, k: int) -> int:
        return frames_due(float(k), self.sample_rate_hz) - self._second_start(k)

    def _encode_ahead(self, k0: int) -> None:
        """Seconds k0 on, each rendered once and in order (the fault state follows them)."""
        seconds = range(k0, k0 + OXIMETER_BLOCK_S)
        indexes = [self._second_start(k) + np.arange(self._frames_in(k)) for k in seconds]
        batch, counts = self._render(list(seconds), indexes)
        data = self._encoder.encode(batch) if len(batch) else b""
        frame_len = self._frame_len or 0
        at = 0
        for k, count in zip(seconds, counts, strict=True):
            self._ahead[k] = data[at : at + count * frame_len]
            at += count * frame_len

    def _second(self, k: int, index: np.ndarray) -> bytes:
        batch, _ = self._render([k], [index])
        return self._encoder.encode(batch) if len(batch) else b""

    def _render(
        self, seconds: list[int], indexes: list[np.ndarray]
    ) -> tuple[OximeterBatch, list[int]]:
        """Frames `indexes[i]` of each data second `seconds[i]`, in one batch, and how
        many frames each second has in it (0: the device is silent then)."""
        plans = [self._plan(k) for k in seconds]
        both = list(zip(seconds, indexes, plans, strict=True))
        counts = [0 if plan is None else len(index) for _, index, plan in both]
        live = [(k, index, plan) for k, index, plan in both if plan is not None]
        if not live:
            return OximeterBatch.empty(self.sample_rate_hz), counts
        per = [len(index) for _, index, _ in live]

        def each(values: list) -> np.ndarray:
            return np.repeat(np.asarray(values), per)

        index = np.concatenate([index for _, index, _ in live])
        times = (index + 1) / self.sample_rate_hz
        faults = [plan.fault for _, _, plan in live]
        artifact = each([fault == "artifact" for fault in faults])
        wave, beat = self._pleth(each([k for k, _, _ in live]), index, times, artifact)
        off = each([fault == "probe_off" for fault in faults])
        searching = each([fault == "no_signal" for fault in faults])
        wave = np.where(off, 0.0, np.where(searching, 0.5 + (wave - 0.5) * 0.05, wave))
        beat = beat & ~off & ~searching

        def column(name: str) -> np.ndarray:
            values = [getattr(plan, name) for _, _, plan in live]
            return each([np.nan if v is None else v for v in values]).astype(np.float32)

        flags = each([plan.flags for _, _, plan in live]).astype(np.uint32)
        flags[beat] |= each([plan.perfusion for _, _, plan in live]).astype(np.uint32)[beat]
        pleth = np.round(self._low + wave * (self._high - self._low)).astype(np.float32)
        batch = OximeterBatch(self.sample_rate_hz, pleth, column("spo2"), column("pr"),
                              column("pi"), flags)  # fmt: skip
        return batch, counts

    def _plan(self, k: int) -> _SecondPlan | None:
        """What the device shows in data second k (None: it is silent)."""
        fault = self._model.device_state_at(float(k)).oximeter_fault
        if fault != "probe_off":
            self._probe_off_since = None
        if fault == "silent":
            return None
        vitals = self._model.vitals_at(float(k))
        spo2, pr = _whole(vitals.spo2_percent), _whole(vitals.hr_bpm)
        pi = None if math.isnan(vitals.pi_percent) else round(vitals.pi_percent, 1)
        flags = OximeterFlag.NONE
        if fault == "probe_off":
            if self._probe_off_since is None:
                self._probe_off_since = k
            last = self._last_good
            held = k - self._probe_off_since < self._hold_s and last is not None
            spo2, pr, pi = last if held and last is not None else (None, None, None)
            flags = PROBE_OFF_FLAGS
        elif fault == "no_signal":
            spo2 = pr = pi = None
            flags = NO_SIGNAL_FLAGS
        else:
            self._last_good = (spo2, pr, pi)
            if fault == "artifact":
                flags = OximeterFlag.ARTIFACT
        perfusion = OximeterFlag.PULSE_BEAT
        if vitals.pi_percent < LOW_PERFUSION_PI:
            perfusion = OximeterFlag.LOW_PERFUSION
        elif vitals.pi_percent < MARGINAL_PERFUSION_PI:
            perfusion = OximeterFlag.MARGINAL_PERFUSION
        return _SecondPlan(fault, spo2, pr, pi, int(flags), int(perfusion))


@dataclass(frozen=True, slots=True)
class _SecondPlan:
    """One data second of a virtual oximeter: its fault, the numerics it shows, its flags
    and the perfusion flag its beats carry."""

    fault: str
    spo2: float | None
    pr: float | None
    pi: float | None
    flags: int
    perfusion: int


def fixed_frame_len(protocol: str, rate_hz: float) -> int | None:
    """Bytes per frame where every frame of `protocol` has the same size (None: not so),
    found by encoding 1 and a second's worth of rows with fresh encoders."""
    one = oximeter_encoder(protocol).encode(OximeterBatch.constant(rate_hz, [0.5], 97, 70, 5.0))
    n = max(2, round(rate_hz))
    rows = OximeterBatch.constant(rate_hz, [0.5] * n, 97, 70, 5.0)
    many = oximeter_encoder(protocol).encode(rows)
    return len(one) if one and len(many) == n * len(one) else None


def _whole(value: float) -> float | None:
    """A device value as the device sends it: whole units, None for no value (NaN)."""
    return None if math.isnan(value) else float(round(value))


# A resp source renders frames of any seconds: (wave -1..1, breath-start mask, rr per frame
# with NaN for no value), given each frame's data second, index and time.
RespSource = Callable[
    [np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]
]
RESP_BLOCK_S = 64  # respiration is rendered and encoded this many seconds at a time


def synth_resp(model: PatientModel, rate_hz: float, seed: int) -> RespSource:
    noise = NoiseTable(seed, NOISE_RESP)

    def render(
        seconds: np.ndarray, index: np.ndarray, times: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        states = [model.second(k) for k in range(int(seconds[0]), int(seconds[-1]) + 1)]
        wave, resp, rate = resp_samples(states, seconds, times, noise.at(index))
        breath = ((resp % 1.0) < rate / 60.0 / rate_hz) & (rate > 0)
        rr = np.array([s.vitals.rr_bpm for s in states])[seconds - states[0].k]
        return wave, breath, rr

    return render


class VirtualRespSensor:
    """The respiration source (`simresp`): waveform, breath marks, rate, time since a breath.

    Rendered and encoded a block of `RESP_BLOCK_S` seconds at a time (blocks at fixed
    multiples, so the bytes stay a pure function of time) and handed out frame by
    frame: respiration has no faults to follow, and a block costs little more than a second.
    """

    def __init__(
        self, model: Model, protocol: str = "simresp", resp: RespSource | None = None, seed: int = 0
    ) -> None:
        info = get_protocol(protocol)
        if info.kind != "resp":
            raise ValueError(f"'{info.name}' is not a respiration protocol")
        self.protocol = info.name
        self._model = model
        self._encoder = resp_encoder(self.protocol)
        self.sample_rate_hz: float = float(self._encoder.sample_rate_hz)
        if resp is None:
            if not isinstance(model, PatientModel):
                raise ValueError("a recorded patient must bring its own respiration source")
            resp = synth_resp(model, self.sample_rate_hz, seed)
        self._resp = resp
        self._frames_sent = 0
        self._last_breath_t: float | None = None
        self._block_frames = round(RESP_BLOCK_S * self.sample_rate_hz)
        self._block_index = -1
        self._block = b""
        self._frame_len = 0

    def receive(self, data: bytes, t: float) -> None:
        """A sensor that only streams: what the monitor writes goes nowhere."""

    def generate_until(self, t_s: float) -> bytes:
        due = frames_due(t_s, self.sample_rate_hz)
        out = []
        while self._frames_sent < due:
            block = self._frames_sent // self._block_frames
            if block != self._block_index:
                self._render_block(block)
            first = self._frames_sent - block * self._block_frames
            last = min(due - block * self._block_frames, self._block_frames)
            start = block * self._block_frames
            out.append(self._audible(self._block, start, first, last))
            self._frames_sent = start + last
        return b"".join(out)

    def _audible(self, block: bytes, start: int, first: int, last: int) -> bytes:
        """Frames `first`..`last` of the block at frame `start`, less those of the seconds
        in which the scenario has the sensor silent (`resp_silent`)."""
        size = self._frame_len
        if last <= first:
            return b""
        # The frames' seconds run in order: the first frame's to the last's.
        k_first, k_last = (
            math.ceil((start + i + 1) / self.sample_rate_hz - 1e-9) for i in (first, last - 1)
        )
        silent = [
            k
            for k in range(k_first, k_last + 1)
            if self._model.device_state_at(float(k)).resp_silent
        ]
        if not silent:
            return block[first * size : last * size]
        index = np.arange(start + first, start + last)
        seconds = np.ceil((index + 1) / self.sample_rate_hz - 1e-9).astype(np.int64)
        keep = np.flatnonzero(~np.isin(seconds, silent)) + first
        return b"".join(block[i * size : (i + 1) * size] for i in keep.tolist())

    def _render_block(self, block: int) -> None:
        n = self._block_frames
        index = np.arange(block * n, (block + 1) * n, dtype=np.int64)
        times = (index + 1) / self.sample_rate_hz
        seconds = np.ceil(times - 1e-9).astype(np.int64)
        wave, breath, rr = self._resp(seconds, index, times)
        # Seconds since the last breath began, at each sample (NaN until the first breath).
        before = np.nan if self._last_breath_t is None else self._last_breath_t
        marks = np.where(breath, times, np.nan)
        last = np.fmax.accumulate(np.concatenate(([before], marks)))[1:]
        if breath.any():
            self._last_breath_t = float(times[breath][-1])
        batch = RespBatch(
            self.sample_rate_hz,
            wave.astype(np.float32),
            np.round(rr).astype(np.float32),
            (times - last).astype(np.float32),
            breath.astype(np.uint8) * np.uint8(BREATH_FLAG),
        )
        self._block = self._encoder.encode(batch)
        self._frame_len, rest = divmod(len(self._block), n)
        if rest:
            raise ValueError(f"protocol '{self.protocol}' does not have fixed-size frames")
        self._block_index = block


class Bedside:
    """Every virtual device of one patient, advanced together in data time."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.devices: dict[str, VirtualDevice] = {}

    @property
    def protocols(self) -> dict[str, str]:
        """channel -> protocol name, for the pipeline."""
        return {channel: device.protocol for channel, device in self.devices.items()}

    @property
    def oximeter(self) -> VirtualOximeter:
        device = self.devices["oximeter"]
        if not isinstance(device, VirtualOximeter):
            raise TypeError(f"the oximeter channel holds a {type(device).__name__}")
        return device

    def nurse_actions(self) -> tuple[NurseAction, ...]:
        """The scripted nurse actions of this patient's story (none for a real record)."""
        return ()

    @property
    def nibp(self) -> VirtualNibpModule:
        device = self.devices["nibp"]
        if not isinstance(device, VirtualNibpModule):
            raise TypeError(f"the nibp channel holds a {type(device).__name__}")
        return device

    def advance(self, t_s: float) -> dict[str, bytes]:
        """Bytes each device sends between the previous call and `t_s`, by channel."""
        return {channel: device.generate_until(t_s) for channel, device in self.devices.items()}

    def takes_commands(self, channel: str) -> bool:
        """Does the device on `channel` answer what the monitor writes to it? (Every
        device hears it; only the NIBP and CO2 modules answer.)"""
        from simulator.capno_device import VirtualCapnostat

        return isinstance(self.devices.get(channel), VirtualNibpModule | VirtualCapnostat)

    def prompted(self, channel: str) -> bool:
        """May the bytes the device on `channel` just sent make the monitor write to it?
        A command/response device's always may; a streaming CO2 module's only where they
        held more than its stream (its own `take_prompted`)."""
        from simulator.capno_device import VirtualCapnostat

        device = self.devices.get(channel)
        return device.take_prompted() if isinstance(device, VirtualCapnostat) else True

    def receive(self, channel: str, data: bytes, t_s: float) -> None:
        """Bytes the monitor wrote to a device at data time `t_s` (two-way devices answer)."""
        device = self.devices.get(channel)
        if device is not None:
            device.receive(data, t_s)


class SimulatedBedside(Bedside):
    """A scenario's patient model and its virtual devices."""

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        model = PatientModel(scenario, seed)
        super().__init__(model)
        self.scenario = scenario
        self.devices["oximeter"] = VirtualOximeter(model, scenario.oximeter_protocol, seed=seed)
        if scenario.nibp_protocol:
            self.devices["nibp"] = VirtualNibpModule(model, seed)
        if scenario.resp_protocol:
            self.devices["resp"] = VirtualRespSensor(model, scenario.resp_protocol, seed=seed)
        if scenario.capno_protocol:
            from simulator.capno_device import VirtualCapnostat

            self.devices["capno"] = VirtualCapnostat(model, seed)

    def nurse_actions(self) -> tuple[NurseAction, ...]:
        return tuple(self.scenario.actions)
