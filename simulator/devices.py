"""Virtual devices: the patient model rendered as real protocol bytes."""

from __future__ import annotations

import numpy as np

from drivers.registry import get_protocol, make_encoder
from drivers.types import OximeterBatch, OximeterFlag
from simulator.nibp_device import VirtualNibpModule
from simulator.physiology import PatientModel
from simulator.scenario import Scenario
from simulator.waveforms import PlethSynth

# Full-scale pleth value of each oximeter protocol (device units).
PLETH_FULL_SCALE = {"nonin2": 255.0}
BEAT_FLAG_FRAMES = 12  # Nonin holds its perfusion colour 12 frames per pulse


class VirtualOximeter:
    """Produces the frames due up to a data time, in the scenario's oximeter protocol."""

    def __init__(self, model: PatientModel, protocol: str) -> None:
        self.protocol = get_protocol(protocol).name
        self._model = model
        self._encoder = make_encoder(self.protocol)
        self.sample_rate_hz: float = self._encoder.sample_rate_hz
        self._synth = PlethSynth(self.sample_rate_hz)
        self._frames_sent = 0
        self._full_scale = PLETH_FULL_SCALE.get(self.protocol, 255.0)

    def frames_due(self, t_s: float) -> int:
        return int(np.floor(t_s * self.sample_rate_hz + 1e-9)) - self._frames_sent

    def generate_until(self, t_s: float) -> bytes:
        """Frames due by `t_s`; the same bytes whatever steps the caller advances by.

        Numerics are taken once per whole second of data time, so a run stepped
        at 40 ms and one stepped at 1 s send identical bytes.
        """
        n = self.frames_due(t_s)
        if n <= 0:
            return b""
        first = self._frames_sent
        frame_times = (first + 1 + np.arange(n)) / self.sample_rate_hz
        seconds = np.ceil(frame_times - 1e-9).astype(np.int64)
        out = []
        for second in np.unique(seconds):
            count = int(np.count_nonzero(seconds == second))
            vitals = self._model.vitals_at(float(second))
            wave = self._synth.render(count, vitals.hr_bpm, vitals.pi_percent, vitals.rr_bpm)
            batch = OximeterBatch.constant(
                self.sample_rate_hz,
                np.round(wave * self._full_scale),
                round(vitals.spo2_percent),
                round(vitals.hr_bpm),
                round(vitals.pi_percent, 1),
                OximeterFlag.NONE,
            )
            out.append(self._encoder.encode(batch))
        self._frames_sent += n
        return b"".join(out)


class SimulatedBedside:
    """Every virtual device of one scenario, advanced together in data time."""

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        self.scenario = scenario
        self.model = PatientModel(scenario, seed)
        self.oximeter = VirtualOximeter(self.model, scenario.oximeter_protocol)
        self.nibp = VirtualNibpModule(self.model, seed)
        # channel -> protocol name of every device, as the monitor's pipeline wants them
        self.protocols = {"oximeter": self.oximeter.protocol, "nibp": self.nibp.protocol}

    def advance(self, t_s: float) -> dict[str, bytes]:
        """Bytes each device sends between the previous call and `t_s`, by channel."""
        return {
            "oximeter": self.oximeter.generate_until(t_s),
            "nibp": self.nibp.generate_until(t_s),
        }

    def receive(self, channel: str, data: bytes, t_s: float) -> None:
        """Bytes the monitor wrote to a device at data time `t_s` (two-way devices only)."""
        if channel == "nibp":
            self.nibp.receive(data, t_s)
