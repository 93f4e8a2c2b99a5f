"""Every scenario brings its problem within 60 s and holds it for at least 2 minutes,
checked on what the monitor decodes (in-process, flat out) or on the model the NIBP
module reads; malformed files get an error naming the line/step and the problem."""

from __future__ import annotations

import pytest

from simulator.devices import SimulatedBedside
from simulator.physiology import PatientModel
from simulator.scenario import ScenarioError, builtin_scenarios, load_scenario
from tests.conftest import json_lines, run_vitalmon
from tests.simhelp import numerics

REQUIRED = {
    "steady", "hypertension", "tachycardia", "bradycardia", "desaturation", "apnea",
    "probe-off", "artifact", "nibp-fail", "comm-loss", "infusion",
}  # fmt: skip


def held_from(records: list[dict], ok, start_by: float, hold_s: float) -> float:
    """The first t <= start_by from which `ok(record)` holds for `hold_s` seconds."""
    by_t = {r["t"]: r for r in records}
    for r in records:
        if r["t"] > start_by:
            break
        if ok(r) and all(ok(by_t[r["t"] + d]) for d in range(1, int(hold_s) + 1)):
            return r["t"]
    raise AssertionError(f"condition not reached by {start_by} s and held {hold_s} s")


def test_every_required_scenario_is_bundled_with_a_description() -> None:
    found = {s.name: s for s in builtin_scenarios()}
    assert set(found) >= REQUIRED
    for s in found.values():
        assert s.description and len(s.description) < 110


def test_vitalmon_scenarios_lists_each_with_its_description() -> None:
    result = run_vitalmon("scenarios")
    assert result.returncode == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    for s in builtin_scenarios():
        assert s.description in lines[s.name]


def test_tachycardia() -> None:
    records = numerics("tachycardia", 200)
    t = held_from(records, lambda r: r["pr"] is not None and r["pr"] > 120, 45, 140)
    assert t + 10 <= 60  # PR_HIGH (10 s delay) fires within the first minute


def test_bradycardia() -> None:
    records = numerics("bradycardia", 200)
    t = held_from(records, lambda r: r["pr"] is not None and r["pr"] < 50, 45, 140)
    assert t + 10 <= 60


def test_desaturation_lags_then_dips_below_85() -> None:
    records = numerics("desaturation", 200)
    first = {r["t"]: r["spo2"] for r in records}
    assert first[10.0] >= 94  # the lag: still up 5 s after the fall began
    t = held_from(records, lambda r: r["spo2"] is not None and r["spo2"] < 90, 45, 140)
    assert t + 15 <= 60  # SPO2_LOW (15 s delay) within the first minute
    assert min(first[s] for s in map(float, range(1, 61))) <= 85  # SPO2_LOW_CRITICAL


def test_apnea_no_breath_for_30_s_within_a_minute() -> None:
    records = numerics("apnea", 200)
    t = held_from(records, lambda r: r["apnea_s"] is not None and r["apnea_s"] >= 30, 60, 130)
    assert t <= 60
    # Breathing comes from the CO2 module: in apnea it counts no breaths, so it gives no
    # rate (null, not an invented 0) and says so; apnea_s carries the alarm.
    assert all(r["rr_source"] == "capnography" for r in records)
    held_from(records, lambda r: r["rr"] is None and "no_breaths" in r["co2_status"], 30, 150)
    assert all(r["rr_state"] == "valid" for r in records[5:8])  # breathing before it


def test_probe_off_sets_sensor_off_and_values_go() -> None:
    records = numerics("probe-off", 200)
    held_from(records, lambda r: "sensor_off" in r["oximeter_status"], 30, 150)
    gone = held_from(records, lambda r: r["spo2"] is None and r["pr"] is None, 45, 140)
    assert gone <= 45


def test_artifact_flag_held() -> None:
    records = numerics("artifact", 200)
    t = held_from(records, lambda r: "artifact" in r["oximeter_status"], 30, 150)
    assert t + 10 <= 60  # SPO2_ARTIFACT needs the flag held > 10 s


def test_comm_loss_is_really_silent_then_comes_back() -> None:
    bedside = SimulatedBedside(load_scenario("comm-loss"), seed=0)
    sent = {}
    for step in range(1, 5 * 220 + 1):
        t = step * 0.2
        sent[round(t, 1)] = bedside.advance(t)["oximeter"]
    # A device renders whole data seconds: second k covers (k-1, k] and takes the state at k.
    assert all(sent[round(t * 0.2, 1)] for t in range(1, 5 * 29 + 1))
    assert not any(sent[round(t * 0.2, 1)] for t in range(5 * 29 + 1, 5 * 169 + 1))
    assert all(sent[round(t * 0.2, 1)] for t in range(5 * 169 + 1, 5 * 220 + 1))
    records = numerics("comm-loss", 200)
    held_from(records, lambda r: r["spo2_state"] == "missing", 45, 120)
    assert records[-1]["spo2_state"] == "valid"


