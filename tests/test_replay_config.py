"""Replay rebuilds the very pipeline that was recorded, from the config the recording
keeps whole (monitor/config.py): a non-default preset, a user's own preset file (gone
by replay time), limits changed during the run, an NIBP program. Each replay equals
the live run line for line; a recording whose config does not fit is one line."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import run_vitalmon


def _live_and_replay(tmp_path, *run_args: str) -> tuple[list[str], list[str]]:
    session = tmp_path / "s.vitalmon"
    argv = ["run", "--headless", "--speed", "max", "--record", str(session), *run_args]
    live = run_vitalmon(*argv, timeout=120)
    assert live.returncode == 0, live.stderr
    replay = run_vitalmon("replay", str(session), "--headless", "--speed", "max", timeout=120)
    assert replay.returncode == 0, replay.stderr
    return live.stdout.splitlines(), replay.stdout.splitlines()


def _onset(lines: list[str], alarm_id: str) -> float:
    for line in lines:
        record = json.loads(line)
        if record["type"] == "alarm" and record["id"] == alarm_id and record["state"] == "onset":
            return float(record["t"])
    raise AssertionError(f"no {alarm_id} onset")


def test_a_satseconds_preset_replays_as_it_ran(tmp_path) -> None:
    live, replay = _live_and_replay(
        tmp_path,
        "--sim",
        "desaturation",
        "--preset",
        "ketamine-adult-satseconds",
        "--duration",
        "300",
    )
    assert replay == live
    # SatSeconds, not the default preset's 15 s delay (the replay said 47 s, live 43 s).
    assert _onset(replay, "SPO2_LOW") == 43.0


def test_a_users_preset_file_replays_after_the_file_is_gone(tmp_path) -> None:
    preset = tmp_path / "mine.toml"
    preset.write_text(
        'name = "mine"\nbase = "ketamine-adult"\n\n'
        '[[alarm]]\nid = "SPO2_LOW"\nthreshold = 93\ndelay_s = 5\n'
    )
    session = tmp_path / "s.vitalmon"
    argv = ["run", "--headless", "--speed", "max", "--record", str(session)]
    live = run_vitalmon(
        *argv, "--sim", "desaturation", "--preset", str(preset), "--duration", "200", timeout=120
    )
    assert live.returncode == 0, live.stderr
    preset.unlink()
    replay = run_vitalmon("replay", str(session), "--headless", "--speed", "max", timeout=120)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.splitlines() == live.stdout.splitlines()
    default = run_vitalmon(*argv[:-2], "--sim", "desaturation", "--duration", "200")
    assert _onset(live.stdout.splitlines(), "SPO2_LOW") < _onset(
        default.stdout.splitlines(), "SPO2_LOW"
    )  # the user's limit (93 %, 5 s) did take effect


def test_limits_changed_during_the_run_replay_the_same(tmp_path) -> None:
    commands = tmp_path / "cmds.jsonl"
    commands.write_text(
        "\n".join(
            json.dumps(c)
            for c in (
                {"cmd": "set_limit", "alarm_id": "SPO2_LOW", "satseconds": 10, "at": 20},
                {"cmd": "set_limit", "alarm_id": "PR_HIGH", "threshold": 100, "at": 30},
                {"cmd": "set_limit", "alarm_id": "SPO2_LOW", "satseconds": 100, "at": 150},
            )
        )
        + "\n"
    )
    live, replay = _live_and_replay(
        tmp_path,
        "--sim",
        "desaturation",
        "--preset",
        "ketamine-adult-satseconds",
        "--commands",
        str(commands),
        "--duration",
        "300",
    )
    assert replay == live
    assert sum('"limit_changed"' in line for line in live) == 3


def test_an_nibp_program_replays_the_same(tmp_path) -> None:
    live, replay = _live_and_replay(
        tmp_path, "--sim", "infusion", "--nibp-interval", "2", "--duration", "600"
    )
    assert replay == live
    assert sum('"type": "nibp"' in line for line in live) >= 2


@pytest.mark.parametrize(
    "config",
    [
        "5",
        '{"protocols": {"oximeter": 5}, "preset": {}}',
        '{"protocols": {"oximeter": "nonin2"}, "preset": "x"}',
        '{"protocols": {"oximeter": "nonin2"}, "preset": {"name": "x"}}',
        '{"protocols": {"oximeter": "nonin2"}, "preset": {}, "commands": [{"name": "x"}]}',
    ],
)
def test_a_recorded_config_that_does_not_fit_is_one_line(tmp_path, config) -> None:
    session = tmp_path / "s.vitalmon"
    made = run_vitalmon(
        "run",
        "--sim",
        "steady",
        "--headless",
        "--speed",
        "max",
        "--duration",
        "5",
        "--record",
        str(session),
    )
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(session) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (config,))
    replay = run_vitalmon("replay", str(session), "--headless", "--speed", "max")
    assert replay.returncode == 1
    assert replay.stderr.count("\n") == 1 and "config" in replay.stderr
    assert "Traceback" not in replay.stderr


def test_break_through_and_the_acknowledge_timeout_replay_the_same(tmp_path) -> None:
    """Timed by data time alone (the engine's `next_due` says when the timeout falls
    due, tested in test_alarm_engine.py), so the replay prints the same lines."""
    commands = tmp_path / "cmds.jsonl"
    commands.write_text(
        '{"cmd": "acknowledge", "id": "RR_LOW_CRITICAL", "at": 36.3}\n'
        '{"cmd": "pause_audio", "duration_s": 60, "at": 40}\n'
    )
    live, replay = _live_and_replay(
        tmp_path, "--sim", "apnea", "--commands", str(commands), "--duration", "240"
    )
    assert replay == live
    assert any('"reason": "ack_timeout"' in line for line in live)
    assert any('"break_through": true' in line for line in live)
