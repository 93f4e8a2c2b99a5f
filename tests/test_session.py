"""The infusion session: phases, events, baseline, and the baseline-relative limit end to end."""

from __future__ import annotations

import pytest

from drivers.errors import VitalmonError
from monitor.commands import Command, CommandBus, CommandError
from monitor.config import PipelineConfig, build_pipeline
from monitor.session import PHASES, SessionModel

BASELINE = {"readings": 2, "apart_s": 300}


def make_session() -> tuple[SessionModel, CommandBus, list[dict]]:
    records: list[dict] = []
    bus = CommandBus()
    return SessionModel(records.append, bus, baseline_rules=BASELINE), bus, records


def nibp(t: float, sys: int, dia: int, status: str = "ok") -> dict:
    return {"type": "nibp", "t": t, "sys": sys, "dia": dia, "map": 90, "pr": 70, "status": status}


def test_phases_follow_infusion_events() -> None:
    session, bus, records = make_session()
    assert (session.phase, PHASES[0]) == ("pre-infusion", "pre-infusion")
    bus.apply(
        Command(
            "session_setup", {"patient_id": "P7", "weight_kg": 80, "planned_dose_mg_per_kg_h": 0.5}
        ),
        5,
    )
    bus.apply(Command("mark_event", {"kind": "infusion_start"}), 600)
    assert (session.phase, session.phase_started_t, session.dose_mg_per_kg_h) == (
        "infusion",
        600,
        0.5,
    )
    bus.apply(Command("mark_event", {"kind": "rate_change", "dose_mg_per_kg_h": 0.75}), 1200)
    assert session.dose_mg_per_kg_h == 0.75
    bus.apply(Command("mark_event", {"kind": "infusion_stop"}), 3300)
    assert (session.phase, session.dose_mg_per_kg_h) == ("recovery", None)
    bus.apply(Command("set_phase", {"phase": "discharge"}), 6900)
    reason = "no Aldrete, no readings: a test"
    bus.apply(
        Command("mark_event", {"kind": "sign_off", "by": "RN Lee", "override_reason": reason}), 7000
    )
    assert session.phase == "signed-off"
    assert session.phase_durations(7100) == {
        "pre-infusion": 600,
        "infusion": 2700,
        "recovery": 3600,
        "discharge": 100,
        "signed-off": 100,
    }
    kinds = [(r["t"], r["kind"]) for r in records]
    assert kinds == [
        (5, "session_setup"),
        (600, "infusion_start"),
        (600, "phase"),
        (1200, "rate_change"),
        (3300, "infusion_stop"),
        (3300, "phase"),
        (6900, "phase"),
        (7000, "sign_off"),
        (7000, "phase"),
    ]
    assert all(r["type"] == "event" for r in records)
    assert records[1]["dose_mg_per_kg_h"] == 0.5
    assert records[2] == {
        "type": "event",
        "t": 600,
        "kind": "phase",
        "phase": "infusion",
        "previous": "pre-infusion",
        "cause": "infusion_start",
        "baseline_complete": False,  # no baseline readings: NIBP_NO_BASELINE
    }
    assert session.events == tuple(records)
    assert (session.patient_id, session.weight_kg) == ("P7", 80)


def test_every_event_kind_of_clinical_md() -> None:
    session, bus, records = make_session()
    marks = [
        {"kind": "bolus", "dose_mg": 10},
        {"kind": "adverse_effect", "effect": "hallucination"},
        {"kind": "adverse_effect", "effect": "oxygen_started", "text": "2 l/min"},
        {"kind": "rescue_drug", "drug": "midazolam", "dose_mg": 1},
        {"kind": "note", "text": "patient calm"},
        {"kind": "aldrete", "score": 9},
        {"kind": "aldrete", "score": 10},
    ]
    for i, mark in enumerate(marks):
        bus.apply(Command("mark_event", mark), 10 + i)
    assert [{k: v for k, v in r.items() if k not in ("type", "t")} for r in records] == marks
    assert session.last_aldrete == 10
    bus.apply(Command("mark_event", {"kind": "aldrete", "score": 8.0}), 30)  # from a spin box
    assert (records[-1]["score"], session.last_aldrete) == (8, 8)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"kind": "party"}, "kind must be one of"),
        ({"kind": "note"}, "missing 'text'"),
        ({"kind": "note", "text": 5}, "'text' must be text"),
        ({"kind": "rate_change"}, "missing 'dose_mg_per_kg_h'"),
        ({"kind": "rate_change", "dose_mg_per_kg_h": -1}, "must be a number >= 0"),
        ({"kind": "rate_change", "dose_mg_per_kg_h": float("nan")}, "must be a number >= 0"),
        ({"kind": "adverse_effect", "effect": "sneezing"}, "effect must be one of"),
        ({"kind": "aldrete", "score": 11}, "score must be a whole number 0-10"),
        ({"kind": "aldrete", "score": 8.5}, "score must be a whole number 0-10"),
        ({"kind": "note", "text": "x", "colour": "red"}, "unknown field 'colour'"),
    ],
)
def test_bad_events_are_refused(args: dict, needle: str) -> None:
    _, bus, records = make_session()
    with pytest.raises(VitalmonError, match=needle):
        bus.apply(Command("mark_event", args), 1)
    assert records == []


def test_bad_phase_and_setup() -> None:
    _, bus, _ = make_session()
    with pytest.raises(VitalmonError, match="phase must be one of"):
        bus.apply(Command("set_phase", {"phase": "lunch"}), 1)
    with pytest.raises(VitalmonError, match="weight_kg must be a number above 0"):
        bus.apply(Command("session_setup", {"weight_kg": 0}), 1)


