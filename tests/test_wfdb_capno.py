"""A WFDB record with a CO2 channel plays as the capnograph (a virtual Capnostat playing
the recorded capnogram): EtCO2 and rate from it, its apnea raises RR_LOW_CRITICAL."""

from __future__ import annotations

import numpy as np
import wfdb

from simulator.wfdb_source import RecordedPatient, WfdbBedside, detect_expirations
from tests.simhelp import run_bedside

FS = 125


def capnogram_record(tmp_path, apnea=(60.0, 100.0)) -> str:
    """120 s at 12 breaths/min, EtCO2 40 mmHg, no breaths in `apnea`; with a pleth."""
    t = np.arange(0, 120, 1 / FS)
    phase = (t * 12 / 60) % 1.0
    x = np.clip((phase - 0.4) / 0.6, 0, 1)
    co2 = np.where(phase < 0.4, 0.5, 40 * (1 - np.exp(-x / 0.02)) * (0.92 + 0.08 * x))
    co2[(t > apnea[0]) & (t < apnea[1])] = 0.5
    pleth = 0.5 + 0.5 * np.sin(2 * np.pi * t * 72 / 60)
    wfdb.wrsamp(
        "co2rec", fs=FS, units=["NU", "mmHg"], sig_name=["PLETH", "CO2"],
        p_signal=np.column_stack([pleth, co2]), fmt=["16", "16"], write_dir=str(tmp_path),
    )  # fmt: skip
    return str(tmp_path / "co2rec")


def test_expirations_are_found_once_per_breath(tmp_path) -> None:
    patient = RecordedPatient(capnogram_record(tmp_path))
    breaths = patient.expirations / FS
    assert 12 * 80 / 60 - 2 <= len(breaths) <= 12 * 80 / 60 + 1  # 80 s of breathing
    assert not ((breaths > 61) & (breaths < 100)).any()
    assert np.allclose(np.diff(breaths[breaths < 60]), 5.0, atol=0.05)
    assert len(detect_expirations(np.zeros(1000), FS)) == 0


def test_a_record_with_co2_plays_as_the_capnograph(tmp_path) -> None:
    bedside = WfdbBedside(capnogram_record(tmp_path))
    assert bedside.protocols["capno"] == "capnostat"
    records = run_bedside(bedside, 110)
    numerics = {r["t"]: r for r in records if r["type"] == "numerics"}
    assert numerics[40.0]["rr_source"] == "capnography"
    assert abs(numerics[40.0]["etco2"] - 40) <= 1.5 and numerics[40.0]["rr"] == 12
    # Once the breaths stop, no value, though the rate's 30 s window still holds breaths.
    assert numerics[72.0]["etco2"] is None and numerics[72.0]["rr"] is None
    onsets = [r for r in records if r["type"] == "alarm" and r["state"] == "onset"]
    apnea = [r["t"] for r in onsets if r["id"] == "RR_LOW_CRITICAL"]
    assert apnea and 85 <= apnea[0] <= 95, [(r["t"], r["id"]) for r in onsets]
