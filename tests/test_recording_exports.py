"""Exports, each read back by its own format's reader: CSV (csv), EDF+ (pyedflib, split at
gaps, annotations), WFDB (wfdb: pleth record, numerics record, event annotations)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import numpy as np
import pyedflib
import pytest

from drivers.registry import make_decoder
from monitor.cli import main
from monitor.config import PipelineConfig, build_pipeline
from monitor.recording.export import pleth_array
from monitor.recording.recorder import SessionRecorder
from monitor.recording.store import SessionReader
from monitor.sources import Chunk, SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

# wfdb's reader calls pandas in a way pandas now warns about; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

# Frames a nonin2 run's start leaves unbelieved (docs/reliability.md, "Noise").
UNCONFIRMED = make_decoder("nonin2").confirm_frames - 1

# What the rec_report scenario makes the real alarm engine raise (tests/data/rec_report.toml).
ALARM_IDS = {
    "CO2_WARMUP",  # the CO2 module warming up at the start
    "SPO2_LOW",
    "SPO2_LOW_CRITICAL",
    "NIBP_SYS_HIGH",
    "NIBP_SYS_RISE",
    "PR_HIGH",
    "OXIMETER_COMM_LOST",
    "NIBP_FAILED",
    "NIBP_NO_BASELINE",  # the baseline readings were 4 min apart, not 5
}


def _onsets(emitted) -> dict[str, float]:
    """Alarm id -> data time of its first onset, as the engine emitted it."""
    out: dict[str, float] = {}
    for r in emitted:
        if r["type"] == "alarm" and r["state"] == "onset":
            out.setdefault(r["id"], r["t"])
    return out


def _export(session, fmt: str, out) -> None:
    assert main(["export", str(session), "--format", fmt, "--out", str(out)]) == 0


def test_csv_numerics_read_back(report_session, tmp_path, capsys) -> None:
    path, emitted = report_session
    _export(path, "csv", tmp_path / "n.csv")
    assert capsys.readouterr().out.strip() == str(tmp_path / "n.csv")
    with open(tmp_path / "n.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    numerics = [r for r in emitted if r["type"] == "numerics"]
    assert len(rows) == len(numerics) == 900
    for row, record in zip(rows, numerics, strict=True):
        assert float(row["t"]) == record["t"]
        assert row["spo2"] == ("" if record["spo2"] is None else str(record["spo2"]))
        assert row["pi"] == ("" if record["pi"] is None else str(record["pi"]))
        assert row["wall"] == record["wall"]


def test_edf_read_back_by_pyedflib(report_session, tmp_path, capsys) -> None:
    path, emitted = report_session
    assert set(_onsets(emitted)) == ALARM_IDS  # the scenario did raise them all
    _export(path, "edf", tmp_path / "s.edf")
    # The oximeter falls silent at 725-740 s: EDF+C cannot hold a gap, so two files.
    parts = capsys.readouterr().out.split()
    assert parts == [str(tmp_path / "s_part1.edf"), str(tmp_path / "s_part2.edf")]
    with SessionReader(path) as reader:
        blocks = reader.wave_blocks()
    # EDF's grid (second s holds (s, s+1]), NaN where nothing was recorded: a run's first
    # frames, not believed until it confirms itself, and the silence.
    wave = pleth_array(blocks, 1 / 75, 900 * 75, 75)
    numerics = {r["t"]: r for r in emitted if r["type"] == "numerics"}
    onsets, texts, pleth, starts = [], [], [], []
    for name in parts:
        edf = pyedflib.EdfReader(name)
        try:
            labels = edf.getSignalLabels()
            assert labels[:3] == ["Pleth", "spo2", "pr"]
            assert edf.getSampleFrequency(0) == 75 and edf.getSampleFrequency(1) == 1
            assert edf.getPatientCode() == "P-0042"
            start = edf.getStartdatetime()
            starts.append(start)
            s0 = round((start - datetime(2026, 3, 2, 9, 0, 0)).total_seconds())
            assert edf.getNSamples()[0] == 75 * edf.getFileDuration()
            spo2 = edf.readSignal(1)
            for i in (1, len(spo2) // 2, len(spo2) - 1):  # the numerics record at s0 + i
                want = numerics[float(s0 + i)]["spo2"]
                assert want is not None and spo2[i] == pytest.approx(want, abs=0.01)
            part = edf.readSignal(0)
            want = wave[s0 * 75 : s0 * 75 + len(part)]
            known = np.isfinite(want)
            assert known.sum() >= len(part) - UNCONFIRMED
            np.testing.assert_allclose(part[known], want[known], atol=0.01)
            pleth.append((s0, len(part)))
            o, _, t = edf.readAnnotations()
            onsets += [s0 + x for x in o]
            texts += list(t)
        finally:
            edf.close()
    assert starts[0] == datetime(2026, 3, 2, 9, 0, 0)
    silent = np.flatnonzero(np.isnan(wave))
    silent = silent[silent >= UNCONFIRMED]  # the pipeline's mark for the silence
    assert pleth[0] == (0, silent[0] - silent[0] % 75)  # whole seconds up to the gap
    assert pleth[1][0] * 75 > silent[-1] and sum(n for _, n in pleth) + len(silent) <= len(wave)
    assert pleth[1][0] + pleth[1][1] // 75 == 900
    # Every alarm, reading and event is annotated once at its data time, the ones in
    # the gap too (OXIMETER_COMM_LOST explains the gap: it must not be lost).
    for alarm_id, t in _onsets(emitted).items():
        assert onsets[texts.index(f"ALARM {alarm_id} onset")] == pytest.approx(t)
    assert sum(text.startswith("ALARM ") for text in texts) == sum(
        r["type"] == "alarm" for r in emitted
    )
    top = max((r for r in emitted if r["type"] == "nibp"), key=lambda r: r["sys"] or 0)
    assert f"NIBP {top['sys']}/{top['dia']} ({top['map']}) ok" in texts
    assert "NIBP None/None (None) failed" in texts
    assert any(text.startswith("EVENT sign_off by=RN Smith") for text in texts)


def _record_with_gap(path, gap: tuple[float, float], seconds: float) -> None:
    """The oximeter falls silent during `gap` (its bytes never arrive: only clock ticks)."""
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    pipeline = build_pipeline(
        PipelineConfig.of(source.protocols), wall_start=datetime(2026, 1, 5, tzinfo=UTC)
    )
    recorder = SessionRecorder(path, pipeline, live=False)
    for chunk in source.chunks():
        if chunk.t > seconds:
            break
        pipeline.process(Chunk(chunk.t) if gap[0] < chunk.t <= gap[1] else chunk)
    recorder.close()


def test_edf_splits_at_a_gap(tmp_path, capsys) -> None:
    path = tmp_path / "s.vitalmon"
    _record_with_gap(path, (100.0, 110.0), 200.0)
    _export(path, "edf", tmp_path / "g.edf")
    written = capsys.readouterr().out.split()
    assert written == [str(tmp_path / "g_part1.edf"), str(tmp_path / "g_part2.edf")]
    spans = []
    for name in written:
        edf = pyedflib.EdfReader(name)
        start = edf.getStartdatetime()
        spans.append((start, edf.getFileDuration()))
        assert np.all(np.isfinite(edf.readSignal(0)))
        edf.close()
    assert spans[0] == (datetime(2026, 1, 5, 0, 0, 0), 100)
    assert spans[1] == (datetime(2026, 1, 5, 0, 1, 50), 90)


def test_wfdb_read_back_by_wfdb(report_session, tmp_path, capsys) -> None:
    import wfdb  # here, so the module's import-time pandas warnings are filtered

    path, emitted = report_session
    _export(path, "wfdb", tmp_path / "w" / "sess")
    record = wfdb.rdrecord(str(tmp_path / "w" / "sess"))
    assert record.sig_name == ["PLETH"] and record.fs == 75
    assert record.base_datetime == datetime(2026, 3, 2, 9, 0, 0)
    assert "patient P-0042" in record.comments
    with SessionReader(path) as reader:
        wave = np.concatenate([b.samples for b in reader.wave_blocks()])
    # The first believed frame is the run's UNCONFIRMED+1-th; sample k is at k/75 s.
    first = 1 + UNCONFIRMED
    assert np.all(np.isnan(record.p_signal[:first, 0]))
    np.testing.assert_allclose(record.p_signal[first : first + len(wave), 0], wave, atol=0.01)
    numerics = wfdb.rdrecord(str(tmp_path / "w" / "sessn"))
    assert numerics.fs == 1 and numerics.sig_name[:2] == ["spo2", "pr"]
    by_t = {r["t"]: r for r in emitted if r["type"] == "numerics"}
    onset = _onsets(emitted)
    for t in (1.0, onset["SPO2_LOW"], onset["PR_HIGH"], 900.0):
        second = round(t)
        assert numerics.p_signal[second, 1] == pytest.approx(by_t[t]["pr"], abs=0.01)
        assert numerics.p_signal[second, 0] == pytest.approx(by_t[t]["spo2"], abs=0.01)
    silent = [t for t, r in by_t.items() if r["spo2"] is None]
    assert silent and all(np.isnan(numerics.p_signal[round(t), 0]) for t in silent)
    notes = wfdb.rdann(str(tmp_path / "w" / "sess"), "event")
    joined = "\n".join(notes.aux_note)
    for alarm_id in ALARM_IDS:
        assert f"ALARM {alarm_id} onset" in joined
    # An annotation sits on the pleth sample of its data time: sample k is at k/75 s.
    i = notes.aux_note.index("ALARM PR_HIGH onset")
    assert notes.sample[i] == round(onset["PR_HIGH"] * 75)
    assert record.p_signal[notes.sample[i], 0] == pytest.approx(
        wave[notes.sample[i] - first], abs=0.01
    )


def test_wfdb_keeps_a_gap_as_nan(tmp_path, capsys) -> None:
    import wfdb

    path = tmp_path / "s.vitalmon"
    _record_with_gap(path, (20.0, 30.0), 40.0)
    _export(path, "wfdb", tmp_path / "gap")
    pleth = wfdb.rdrecord(str(tmp_path / "gap")).p_signal[:, 0]
    assert np.all(np.isnan(pleth[21 * 75 : 30 * 75]))
    first = 1 + UNCONFIRMED
    assert np.all(np.isfinite(pleth[first : 20 * 75])) and np.all(np.isfinite(pleth[31 * 75 :]))


def test_a_session_with_no_data_exports_nothing_and_says_so(tmp_path, capsys) -> None:
    from monitor.recording.store import SessionWriter

    path = tmp_path / "empty.vitalmon"
    meta = {"wall_start": "2026-01-01T00:00:00+00:00", "protocols": {"oximeter": "nonin2"}}
    SessionWriter(path, meta).close()
    for fmt, out in (("edf", tmp_path / "e.edf"), ("wfdb", tmp_path / "w" / "e")):
        assert main(["export", str(path), "--format", fmt, "--out", str(out)]) == 1
        assert "holds no data" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.vitalmon"]
    assert main(["report", str(path), "--out", str(tmp_path / "r.pdf")]) == 0