def test_baseline_is_the_mean_of_pre_infusion_readings_only() -> None:
    session, bus, _ = make_session()
    session.on_record(nibp(60, 120, 80))
    assert session.baseline is not None and not session.baseline.complete
    session.on_record(nibp(359, 130, 70))  # 4 min 59 s after the first
    assert not session.baseline.complete
    session.on_record(nibp(400, 90, 50, status="failed"))
    session.on_record(nibp(420, 125, 75))  # two good readings 5 min apart: complete
    assert session.baseline.complete
    assert session.reference_sys() is None  # not before the infusion starts
    bus.apply(Command("mark_event", {"kind": "infusion_start", "dose_mg_per_kg_h": 0.5}), 600)
    session.on_record(nibp(900, 170, 100))
    assert session.baseline is not None
    assert (session.baseline.sys, session.baseline.dia, session.baseline.readings) == (125, 75, 3)
    assert session.reference_sys() == 125


def test_discharge_assessment() -> None:
    session, bus, records = make_session()
    session.on_record(nibp(60, 120, 80))
    assert not session.discharge_assessment().ready
    bus.apply(Command("mark_event", {"kind": "infusion_start", "dose_mg_per_kg_h": 0.5}), 600)
    session.on_record({"type": "numerics", "t": 700.0, "spo2": 95, "spo2_state": "valid"})
    session.on_record(nibp(800, 150, 80))  # +25 %: not within 20 %
    bus.apply(Command("mark_event", {"kind": "aldrete", "score": 9}), 900)
    assert session.discharge_assessment().to_json() == {
        "aldrete_ok": True,
        "bp_ok": False,
        "spo2_ok": True,
        "recovery_ok": False,
        "recovery_s": 0.0,
        "ready": False,
    }
    session.on_record(nibp(1000, 135, 97))  # diastolic +21 %: the diastolic counts too
    assert session.discharge_assessment().to_json()["bp_ok"] is False
    session.on_record(nibp(1010, 135, 95))
    assert session.discharge_assessment().to_json()["bp_ok"] is True
    bus.apply(Command("mark_event", {"kind": "infusion_stop"}), 1050)
    assert not session.discharge_assessment(1100).ready  # 50 s of recovery, not 60 min
    session.on_record({"type": "numerics", "t": 4650.0, "spo2": 92, "spo2_state": "valid"})
    assert session.discharge_assessment(4650).ready  # SpO2 92 is >= 92; 60 min of recovery
    bus.apply(Command("mark_event", {"kind": "sign_off"}), 4650)
    assert records[-2]["discharge"]["ready"] is True
    assert records[-2]["discharge"]["recovery_s"] == 3600


def test_sign_off_rules() -> None:
    session, bus, records = make_session()
    bus.apply(Command("mark_event", {"kind": "infusion_start"}), 600)
    with pytest.raises(CommandError, match="infusion is running"):
        bus.apply(Command("mark_event", {"kind": "sign_off", "override_reason": "x"}), 700)
    bus.apply(Command("set_phase", {"phase": "recovery"}), 750)  # the pump still runs
    with pytest.raises(CommandError, match="infusion is running"):
        bus.apply(Command("mark_event", {"kind": "sign_off", "override_reason": "x"}), 760)
    bus.apply(Command("mark_event", {"kind": "infusion_stop"}), 800)
    with pytest.raises(CommandError, match="override_reason") as refused:
        bus.apply(Command("mark_event", {"kind": "sign_off"}), 900)
    assert "At least 60 min of recovery" in str(refused.value)
    with pytest.raises(CommandError, match="override_reason"):
        bus.apply(Command("mark_event", {"kind": "sign_off", "override_reason": "  "}), 900)
    assert session.phase == "recovery"
    with pytest.raises(CommandError, match="mark_event sign_off"):
        bus.apply(Command("set_phase", {"phase": "signed-off"}), 900)
    bus.apply(Command("mark_event", {"kind": "sign_off", "override_reason": "ward"}), 900)
    assert records[-2]["override_reason"] == "ward" and session.phase == "signed-off"
    with pytest.raises(CommandError, match="new session"):
        bus.apply(Command("mark_event", {"kind": "infusion_start"}), 950)
    with pytest.raises(CommandError, match="new session"):
        bus.apply(Command("set_phase", {"phase": "infusion"}), 950)
    assert session.phase == "signed-off"


def test_pipeline_wires_baseline_into_nibp_sys_rise() -> None:
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": "nonin2"}))
    out: list[dict] = []
    pipeline.subscribe(out.append)
    for record in (nibp(60.0, 120, 80), nibp(360.0, 124, 80)):
        pipeline.emit(record)
    pipeline.emit(nibp(400.0, 160, 80))  # pre-infusion: no baseline-relative alarm yet
    assert "NIBP_SYS_RISE" not in {r.get("id") for r in out}
    pipeline.commands.submit("mark_event", kind="infusion_start", dose_mg_per_kg_h=0.5)
    for command in pipeline.commands.pending():
        pipeline.apply_command(command)
    pipeline.emit(nibp(900.0, 152, 80))  # baseline (120+124+160)/3 = 134.7; +12.9 %
    pipeline.emit(nibp(1200.0, 169, 80))  # +25.5 %
    rises = [r for r in out if r.get("id") == "NIBP_SYS_RISE"]
    assert [(r["t"], r["state"]) for r in rises] == [(1200.0, "onset")]
    assert pipeline.session.baseline.readings == 3
    assert pipeline.alarms.log[-1]["wall"]
