"""A capnography session on paper and in files: CSV, EDF+ and WFDB numerics carry EtCO2
and FiCO2, the recording keeps the capnogram as its own signal, the report and the
trend window show EtCO2."""

from __future__ import annotations

import csv
import io

import pytest

from monitor.present.trend_view import limit_lines
from monitor.recording.report import LABELS, build_story
from monitor.recording.store import SessionReader
from monitor.recording.summary import summarize
from tests.conftest import run_vitalmon
from tests.gui_helpers import Bedside


def test_csv_carries_etco2_and_fico2(capno_session) -> None:
    out = run_vitalmon("export", str(capno_session), "--format", "csv", "--out", "-")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {"etco2", "fico2", "rr"} <= set(rows[0])
    late = [float(r["etco2"]) for r in rows[-20:] if r["etco2"]]
    assert late and min(late) > 50


@pytest.mark.parametrize("fmt", ["edf", "wfdb"])
def test_edf_and_wfdb_numerics_carry_etco2(capno_session, tmp_path, fmt: str) -> None:
    out = tmp_path / ("s.edf" if fmt == "edf" else "rec")
    result = run_vitalmon("export", str(capno_session), "--format", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr
    if fmt == "edf":
        import pyedflib

        [edf] = sorted(tmp_path.glob("*.edf"))
        with pyedflib.EdfReader(str(edf)) as reader:
            labels = reader.getSignalLabels()
            dims = [reader.getPhysicalDimension(i) for i in range(reader.signals_in_file)]
        assert "etco2" in labels and dims[labels.index("etco2")] == "mmHg"
    else:
        import wfdb

        record = wfdb.rdheader(str(tmp_path / "recn"))
        assert "etco2" in record.sig_name and "fico2" in record.sig_name


def test_the_recording_keeps_the_capnogram_as_its_own_signal(capno_session) -> None:
    with SessionReader(capno_session) as reader:
        co2 = reader.wave_blocks("capno", "co2")
        mislabelled = reader.wave_blocks("capno", "resp")
    assert co2 and not mislabelled
    samples = sum(len(b.samples) for b in co2)
    assert 190 * 100 <= samples <= 200 * 100  # 100 Hz for the whole session
    assert max(float(b.samples.max()) for b in co2) > 50  # mmHg: the late EtCO2


def test_report_has_an_etco2_trend(capno_session, tmp_path) -> None:
    with SessionReader(capno_session) as reader:
        summary = summarize(reader)
    assert "etco2" in summary.numeric_keys and "fico2" in summary.numeric_keys
    story = build_story(summary, capno_session)
    titles = [str(getattr(part, "text", "")) for f in story for part in getattr(f, "_content", [])]
    assert f"<b>{LABELS['etco2']}</b>" in titles and f"<b>{LABELS['fico2']}</b>" in titles
    # The EtCO2 limits on its trend and in the time-beyond table, as for the other values:
    # the late EtCO2 is above 50 mmHg, never below 25.
    uses = {use.rule.alarm_id: use for use in summary.limits}
    assert uses["ETCO2_HIGH"].of > 100 and uses["ETCO2_HIGH"].beyond > 10
    assert uses["ETCO2_LOW"].beyond == 0 and uses["FICO2_HIGH"].beyond == 0
    pdf = tmp_path / "r.pdf"
    result = run_vitalmon("report", str(capno_session), "--out", str(pdf))
    assert result.returncode == 0, result.stderr
    assert pdf.stat().st_size > 10_000


def test_trend_window_has_an_etco2_plot_with_its_limits(qtbot) -> None:
    from monitor.ui.trends_window import TrendsWindow

    bedside = Bedside("hypoventilation")
    bedside.run_to(60)
    window = TrendsWindow(bedside.pipeline)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.timer.stop()
    assert "etco2" in window.plots and "rr" in window.plots
    limits = bedside.pipeline.alarms.limits()
    assert ("etco2", 50.0) in {(plot, value) for plot, value, _ in limit_lines(limits)}