def test_hypertension_model_gives_the_nibp_module_high_pressures() -> None:
    model = PatientModel(load_scenario("hypertension"), seed=0)
    for t in range(45, 200):
        v = model.vitals_at(float(t))
        assert v.sys_mmhg >= 165 and v.dia_mmhg >= 100, t
        assert v.map_mmhg > 120


def test_nibp_fail_and_comm_loss_device_states() -> None:
    fail = PatientModel(load_scenario("nibp-fail"), seed=0)
    assert all(fail.device_state_at(float(t)).nibp_error == 2 for t in range(0, 200))
    loss = PatientModel(load_scenario("comm-loss"), seed=0)
    assert loss.device_state_at(100.0).nibp_silent
    assert not loss.device_state_at(200.0).nibp_silent


def test_steady_stays_within_every_limit() -> None:
    records = numerics("steady", 300)
    for r in records[2:]:
        assert 94 <= r["spo2"] <= 100 and 55 <= r["pr"] <= 90
    for r in records[5:]:  # the CO2 module gives the rate once warm (5 s)
        assert 10 <= r["rr"] <= 18 and r["apnea_s"] < 12 and 30 <= r["etco2"] <= 45


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('name = "x"\n[patient]\nhr_bpm = = 3\n', ["line 3"]),
        (
            'name = "x"\n\n[[timeline]]\nat_s = 5\n\n[[timeline]]\nramp_s = 3\n',
            ["step 2", "line 6", "missing 'at_s'"],
        ),
        ('name = "x"\n[[timeline]]\nat_s = 5\nhr_bmp = 90\n', ["step 1", "line 2", "hr_bmp"]),
        ('name = "x"\n[[timeline]]\nat_s = 5\nhr_bpm = "fast"\n', ["'hr_bpm' must be a number"]),
        ('name = "x"\n[[timeline]]\nat_s = 5\nhr_bpm = 7200\n', ["outside"]),
        ('name = "x"\n[[timeline]]\nat_s = 5\noximeter_fault = "gone"\n', ["oximeter_fault"]),
        ('name = "x"\n[[timeline]]\nat_s = -5\n', ["must not be negative"]),
        ('name = "x"\n[[timeline]]\nat_s = 5\nat_min = 1\n', ["not both"]),
        ('name = "x"\n[devices]\npulse = "nonin2"\n', ["[devices]", "pulse"]),
        ("[patient]\nhr_bpm = 70\n", ["missing 'name'"]),
        ('name = "x"\n[patient]\nheart = 70\n', ["[patient]", "heart"]),
    ],
)
def test_malformed_scenarios_name_the_place_and_the_problem(
    tmp_path, text: str, needles: list[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert "bad.toml" in message and "\n" not in message
    for needle in needles:
        assert needle in message


def test_user_scenario_file_runs_from_the_cli(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\ndescription = "d"\n[[timeline]]\nat_s = 2\nhr_bpm = 130\n')
    result = run_vitalmon(
        "run", "--sim", str(path), "--headless", "--duration", "20", "--speed", "max"
    )
    assert result.returncode == 0, result.stderr
    last = json_lines(result.stdout)[-1]
    assert 122 <= last["pr"] <= 138


def test_infusion_session_has_its_desaturation_episode_and_bp_rise() -> None:
    model = PatientModel(load_scenario("infusion"), seed=0)
    spo2 = [round(model.vitals_at(38 * 60.0 + s).spo2_percent) for s in range(0, 5 * 60)]
    below = [v < 90 for v in spo2]
    longest = max(len(run) for run in "".join("x" if b else " " for b in below).split())
    assert longest > 30 and min(spo2) <= 88
    assert round(model.vitals_at(50 * 60.0).spo2_percent) >= 94
    base = sum(model.vitals_at(t * 60.0).sys_mmhg for t in range(2, 10)) / 8
    peak = max(model.vitals_at(t * 60.0).sys_mmhg for t in range(45, 56))
    assert peak >= 1.25 * base  # NIBP_SYS_RISE can fire at the end of the infusion


def test_the_bench_s_infusion_without_co2_is_infusion_less_its_co2_module() -> None:
    """bench/infusion-noco2.toml, the like-for-like comparison with trees before every
    bedside had a capnograph (docs/performance.md), stays `infusion` in all else."""
    from dataclasses import replace

    from tests.conftest import REPO

    plain = load_scenario("infusion")
    bare = load_scenario(str(REPO / "bench" / "infusion-noco2.toml"))
    assert plain.capno_protocol and not bare.capno_protocol
    same = replace(bare, name=plain.name, capno_protocol=plain.capno_protocol, source=plain.source)
    assert same == plain
