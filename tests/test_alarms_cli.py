"""Alarms and commands end to end: `vitalmon run --headless` on scenarios that provoke them."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import DATA, json_lines, run_vitalmon, vitalmon_cmd

EPISODES = str(DATA / "alarms-episodes.toml")
EPISODES_S = "480"
# The alarms the episodes scenario provokes, in order; the deep desaturation
# raises SPO2_LOW_CRITICAL and SPO2_LOW in an order that depends on the physiology.
FIRST = [("SPO2_LOW", "onset"), ("SPO2_LOW", "end"), ("PR_HIGH", "onset"), ("PR_HIGH", "end")]
LAST = {
    ("SPO2_LOW_CRITICAL", "onset"),
    ("SPO2_LOW", "onset"),
    ("SPO2_LOW_CRITICAL", "end"),
    ("SPO2_LOW", "end"),
}
# id: (numerics field, is the value beyond the limit, is it back by the hysteresis)
RULES = {
    "SPO2_LOW": ("spo2", lambda v: v < 90, lambda v: v >= 91),
    "SPO2_LOW_CRITICAL": ("spo2", lambda v: v <= 85, lambda v: v > 86),
    "PR_HIGH": ("pr", lambda v: v > 120, lambda v: v <= 118),
}
DELAYS = {"SPO2_LOW": 15, "SPO2_LOW_CRITICAL": 0, "PR_HIGH": 10}


def run_headless(*args: str, stdin: str | None = None):
    return run_vitalmon("run", "--headless", "--speed", "max", *args, input=stdin)


def alarm_lines(stdout: str) -> list[dict]:
    return [r for r in json_lines(stdout) if r["type"] == "alarm"]


def without_wall(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "wall"} for r in records]


def test_steady_run_raises_no_alarm() -> None:
    result = run_headless("--sim", "steady", "--duration", "600")
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert len([r for r in records if r["type"] == "numerics"]) == 600
    # The CO2 module's warm-up is the only alarm: a few seconds, at the start.
    alarms = [(r["t"], r["id"], r["state"]) for r in records if r["type"] == "alarm"]
    assert [a[1:] for a in alarms] == [("CO2_WARMUP", "onset"), ("CO2_WARMUP", "end")]
    assert alarms[0][0] <= 2.0 and alarms[1][0] <= 6.0


def test_episodes_scenario_raises_its_alarms_in_data_time() -> None:
    """Checked against the numerics the run printed, whatever the simulator's physiology."""
    result = run_headless("--sim", EPISODES, "--duration", EPISODES_S)
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    alarms = [r for r in records if r["type"] == "alarm"]
    got = [(r["id"], r["state"]) for r in alarms]
    assert got[:4] == FIRST and set(got[4:]) == LAST and len(got) == 8, got
    values = {r["t"]: r for r in records if r["type"] == "numerics"}
    for alarm in alarms:
        field, beyond, back = RULES[alarm["id"]]
        t = alarm["t"]
        if alarm["state"] == "onset":
            start = t - DELAYS[alarm["id"]]
            assert beyond(values[start][field]), (alarm, values[start])
            held = [values[s][field] for s in range(int(start), int(t) + 1)]
            assert not any(back(v) for v in held), (alarm, held)  # held for the whole delay
            before = values.get(start - 1)
            assert before is None or not beyond(before[field]), (alarm, before)  # not later
        else:
            assert back(values[t][field]), (alarm, values[t])
    latched = [r for r in alarms if r["id"] == "SPO2_LOW_CRITICAL"][-1]
    assert latched["state"] == "end" and latched["latched"] is True and "wall" in latched


def test_satseconds_preset_alarms_sooner_on_a_deep_dip() -> None:
    def deep_onset(*preset: str) -> float:
        result = run_headless("--sim", EPISODES, "--duration", "400", *preset)
        assert result.returncode == 0, result.stderr
        onsets = [
            r["t"]
            for r in alarm_lines(result.stdout)
            if r["state"] == "onset" and r["id"] == "SPO2_LOW" and r["t"] >= 300
        ]
        return onsets[0]

    # Far below the limit the integral reaches 25 in a few seconds, not 15.
    assert deep_onset("--preset", "ketamine-adult-satseconds") < deep_onset()


SCRIPT = [
    {"cmd": "session_setup", "patient_id": "QA-1", "weight_kg": 70, "at": 1},
    {"cmd": "mark_event", "kind": "note", "text": "start", "at": 2.5},
    {"cmd": "mark_event", "kind": "infusion_start", "dose_mg_per_kg_h": 0.5, "at": 30},
    {"cmd": "pause_audio", "at": 140},
    {"cmd": "set_limit", "alarm_id": "PR_HIGH", "threshold": 125, "at": 150},
    {"cmd": "set_limit", "alarm_id": "PR_HIGH", "threshold": "high", "at": 151},
    {"cmd": "acknowledge", "at": 460},
]


