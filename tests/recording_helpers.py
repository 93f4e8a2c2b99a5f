"""Real session files for the recording tests: the simulator through the real pipeline
and the real recorder, with the clinical records (alarms, NIBP, events, commands) the
other parts of the monitor emit, in their contract shapes, at scripted data times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.recording.recorder import SessionRecorder
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

DATA = Path(__file__).resolve().parent / "data"
WALL_START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def _alarm(t, alarm_id, state, priority, kind="physiological", message=""):
    return {
        "type": "alarm",
        "t": t,
        "id": alarm_id,
        "priority": priority,
        "kind": kind,
        "state": state,
        "message": message or alarm_id.replace("_", " ").lower(),
    }


def _command(t, name, **args):
    return {"type": "command", "t": t, "name": name, "args": args}


def _event(t, kind, **details):
    return {"type": "event", "t": t, "kind": kind, **details}


def _nibp(t, sys_, dia, map_, pr):
    return {"type": "nibp", "t": t, "sys": sys_, "dia": dia, "map": map_, "pr": pr, "status": "ok"}


CLINICAL_SCRIPT: list[dict[str, object]] = [
    _command(1.0, "session_setup", patient_id="P-0042", weight_kg=70, planned_dose_mg_per_kg_h=0.5),
    _command(2.0, "set_phase", phase="pre-infusion"),
    _nibp(60.0, 120, 78, 92, 74),
    _nibp(300.0, 124, 80, 95, 75),
    _command(360.0, "set_phase", phase="infusion"),
    _command(360.0, "mark_event", kind="infusion_start", dose_mg_per_kg_h=0.5),
    _event(360.0, "infusion_start", dose_mg_per_kg_h=0.5),
    _alarm(412.0, "SPO2_LOW", "onset", "medium"),
    _command(425.0, "acknowledge"),
    _alarm(425.0, "SPO2_LOW", "acknowledged", "medium"),
    _alarm(455.0, "SPO2_LOW", "end", "medium"),
    _event(500.0, "rate_change", dose_mg_per_kg_h=0.75),
    _nibp(600.0, 165, 96, 119, 90),
    _alarm(600.0, "NIBP_SYS_HIGH", "onset", "medium"),
    _alarm(600.0, "NIBP_SYS_RISE", "onset", "low"),
    _alarm(660.0, "PR_HIGH", "onset", "medium"),
    _command(670.0, "pause_audio"),
    _alarm(670.0, "PR_HIGH", "paused", "medium"),
    _alarm(720.0, "PR_HIGH", "end", "medium"),
    _alarm(730.0, "OXIMETER_COMM_LOST", "onset", "high", "technical", "oximeter silent"),
    _alarm(736.0, "OXIMETER_COMM_LOST", "end", "high", "technical", "oximeter silent"),
    _nibp(750.0, 132, 84, 100, 84),
    _alarm(750.0, "NIBP_SYS_HIGH", "end", "medium"),
    _command(780.0, "set_phase", phase="recovery"),
    _event(780.0, "infusion_stop"),
    _event(800.0, "adverse_effect", effect="nausea", note="mild, settled"),
    _command(700.0, "set_limit", alarm_id="PR_HIGH", threshold=130),
    {
        "type": "nibp",
        "t": 810.0,
        "sys": None,
        "dia": None,
        "map": None,
        "pr": None,
        "status": "failed",
        "error": "motion artifact",
    },
    _alarm(810.0, "NIBP_FAILED", "onset", "medium", "technical", "NIBP failed: motion"),
    _alarm(840.0, "NIBP_FAILED", "end", "medium", "technical", "NIBP failed: motion"),
    _nibp(840.0, 126, 79, 95, 76),
    _event(880.0, "aldrete", score=9),
    _command(890.0, "set_phase", phase="discharge"),
    _event(895.0, "sign_off", by="RN Smith"),
]


def record_session(
    path: Path, scenario: str = "rec_report", seconds: float = 900.0, clinical: bool = True
) -> list[dict[str, object]]:
    """Record `seconds` of a test scenario at max speed; returns every record emitted."""
    source = SimulatorSource(
        SimulatedBedside(load_scenario(str(DATA / f"{scenario}.toml")), seed=3), speed=None
    )
    pipeline = AcquisitionPipeline(source.protocols, wall_start=WALL_START)
    emitted: list[dict[str, object]] = []
    pipeline.subscribe(emitted.append)
    recorder = SessionRecorder(
        path, pipeline, {"kind": "simulator", "scenario": scenario, "seed": 3}, live=False
    )
    script = sorted(CLINICAL_SCRIPT if clinical else [], key=lambda r: float(r["t"]))

    def emit_due(record: dict[str, object]) -> None:
        while script and float(script[0]["t"]) <= pipeline.t:
            pipeline.emit(dict(script.pop(0)))

    pipeline.subscribe(lambda r: emit_due(r) if r["type"] == "numerics" else None)
    PipelineRunner(source, pipeline, duration_s=seconds).run()
    recorder.close()
    return emitted
