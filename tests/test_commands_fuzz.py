"""Whatever arguments a script or a GUI sends, a command is applied or refused with a
VitalmonError (an `error` record): it never takes the pipeline thread down."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import VitalmonError
from monitor.commands import Command
from monitor.config import PipelineConfig, build_pipeline

NAMES = [
    "acknowledge",
    "pause_audio",
    "pause_alarms",
    "set_limit",
    "restore_preset",
    "technical_alarm",
    "mark_event",
    "set_phase",
    "session_setup",
]
KEYS = st.sampled_from(
    [
        "id",
        "alarm_id",
        "threshold",
        "enabled",
        "delay_s",
        "satseconds",
        "duration_s",
        "off",
        "resume",
        "name",
        "active",
        "message",
        "kind",
        "text",
        "dose_mg_per_kg_h",
        "score",
        "effect",
        "drug",
        "phase",
        "patient_id",
        "weight_kg",
        "planned_dose_mg_per_kg_h",
        "x",
    ]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=8)
    | st.sampled_from(["PR_HIGH", "SPO2_LOW", "note", "infusion", "RECORDING_FAILED", "nausea"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(NAMES), args=st.dictionaries(KEYS, JSON, max_size=4))
def test_any_arguments_are_applied_or_refused_cleanly(name: str, args: dict) -> None:
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": "nonin2"}))
    records: list[dict] = []
    pipeline.subscribe(records.append)
    pipeline.apply_command(Command(name, args))  # raises only on a bug
    assert records and records[-1]["type"] in ("command", "error")


def test_a_refused_command_is_an_error_record() -> None:
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": "nonin2"}))
    records: list[dict] = []
    pipeline.subscribe(records.append)
    pipeline.apply_command(Command("set_phase", {"phase": "lunch"}))
    (record,) = records
    assert record["type"] == "error" and "phase must be one of" in record["message"]
    assert isinstance(VitalmonError("x"), Exception)
