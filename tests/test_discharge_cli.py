"""Sign-off and discharge through the real CLI (issue 15 item 7, docs/clinical.md): one
rule set (monitor/discharge.toml) for the live assessment and the report; sign-off
refused during the infusion and, with a criterion unmet, without a reason; a
signed-off session takes no new infusion."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from monitor.recording.store import SessionReader
from monitor.recording.summary import summarize
from tests.conftest import json_lines, run_vitalmon


def run(seconds: float, *commands: dict, record: str | None = None) -> list[dict]:
    stdin = "".join(json.dumps(c) + "\n" for c in commands)
    extra = ["--record", record] if record else []
    done = run_vitalmon(
        "run", "--sim", "steady", "--headless", "--speed", "max", "--duration", str(seconds),
        "--commands", "-", *extra, input=stdin, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json_lines(done.stdout)


def of(records: list[dict], record_type: str, /, **fields: object) -> list[dict]:
    return [
        r
        for r in records
        if r["type"] == record_type and all(r.get(k) == v for k, v in fields.items())
    ]


def event(kind: str, at: float, **args: object) -> dict:
    return {"cmd": "mark_event", "kind": kind, "at": at, **args}


def test_sign_off_is_refused_during_the_infusion() -> None:
    records = run(200, event("infusion_start", 60), event("sign_off", 120, override_reason="x"))
    (error,) = of(records, "error", command="mark_event")
    assert error["t"] == 120 and "infusion is running" in error["message"]
    assert of(records, "event", kind="sign_off") == []
    assert of(records, "event", kind="phase")[-1]["phase"] == "infusion"


def test_sign_off_over_an_unmet_criterion_needs_a_reason_and_records_it() -> None:
    records = run(
        300, event("infusion_start", 60), event("infusion_stop", 120),
        event("aldrete", 130, score=9), event("sign_off", 140),
        event("sign_off", 150, by="RN Lee", override_reason="transfer to the ward"),
        event("infusion_start", 200),
    )  # fmt: skip
    first, again = of(records, "error", command="mark_event")
    assert first["t"] == 140 and "override_reason" in first["message"]
    assert "At least 60 min of recovery" in first["message"]
    (signed,) = of(records, "event", kind="sign_off")
    assert signed["t"] == 150 and signed["override_reason"] == "transfer to the ward"
    assert signed["discharge"]["recovery_ok"] is False and signed["discharge"]["ready"] is False
    assert again["t"] == 200 and "new session" in again["message"]  # no new infusion
    assert of(records, "event", kind="phase")[-1]["phase"] == "signed-off"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_all_criteria_met_live_and_in_the_report_alike(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    records = run(
        4560,
        {"cmd": "nibp_start", "at": 0}, {"cmd": "nibp_start", "at": 330},
        event("infusion_start", 600), event("infusion_stop", 900),
        event("aldrete", 4400, score=9), event("sign_off", 4520, by="RN Lee"),
        record=str(path),
    )  # fmt: skip
    assert of(records, "error") == []
    (signed,) = of(records, "event", kind="sign_off")
    assert signed["discharge"] == {
        "aldrete_ok": True, "bp_ok": True, "spo2_ok": True, "recovery_ok": True,
        "recovery_s": 3620.0, "ready": True,
    }  # fmt: skip
    with SessionReader(path) as reader:
        summary = summarize(reader)
    assert summary.assessment is not None and summary.assessment.to_json() == signed["discharge"]
    pdf = tmp_path / "r.pdf"
    done = run_vitalmon("report", str(path), "--out", str(pdf))
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "All discharge criteria met." in text and "by RN Lee" in text
    assert "Reason:" not in text
    for label in ("Modified Aldrete score >= 9", "SpO2 >= 92 %", "At least 60 min of recovery"):
        assert label in text
