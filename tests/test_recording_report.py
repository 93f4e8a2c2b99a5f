"""The end-of-session report: a real PDF (reportlab) naming every alarm, every NIBP
reading, the phases, the key figures and the discharge assessment."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from monitor.cli import main
from monitor.recording.store import SessionReader
from monitor.recording.summary import summarize


def test_summary_figures(report_session) -> None:
    path, emitted = report_session
    with SessionReader(path) as reader:
        s = summarize(reader)
    spo2 = [r["spo2"] for r in emitted if r["type"] == "numerics" and r["spo2"] is not None]
    assert s.extremes["min SpO2"][0] == min(spo2) < 90
    assert s.extremes["max systolic"] == (165.0, 600.0)
    assert [p for p, _, _ in s.phases] == ["pre-infusion", "infusion", "recovery", "discharge"]
    assert s.phases[1][1:] == (360.0, 780.0)
    low = next(u for u in s.limits if u.rule.alarm_id == "SPO2_LOW")
    assert low.beyond == sum(v < 90 for v in spo2) > 0 and low.of == len(spo2)
    episodes = {(e.alarm_id, e.onset_t): e for e in s.episodes}
    assert episodes["SPO2_LOW", 412.0].duration_s == 43.0
    assert episodes["SPO2_LOW", 412.0].response == "acknowledged"
    assert episodes["SPO2_LOW", 412.0].response_t == 425.0
    assert episodes["NIBP_SYS_RISE", 600.0].end_t is None
    assert [v for _, _, v in s.discharge] == ["met", "met", "met"]
    assert s.setup["patient_id"] == "P-0042"
    assert [text for _, text in s.doses][:2] == [
        "planned dose 0.5 mg/kg/h",
        "infusion_start: dose_mg_per_kg_h=0.5",
    ]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_report_pdf_names_every_alarm_and_reading(report_session, tmp_path, capsys) -> None:
    path, emitted = report_session
    out = tmp_path / "report.pdf"
    assert main(["report", str(path), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    for record in emitted:
        if record["type"] == "alarm":
            assert record["id"] in text
    for needle in (
        "P-0042",
        "pre-infusion",
        "recovery",
        "09:06:52",
        "acknowledged after 0:13",
        "paused after 0:10",
        "165",
        "96",
        "119",
        "min SpO2",
        "max systolic",
        "max pulse rate",
        "Discharge assessment",
        "All discharge criteria met",
        "Signed off at 09:14:55",
        "adverse_effect",
        "Time below / above each limit",
        "SpO2 (%)",
        "Pulse rate (/min)",
        "NIBP (mmHg)",
    ):
        assert needle in text, needle
