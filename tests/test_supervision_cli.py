"""Supervision of the infusion (issue 15, docs/clinical.md): the NIBP program starts with
the infusion, NIBP_OVERDUE, NIBP_NO_BASELINE, NIBP_STALE with no reading ever, an idle
NIBP module that goes silent, RESP_COMM_LOST and "RR not monitored", each through the
real CLI with scripted commands."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.alarms import load_preset
from tests.conftest import json_lines, run_vitalmon

PRESET = load_preset()
OVERDUE_S = PRESET.alarms["NIBP_OVERDUE"].number("overdue_s")
STALE_S = PRESET.alarms["NIBP_STALE"].number("stale_s")
RESP_SILENCE_S = PRESET.alarms["RESP_COMM_LOST"].number("silence_s")


def run(sim: str, seconds: float, *commands: dict) -> list[dict]:
    stdin = "".join(json.dumps(c) + "\n" for c in commands)
    done = run_vitalmon(
        "run", "--sim", sim, "--headless", "--speed", "max", "--duration", str(seconds),
        "--commands", "-", input=stdin, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json_lines(done.stdout)


def onsets(records: list[dict], alarm_id: str) -> list[float]:
    return [r["t"] for r in records if r["type"] == "alarm" and r["id"] == alarm_id
            and r["state"] == "onset"]  # fmt: skip


def scenario(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.toml"
    path.write_text('name = "test"\ndescription = "test"\n' + text)
    return str(path)


START = {"cmd": "mark_event", "kind": "infusion_start", "at": 60}


def test_the_infusion_starts_the_nibp_program_as_a_recorded_command() -> None:
    records = run("steady", 700, START)
    commands = [(r["t"], r["name"], r["args"]) for r in records if r["type"] == "command"]
    assert commands == [
        (60.0, "mark_event", {"kind": "infusion_start"}),
        (60.0, "nibp_program", {"on": True, "cause": "infusion_start"}),
    ]
    readings = [r["t"] for r in records if r["type"] == "nibp" and r["status"] == "ok"]
    assert len(readings) == 2 and 300 <= readings[0] < 360  # every 5 min, on the clock
    assert onsets(records, "NIBP_OVERDUE") == []


def test_nibp_overdue_when_the_nurse_turns_the_program_off_and_none_was_ever_taken() -> None:
    off = {"cmd": "nibp_program", "on": False, "at": 61}
    records = run("steady", OVERDUE_S + 120, START, off)
    assert not [r for r in records if r["type"] == "nibp"]
    assert onsets(records, "NIBP_OVERDUE") == [60 + OVERDUE_S]
    alarm = next(r for r in records if r["type"] == "alarm" and r["id"] == "NIBP_OVERDUE")
    assert alarm["priority"] == "medium"


def test_nibp_overdue_counts_from_the_last_good_reading() -> None:
    # One reading at about 34 s, then the program is turned off during the infusion.
    records = run(
        "steady", OVERDUE_S + 120, {"cmd": "nibp_start", "at": 0}, START,
        {"cmd": "nibp_program", "on": False, "at": 61},
    )  # fmt: skip
    reading = next(r["t"] for r in records if r["type"] == "nibp" and r["status"] == "ok")
    assert onsets(records, "NIBP_OVERDUE") == [reading + OVERDUE_S]


def test_no_overdue_before_the_infusion() -> None:
    records = run("steady", OVERDUE_S + 60)
    assert onsets(records, "NIBP_OVERDUE") == []


def test_nibp_no_baseline_and_its_absence_with_a_complete_baseline() -> None:
    records = run("steady", 120, START)
    assert onsets(records, "NIBP_NO_BASELINE") == [60.0]
    baseline = run(
        "steady", 480, {"cmd": "nibp_start", "at": 0}, {"cmd": "nibp_start", "at": 330},
        {"cmd": "mark_event", "kind": "infusion_start", "at": 420},
    )  # fmt: skip
    assert len([r for r in baseline if r["type"] == "nibp" and r["status"] == "ok"]) == 2
    assert onsets(baseline, "NIBP_NO_BASELINE") == []
    phase = next(r for r in baseline if r["type"] == "event" and r["kind"] == "phase")
    assert phase["baseline_complete"] is True


def test_nibp_stale_when_there_never_was_a_reading() -> None:
    records = run("steady", STALE_S + 30)
    (t,) = onsets(records, "NIBP_STALE")
    assert STALE_S <= t <= STALE_S + 2


def test_an_idle_nibp_module_that_goes_silent_is_noticed_within_40_s(tmp_path) -> None:
    silent = scenario(tmp_path, "[[timeline]]\nat_s = 31\nnibp_silent = true\n")
    records = run(silent, 120)
    (t,) = onsets(records, "NIBP_COMM_LOST")
    assert 31 < t <= 31 + 40
    assert not [r for r in records if r["type"] == "nibp"]  # no measurement was asked for


def test_resp_comm_lost_and_back_without_a_false_apnea(tmp_path) -> None:
    text = (
        "[[timeline]]\nat_s = 30\nresp_silent = true\n"
        "[[timeline]]\nat_s = 90\nresp_silent = false\n"
    )
    records = run(scenario(tmp_path, text), 150)
    (t,) = onsets(records, "RESP_COMM_LOST")
    assert 30 < t <= 30 + RESP_SILENCE_S
    ends = [r["t"] for r in records if r["type"] == "alarm" and r["id"] == "RESP_COMM_LOST"
            and r["state"] == "end"]  # fmt: skip
    assert len(ends) == 1 and 90 <= ends[0] <= 92
    alarm = next(r for r in records if r["type"] == "alarm" and r["id"] == "RESP_COMM_LOST")
    assert alarm["priority"] == "medium"
    assert onsets(records, "RR_LOW_CRITICAL") == []  # breaths missed in the gap are no apnea


def test_no_breathing_source_is_not_monitored_not_missing(tmp_path) -> None:
    none = scenario(tmp_path, "[devices]\nresp = false\ncapno = false\n")
    numerics = [r for r in run(none, 5) if r["type"] == "numerics"]
    assert numerics and all(r["rr"] is None for r in numerics)
    assert {r["rr_state"] for r in numerics} == {"not_monitored"}
    resp_only = scenario(tmp_path, "[devices]\ncapno = false\n")
    with_resp = [r for r in run(resp_only, 5) if r["type"] == "numerics"]
    assert {r["rr_state"] for r in with_resp[2:]} == {"valid"}


def test_replay_equals_live_with_the_program_started_by_the_infusion(tmp_path) -> None:
    """The follow-up command is recorded once and replayed from the log, not given again;
    the idle status checks meet the recorded answers at the same data times."""
    path = tmp_path / "s.vitalmon"
    stdin = json.dumps(START) + "\n" + json.dumps({"cmd": "nibp_stop", "at": 400})
    live = run_vitalmon(
        "run", "--sim", "steady", "--headless", "--speed", "max", "--duration", "700",
        "--commands", "-", "--record", str(path), input=stdin + "\n",
    )  # fmt: skip
    assert live.returncode == 0, live.stderr
    replay = run_vitalmon("replay", str(path), "--headless", "--speed", "max")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout
    programs = [r for r in json_lines(live.stdout) if r.get("name") == "nibp_program"]
    assert len(programs) == 1


def test_a_recording_keeps_its_nibp_settings_and_an_older_one_replays_without_checks() -> None:
    from monitor.config import PipelineConfig, build_pipeline

    config = PipelineConfig.of({"oximeter": "nonin2", "nibp": "suntech"})
    again = PipelineConfig.from_json(json.loads(json.dumps(config.to_json())))
    assert again.nibp == config.nibp and again.nibp_settings().status_check_s == 30
    older = config.to_json()
    del older["nibp"]  # a session recorded before the config kept it: no idle checks then
    settings = PipelineConfig.from_json(older).nibp_settings()
    assert settings.status_check_s == float("inf")
    assert not settings.program_starts_with_infusion
    pipeline = build_pipeline(PipelineConfig.from_json(older))
    assert pipeline.channels["nibp"].driver.status_check_s == float("inf")
