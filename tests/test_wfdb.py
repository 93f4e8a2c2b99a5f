"""PhysioNet records played as devices: pulse rate vs the ECG's QRS detector, ABP beats
as the NIBP module's values, RESP as a respiration rate."""

from __future__ import annotations

import itertools
import json
import subprocess

import numpy as np
import pytest
import wfdb
from wfdb import processing

from monitor.cli import main
from simulator.wfdb_source import ABP_WINDOW_S, RecordedPatient, WfdbBedside
from tests.conftest import DATA, json_lines, run_vitalmon, vitalmon_cmd
from tests.simhelp import run_bedside

A103L = str(DATA / "physionet" / "a103l")
ABP_RECORD = str(DATA / "physionet" / "03700181")


def test_a103l_pulse_rate_shown_matches_the_ecg_qrs_heart_rate() -> None:
    record = wfdb.rdrecord(A103L)
    qrs = processing.xqrs_detect(record.p_signal[:, 0], fs=record.fs, verbose=False)
    ecg_hr = 60.0 / np.median(np.diff(qrs) / record.fs)
    records = run_bedside(WfdbBedside(A103L), 300)
    shown = [r["pr"] for r in records if r["type"] == "numerics" and r["pr"] is not None]
    assert len(shown) > 280
    assert abs(np.median(shown) - ecg_hr) <= 5
    # And second by second, once the detector has its window, nearly always within 5 bpm.
    assert np.mean(np.abs(np.array(shown[10:]) - ecg_hr) <= 5) > 0.9


def test_03700181_abp_beats_become_the_values_the_nibp_module_reads() -> None:
    patient = RecordedPatient(ABP_RECORD)
    record = wfdb.rdrecord(ABP_RECORD)
    abp = record.p_signal[:, record.sig_name.index("ABP")]
    # Independent beats: the ECG's QRS complexes split the pressure trace into beats.
    qrs = processing.xqrs_detect(record.p_signal[:, 0], fs=record.fs, verbose=False)
    spans = [(a, b) for a, b in itertools.pairwise(qrs) if b - a < record.fs * 1.5]
    beat_t = np.array([b / record.fs for _, b in spans])
    beat_sys = np.array([abp[a:b].max() for a, b in spans])
    beat_dia = np.array([abp[a:b].min() for a, b in spans])
    checked = 0
    for t in range(30, 590, 20):
        inside = (beat_t > t - ABP_WINDOW_S) & (beat_t <= t)
        if inside.sum() < 5:
            continue
        v = patient.vitals_at(float(t))
        assert v.sys_mmhg == pytest.approx(np.median(beat_sys[inside]), abs=3)
        assert v.dia_mmhg == pytest.approx(np.median(beat_dia[inside]), abs=3)
        assert v.dia_mmhg < v.map_mmhg < v.sys_mmhg
        checked += 1
    assert checked >= 20
    assert 40 < np.nanmedian(patient.sys) < 50 and 22 < np.nanmedian(patient.dia) < 32


def test_03700181_resp_gives_a_respiration_rate_on_the_resp_channel() -> None:
    bedside = WfdbBedside(ABP_RECORD)
    assert bedside.protocols == {"oximeter": "nonin2", "resp": "simresp"}
    records = [r for r in run_bedside(bedside, 120) if r["type"] == "numerics"]
    rates = [r["rr"] for r in records[40:]]
    assert all(r is not None for r in rates)
    assert 10 <= np.median(rates) <= 30
    assert all(r["rr_state"] == "valid" for r in records[40:])
    assert max(r["apnea_s"] for r in records[40:]) < 10


def test_cli_plays_a_record_and_rejects_a_missing_one(capsys) -> None:
    result = run_vitalmon(
        "run", "--sim", f"wfdb:{A103L}", "--headless", "--duration", "30", "--speed", "max"
    )
    assert result.returncode == 0, result.stderr
    last = json_lines(result.stdout)[-1]
    assert 120 <= last["pr"] <= 134 and last["rr"] is None
    assert main(["run", "--sim", "wfdb:/no/such/record", "--headless", "--speed", "max"]) == 1
    err = capsys.readouterr().err
    assert "cannot read WFDB record" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_sim_wfdb_pty_announces_its_ports() -> None:
    proc = subprocess.Popen(
        vitalmon_cmd("sim", "--wfdb", ABP_RECORD, "--pty"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        ports = json.loads(line)
        assert ports["oximeter"]["port"].startswith("/dev/")
        assert ports["resp"]["protocol"] == "simresp"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
