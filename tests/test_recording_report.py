"""The end-of-session report: a real PDF (reportlab) naming every alarm, every NIBP
reading, the phases, the key figures and the discharge assessment."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta

import pytest

from monitor.cli import main
from monitor.recording.store import SessionReader
from monitor.recording.summary import summarize
from tests.recording_helpers import WALL_START


def _clock(t: float) -> str:
    return (WALL_START + timedelta(seconds=t)).strftime("%H:%M:%S")


def _mmss(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def _first(emitted, **fields) -> dict:
    return next(r for r in emitted if all(r.get(k) == v for k, v in fields.items()))


def test_summary_figures(report_session) -> None:
    path, emitted = report_session
    with SessionReader(path) as reader:
        s = summarize(reader)
    spo2 = [r["spo2"] for r in emitted if r["type"] == "numerics" and r["spo2"] is not None]
    assert s.extremes["min SpO2"][0] == min(spo2) < 90
    readings = [r for r in emitted if r["type"] == "nibp" and r["status"] == "ok"]
    top = max(readings, key=lambda r: r["sys"])
    assert s.extremes["max systolic"] == (top["sys"], top["t"]) and top["sys"] >= 160
    # Phases as the session model changed them: mark_event infusion_start/stop,
    # set_phase discharge, sign_off (tests/data/rec_report.toml [[actions]]).
    assert s.phases == [
        ("pre-infusion", 0.0, 360.0),
        ("infusion", 360.0, 780.0),
        ("recovery", 780.0, 890.0),
        ("discharge", 890.0, 895.0),
        ("signed-off", 895.0, 900.0),
    ]
    low = next(u for u in s.limits if u.rule.alarm_id == "SPO2_LOW")
    assert low.beyond == sum(v < 90 for v in spo2) > 0 and low.of == len(spo2)
    pr_high = next(u for u in s.limits if u.rule.alarm_id == "PR_HIGH")
    assert pr_high.steps == [(0.0, 120.0, True), (700.0, 130.0, True)]  # set_limit at 700 s
    episodes = {e.alarm_id: e for e in s.episodes}
    onsets = [r for r in emitted if r["type"] == "alarm" and r["state"] == "onset"]
    assert [(e.alarm_id, e.onset_t) for e in s.episodes] == [(r["id"], r["t"]) for r in onsets]
    for alarm_id, e in episodes.items():
        end = _first(emitted, type="alarm", id=alarm_id, state="end")
        assert e.duration_s == end["duration_s"] > 0
    # The critical desaturation latched: it ended before the nurse acknowledged it at
    # 470 s, and that acknowledgement is its response all the same.
    critical = episodes["SPO2_LOW_CRITICAL"]
    end = _first(emitted, type="alarm", id="SPO2_LOW_CRITICAL", state="end")
    assert end["latched"] is True and critical.end_t < 470.0
    assert (critical.response, critical.response_t) == ("acknowledged", 470.0)
    assert (episodes["SPO2_LOW"].response, episodes["SPO2_LOW"].response_t) == (
        "acknowledged",
        470.0,
    )
    assert (episodes["PR_HIGH"].response, episodes["PR_HIGH"].response_t) == ("paused", 670.0)
    assert episodes["OXIMETER_COMM_LOST"].response == "none"
    # one rule set (monitor/discharge.toml): the report judges as the session did live
    assert [v for _, _, v in s.discharge] == ["met", "met", "met", "NOT met"]
    signed = _first(emitted, type="event", kind="sign_off")
    assert s.assessment is not None and s.assessment.to_json() == signed["discharge"]
    assert s.sign_off is not None and s.sign_off["override_reason"] == signed["override_reason"]
    assert s.setup["patient_id"] == "P-0042"
    assert [text for _, text in s.doses] == [
        "planned dose 0.5 mg/kg/h",
        "infusion_start: dose_mg_per_kg_h=0.5",
        "rate_change: dose_mg_per_kg_h=0.75",
        "infusion_stop",
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
    onsets = [r for r in emitted if r["type"] == "alarm" and r["state"] == "onset"]
    assert len({r["id"] for r in onsets}) >= 6
    for record in onsets:
        assert record["id"] in text
    first = min(onsets, key=lambda r: r["t"])
    critical = _first(emitted, type="alarm", id="SPO2_LOW_CRITICAL", state="onset")
    pr_high = _first(emitted, type="alarm", id="PR_HIGH", state="onset")
    top = max((r for r in emitted if r["type"] == "nibp"), key=lambda r: r["sys"] or 0)
    for needle in (
        _clock(first["t"]),
        f"acknowledged after {_mmss(470.0 - critical['t'])}",
        f"paused after {_mmss(670.0 - pr_high['t'])}",
        str(top["sys"]),
        str(top["dia"]),
        str(top["map"]),
        "failed",
        "pause_audio",
        "set_limit",
        "P-0042",
        "pre-infusion",
        "recovery",
        "min SpO2",
        "max systolic",
        "max pulse rate",
        "Discharge assessment",
        "Discharge criteria NOT met",
        "At least 60 min of recovery",
        "Signed off at 09:14:55 by RN Smith",
        "Reason: Recovery shortened: transfer to the ward, observed there",
        "adverse_effect",
        "Time below / above each limit",
        "SpO2 (%)",
        "Pulse rate (/min)",
        "NIBP (mmHg)",
    ):
        assert needle in text, needle


def test_trends_plot_measurements_not_bookkeeping() -> None:
    from monitor.recording.export import numeric_keys

    records = [
        {
            "type": "numerics",
            "t": 1.0,
            "spo2": 97,
            "pr": 72,
            "oximeter_last_frame_t": 0.99,
            "nibp_age_s": 30.0,
            "apnea_s": 1.5,
            "spo2_state": "valid",
        },
    ]
    assert numeric_keys(records) == ["spo2", "pr", "apnea_s"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_a_note_of_any_length_and_any_characters_fits_the_report(tmp_path) -> None:
    """A 7000-character note holding '<', '&' and a 300-letter word: wrapped, split across
    pages, printed as written (it was a LayoutError, and markup a traceback)."""
    sentence = "Vivid dreams & <colours>; calm again."
    long_word = "x" * 300
    text = " ".join([sentence] * 190) + f" <b>{long_word} END-OF-NOTE"
    commands = tmp_path / "cmds.jsonl"
    commands.write_text(
        json.dumps({"cmd": "mark_event", "kind": "note", "text": text, "at": 5})
        + "\n"
        + json.dumps({"cmd": "mark_event", "kind": "note", "text": "after it", "at": 6})
        + "\n"
    )
    session, out = tmp_path / "s.vitalmon", tmp_path / "r.pdf"
    argv = ["run", "--sim", "steady", "--headless", "--speed", "max", "--duration", "20"]
    assert main([*argv, "--record", str(session), "--commands", str(commands)]) == 0
    assert main(["report", str(session), "--out", str(out)]) == 0
    pages = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(pages.split())
    for word in sentence.split():  # every word of it, none lost (a page break may fall
        assert flat.count(word) == 190, word  # inside a sentence, with the page footer)
    assert f"<b>{long_word}END-OF-NOTE" in flat and "afterit" in flat
    assert pages.count("\f") >= 3  # the note ran over more than one page


def test_the_report_lists_the_alarms_switched_off_and_for_how_long(tmp_path) -> None:
    from monitor.recording.summary import AlarmOff
    from tests.recording_helpers import record_session

    path = tmp_path / "off.vitalmon"
    emitted = record_session(path, "rec_alarm_off", seconds=180.0)
    (refused,) = [r for r in emitted if r["type"] == "error"]
    assert "may not be switched off" in refused["message"]
    with SessionReader(path) as reader:
        s = summarize(reader)
    assert s.alarms_off == [AlarmOff("SPO2_LOW", 30.0, 90.0), AlarmOff("PR_HIGH", 60.0, None)]
    if shutil.which("pdftotext") is None:
        return
    out = tmp_path / "off.pdf"
    assert main(["report", str(path), "--out", str(out)]) == 0
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    section = text[text.index("Alarms switched off") :]
    assert "SPO2_LOW" in section and f"{_clock(30)}" in section and "1:00" in section
    assert "PR_HIGH" in section and "still off" in section and "2:00" in section
