"""The patient model: deterministic, lagged SpO2, ketamine's effects, held final state."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import PipelineConfig, build_pipeline
from simulator.devices import SimulatedBedside
from simulator.physiology import SPO2_LAG_S, PatientModel
from simulator.scenario import _parse, load_scenario


def scenario(text: str):
    return _parse('name = "t"\n' + text, "test.toml")


def stepped_bytes(name: str, seconds: int, step_s: float, seed: int = 3) -> dict[str, bytes]:
    bedside = SimulatedBedside(load_scenario(name), seed=seed)
    out: dict[str, list[bytes]] = {}
    steps = round(seconds / step_s)
    for i in range(1, steps + 1):
        for channel, data in bedside.advance(round(i * step_s, 6)).items():
            out.setdefault(channel, []).append(data)
    return {channel: b"".join(parts) for channel, parts in out.items()}


@pytest.mark.parametrize("name", ["steady", "probe-off", "apnea"])
def test_same_bytes_at_40_ms_steps_and_1_s_steps(name: str) -> None:
    fine = stepped_bytes(name, 40, 0.04)
    coarse = stepped_bytes(name, 40, 1.0)
    assert set(fine) == {"oximeter", "resp", "nibp", "capno"}
    assert fine["nibp"] == b""  # the NIBP module speaks only when asked
    assert fine["capno"] == b"\xc8\x02\x00\x36"  # the CO2 module: its boot NACK, then asked
    for channel in fine:
        if channel != "nibp":
            assert len(fine[channel]) > 0
        assert fine[channel] == coarse[channel], channel


def test_same_seed_same_patient_other_seed_other_patient() -> None:
    a = PatientModel(load_scenario("infusion"), seed=7)
    b = PatientModel(load_scenario("infusion"), seed=7)
    c = PatientModel(load_scenario("infusion"), seed=8)
    times = [0.5, 10, 61.2, 600, 3000.75]
    assert [a.vitals_at(t) for t in times] == [b.vitals_at(t) for t in times]
    assert [a.vitals_at(t) for t in times] != [c.vitals_at(t) for t in times]


def test_going_back_in_time_gives_the_same_values() -> None:
    model = PatientModel(load_scenario("infusion"), seed=1)
    late = model.vitals_at(4000.0)
    early = model.vitals_at(700.0)
    fresh = PatientModel(load_scenario("infusion"), seed=1)
    assert fresh.vitals_at(700.0) == early
    assert fresh.vitals_at(4000.0) == late


def test_spo2_follows_a_step_with_a_first_order_lag() -> None:
    model = PatientModel(
        scenario("[patient]\nspo2_percent = 97\n[[timeline]]\nat_s = 100\nspo2_percent = 77\n"),
        seed=0,
    )
    assert model.vitals_at(100).spo2_percent == pytest.approx(97, abs=1.5)
    one_tau = 97 - 20 * (1 - math.exp(-1))
    assert model.vitals_at(100 + SPO2_LAG_S).spo2_percent == pytest.approx(one_tau, abs=1.5)
    assert model.vitals_at(100 + 6 * SPO2_LAG_S).spo2_percent == pytest.approx(77, abs=1.5)


def test_ketamine_raises_bp_and_hr_with_the_dose_and_wears_off() -> None:
    model = PatientModel(load_scenario("infusion"), seed=0)

    def mean(attr: str, start_min: float) -> float:
        values = [getattr(model.vitals_at(start_min * 60 + s), attr) for s in range(0, 120)]
        return sum(values) / len(values)

    base_sys, base_hr = mean("sys_mmhg", 5), mean("hr_bpm", 5)
    low_dose_sys = mean("sys_mmhg", 27)  # 17 min at 0.5 mg/kg/h
    high_dose_sys = mean("sys_mmhg", 52)  # 22 min at 0.8 mg/kg/h
    assert low_dose_sys > base_sys + 10
    assert high_dose_sys > low_dose_sys + 5
    assert high_dose_sys >= 1.25 * base_sys  # enough for NIBP_SYS_RISE
    assert mean("hr_bpm", 52) > base_hr + 10
    assert abs(mean("sys_mmhg", 113) - base_sys) < 6  # an hour after the stop
    assert abs(mean("hr_bpm", 113) - base_hr) < 4


def test_high_dose_ketamine_depresses_breathing() -> None:
    model = PatientModel(scenario("[[timeline]]\nat_s = 60\nketamine_mg_per_kg_h = 2.0\n"), seed=0)
    before = model.vitals_at(50).rr_bpm
    during = sum(model.vitals_at(3600 + s).rr_bpm for s in range(60)) / 60
    assert during < before - 5


def test_apnea_stops_the_breath_phase_and_desaturates() -> None:
    model = PatientModel(load_scenario("apnea"), seed=0)
    assert model.second(100).vitals.rr_bpm == 0
    assert model.second(100).breath_depth == 0
    assert model.second(100).resp_phase == model.second(60).resp_phase
    assert model.second(150).vitals.spo2_percent < 85


@pytest.mark.parametrize(
    ("name", "attr", "expected"),
    [
        ("tachycardia", "hr_bpm", 138),
        ("desaturation", "spo2_percent", 97),
        ("hypertension", "sys_mmhg", 178),
    ],
)
def test_after_the_timeline_ends_its_last_state_holds(name: str, attr: str, expected: float):
    model = PatientModel(load_scenario(name), seed=0)
    values = [getattr(model.vitals_at(5000 + s), attr) for s in range(30)]
    assert sum(values) / len(values) == pytest.approx(expected, abs=4)


def test_headless_records_are_the_same_at_40_ms_and_1_s_steps() -> None:
    from monitor.pipeline import PipelineRunner
    from monitor.sources import SimulatorSource

    def records(step_s: float) -> list[dict]:
        source = SimulatorSource(SimulatedBedside(load_scenario("apnea"), seed=5), speed=None)
        source.step_s = step_s
        pipeline = build_pipeline(PipelineConfig.of(source.protocols))
        out: list[dict] = []
        pipeline.subscribe(lambda r: out.append({k: v for k, v in r.items() if k != "wall"}))
        PipelineRunner(source, pipeline, duration_s=40).run()
        return out

    fine, coarse = records(0.04), records(1.0)
    numerics = [r for r in fine if r["type"] == "numerics"]
    # The rate comes from the CO2 module once it is warm (6 s), before the apnea (10 s).
    assert len(numerics) == 40 and numerics[6]["rr"] is not None
    assert fine == coarse


@settings(max_examples=8, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=2.5), min_size=5, max_size=60))
def test_any_sequence_of_steps_gives_the_same_bytes(steps: list[float]) -> None:
    reference = stepped_bytes("artifact", 25, 1.0)
    bedside = SimulatedBedside(load_scenario("artifact"), seed=3)
    out: dict[str, list[bytes]] = {channel: [] for channel in reference}
    t = 0.0
    for step in steps:
        t = min(25.0, t + step)
        for channel, data in bedside.advance(t).items():
            out[channel].append(data)
    for channel, data in bedside.advance(25.0).items():
        out[channel].append(data)
    for channel, parts in out.items():
        assert b"".join(parts) == reference[channel]