def scripted_run():
    lines = [json.dumps(c) for c in SCRIPT]
    lines.insert(2, "this is not json")
    lines.insert(4, json.dumps({"cmd": "frobnicate"}))
    return run_headless(
        "--sim",
        EPISODES,
        "--duration",
        EPISODES_S,
        "--commands",
        "-",
        stdin="\n".join(lines) + "\n",
    )


def test_scripted_commands_apply_at_their_data_time_and_show_in_the_output() -> None:
    result = scripted_run()
    assert result.returncode == 0, result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2
    assert "line 3: not JSON" in errors[0]
    assert "line 5: unknown command 'frobnicate'" in errors[1]
    records = json_lines(result.stdout)
    commands = [(r["t"], r["name"]) for r in records if r["type"] == "command"]
    assert commands == [
        (1.0, "session_setup"),
        (2.5, "mark_event"),
        (30.0, "mark_event"),
        (30.0, "nibp_program"),  # the infusion starts the NIBP program
        (140.0, "pause_audio"),
        (150.0, "set_limit"),
        (460.0, "acknowledge"),
    ]
    (error,) = [r for r in records if r["type"] == "error"]
    assert (error["t"], error["command"]) == (151.0, "set_limit")
    events = [(r["t"], r["kind"]) for r in records if r["type"] == "event"]
    assert events == [
        (1.0, "session_setup"),
        (2.5, "note"),
        (30.0, "infusion_start"),
        (30.0, "phase"),
        (300.0, "nibp"),  # the program's first reading starts on the 5-minute slot
    ]
    states = [(r["t"], r["id"], r["state"]) for r in records if r["type"] == "alarm"]
    assert (140.0, "INACTIVATION", "audio_paused") in states
    assert (140.0, "SPO2_LOW", "paused") in states
    assert (150.0, "PR_HIGH", "limit_changed") in states
    assert (460.0, "SPO2_LOW_CRITICAL", "acknowledged") in states
    # The command record follows what it caused, at the same data time.
    index = records.index(next(r for r in records if r["type"] == "command" and r["t"] == 140.0))
    assert records[index - 1]["id"] == "SPO2_LOW" and records[index - 1]["state"] == "paused"


def test_the_same_scripted_run_twice_gives_the_same_alarm_log() -> None:
    first, second = scripted_run(), scripted_run()
    keep = ("alarm", "event", "command", "error")

    def log(stdout: str) -> list[dict]:
        return without_wall([r for r in json_lines(stdout) if r["type"] in keep])

    assert log(first.stdout) == log(second.stdout)
    assert len(alarm_lines(first.stdout)) >= 10


def test_commands_from_a_file(tmp_path) -> None:
    path = tmp_path / "script.jsonl"
    path.write_text('{"cmd": "mark_event", "kind": "note", "text": "from a file", "at": 3}\n')
    result = run_headless("--sim", "steady", "--duration", "5", "--commands", str(path))
    assert result.returncode == 0, result.stderr
    (note,) = [r for r in json_lines(result.stdout) if r["type"] == "event" and r["kind"] == "note"]
    assert (note["t"], note["text"]) == (3.0, "from a file")


def test_bad_preset_and_missing_commands_file_are_one_line_errors(tmp_path) -> None:
    for args, needle in (
        (["--preset", "nope"], "unknown alarm preset 'nope'"),
        (["--commands", str(tmp_path / "missing.jsonl")], "cannot read commands file"),
    ):
        result = run_headless("--sim", "steady", "--duration", "2", *args)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], result.stderr


def test_live_commands_apply_as_they_arrive() -> None:
    """At a paced speed stdin is read on its own thread while the run goes on."""
    proc = subprocess.Popen(
        vitalmon_cmd(
            "run",
            "--sim",
            "steady",
            "--headless",
            "--speed",
            "20",
            "--duration",
            "40",
            "--commands",
            "-",
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    seen = 0
    for line in proc.stdout:  # wait until the run is under way
        seen += json.loads(line)["type"] == "numerics"
        if seen == 3:
            break
    proc.stdin.write('{"cmd": "pause_audio"}\n{"cmd": "mark_event", "kind": "note"}\n')
    proc.stdin.flush()
    proc.stdin.close()
    out = proc.stdout.read()
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.wait(timeout=30) == 0
    records = json_lines(out)
    (command,) = [r for r in records if r["type"] == "command"]
    assert command["name"] == "pause_audio" and command["t"] >= 3.0
    (error,) = [r for r in records if r["type"] == "error"]
    assert "missing 'text'" in error["message"]
    assert err == ""
