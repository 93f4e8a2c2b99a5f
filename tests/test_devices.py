"""The virtual oximeter honours the scenario's faults, in any oximeter protocol."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from drivers import registry
from drivers.base import LineSettings
from drivers.registry import make_decoder
from drivers.types import OximeterBatch, OximeterFlag
from simulator.devices import PLETH_RANGE, SimulatedBedside
from simulator.scenario import _parse


class RecordingEncoder:
    """An oximeter encoder that keeps what it was given (stands in for any protocol)."""

    sample_rate_hz = 60.0
    batches: ClassVar[list[OximeterBatch]] = []

    def encode(self, batch: OximeterBatch) -> bytes:
        RecordingEncoder.batches.append(batch)
        return b"x" * len(batch)


def bedside(fault: str, protocol: str = "nonin2") -> SimulatedBedside:
    text = (
        f'name = "f"\n[devices]\noximeter = "{protocol}"\n'
        f'[[timeline]]\nat_s = 5\noximeter_fault = "{fault}"\n'
    )
    return SimulatedBedside(_parse(text, "f.toml"), seed=0)


def decoded(b: SimulatedBedside, seconds: int) -> list[OximeterBatch]:
    decoder = make_decoder("nonin2")
    return [decoder.feed(b.advance(float(t))["oximeter"]) for t in range(1, seconds + 1)]


def test_probe_off_holds_display_values_ten_seconds_then_sends_none() -> None:
    out = decoded(bedside("probe_off"), 30)
    assert not out[3].flags[-1] & OximeterFlag.SENSOR_OFF
    held, gone = out[10], out[20]  # seconds 11 and 21: 6 s and 16 s into the fault
    assert held.flags[-1] & OximeterFlag.SENSOR_OFF and held.spo2_percent[-1] > 90
    assert np.isnan(gone.spo2_percent[-1]) and np.isnan(gone.pulse_rate_bpm[-1])
    assert np.ptp(gone.pleth) == 0


def test_no_signal_sends_out_of_track_and_no_values() -> None:
    out = decoded(bedside("no_signal"), 12)
    last = out[-1]
    assert last.flags[-1] & OximeterFlag.OUT_OF_TRACK and last.flags[-1] & OximeterFlag.SENSOR_ALARM
    assert np.isnan(last.spo2_percent[-1])


def test_artifact_flags_and_shakes_the_pleth() -> None:
    out = decoded(bedside("artifact"), 12)
    assert out[-1].flags[-1] & OximeterFlag.ARTIFACT
    assert not out[2].flags[-1] & OximeterFlag.ARTIFACT
    assert out[-1].spo2_percent[-1] > 90  # values still come


def test_any_registered_oximeter_protocol_is_spoken(monkeypatch: pytest.MonkeyPatch) -> None:
    info = registry.ProtocolInfo(
        "testox", "oximeter", __name__, "RecordingEncoder", "RecordingEncoder",
        LineSettings(), "test",
    )  # fmt: skip
    monkeypatch.setitem(registry.PROTOCOLS, "testox", info)
    RecordingEncoder.batches = []
    b = bedside("none", "testox")
    assert b.protocols["oximeter"] == "testox"
    sent = b.advance(3.0)["oximeter"]
    assert len(sent) == 180  # 60 frames a second, the protocol's own rate
    pleth = np.concatenate([x.pleth for x in RecordingEncoder.batches])
    low, high = PLETH_RANGE.get("testox", (0.0, 255.0))
    assert low <= pleth.min() and pleth.max() <= high and np.ptp(pleth) > 30
    assert np.all(np.isfinite(np.concatenate([x.spo2_percent for x in RecordingEncoder.batches])))
