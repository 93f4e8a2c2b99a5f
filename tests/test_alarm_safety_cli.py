"""Issue 15 through the real CLI: settings refused with their range, break-through, re-sound.

`vitalmon run --sim SCENARIO --headless --speed max --commands -` with scripted JSON
command lines, as a clinical engineer tries it (docs/clinical.md "Setting ranges",
"Alarm behaviour").
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import json_lines, run_vitalmon


def scripted(scenario: str, duration: int, *commands: dict, preset: str | None = None):
    stdin = "".join(json.dumps(c) + "\n" for c in commands)
    extra = ["--preset", preset] if preset else []
    result = run_vitalmon(
        "run",
        "--sim",
        scenario,
        "--headless",
        "--speed",
        "max",
        "--duration",
        str(duration),
        "--commands",
        "-",
        *extra,
        input=stdin,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json_lines(result.stdout)


# What the issue found accepted without a word, each refused naming the range or rule.
REFUSED = [
    ({"alarm_id": "SPO2_LOW_CRITICAL", "threshold": 0}, "outside its range 80-90 %"),
    ({"alarm_id": "SPO2_LOW_CRITICAL", "enabled": False}, "may not be switched off"),
    ({"alarm_id": "OXIMETER_COMM_LOST", "enabled": False}, "can never be switched off"),
    ({"alarm_id": "SPO2_PROBE_OFF", "enabled": False}, "can never be switched off"),
    ({"alarm_id": "RR_LOW_CRITICAL", "threshold": -5}, "outside its range 4-8 /min"),
    ({"alarm_id": "PR_LOW", "delay_s": 100000}, "outside 0-30 s"),
    ({"alarm_id": "SPO2_LOW_CRITICAL", "delay_s": 11}, "outside 0-10 s"),
    ({"alarm_id": "SPO2_LOW_CRITICAL", "threshold": 91}, "outside its range 80-90 %"),
    ({"alarm_id": "SPO2_LOW_CRITICAL", "threshold": 90}, "must stay below SpO2 low (SPO2_LOW)"),
    ({"alarm_id": "RR_LOW_CRITICAL", "apnea_s": 100}, "apnea time 100 s is outside"),
]


def test_each_refused_setting_is_an_error_record_and_the_alarm_still_comes() -> None:
    commands = [{"cmd": "set_limit", "at": 1 + i, **args} for i, (args, _) in enumerate(REFUSED)]
    # NaN and infinity arrive as JSON's NaN / Infinity
    nan_line = '{"cmd": "set_limit", "alarm_id": "SPO2_LOW", "threshold": NaN, "at": 20}\n'
    inf_line = '{"cmd": "set_limit", "alarm_id": "SPO2_LOW", "threshold": Infinity, "at": 21}\n'
    stdin = "".join(json.dumps(c) + "\n" for c in commands) + nan_line + inf_line
    result = run_vitalmon(
        "run", "--sim", "desaturation", "--headless", "--speed", "max", "--duration", "120",
        "--commands", "-", input=stdin,
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    records = json_lines(result.stdout)
    errors = [r for r in records if r["type"] == "error"]
    assert len(errors) == len(REFUSED) + 2
    for error, (args, needle) in zip(errors, REFUSED, strict=False):
        assert error["command"] == "set_limit" and needle in error["message"], (args, error)
    assert all("must be a number" in e["message"] for e in errors[-2:])
    assert all("SPO2_LOW: limit 85-95 %" in e["message"] for e in errors[-2:])  # the range
    assert not [r for r in records if r["type"] == "command"]  # nothing was applied
    assert not [r for r in records if r.get("state") in ("disabled", "limit_changed")]
    onsets = [r["id"] for r in records if r["type"] == "alarm" and r["state"] == "onset"]
    assert "SPO2_LOW_CRITICAL" in onsets  # the desaturation to ~80 % still alarms


def test_a_preset_file_outside_the_ranges_is_one_line_at_start_up(tmp_path) -> None:
    cases = {
        'id = "SPO2_LOW_CRITICAL"\nthreshold = 0': "outside its range 80-90 %",
        'id = "SPO2_LOW"\nkind = "technical"': "SPO2_LOW must stay physiological",
        'id = "OXIMETER_COMM_LOST"\nenabled = false': "can never be switched off",
        'id = "PR_HIGH"\nhysteresis = 100': "wider than its range",
        'id = "PR_HIGH"\nthreshold = nan': "finite number",
    }
    for i, (alarm, needle) in enumerate(cases.items()):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(f'name = "bad"\nbase = "ketamine-adult"\n[[alarm]]\n{alarm}\n')
        result = run_vitalmon(
            "run", "--sim", "steady", "--headless", "--speed", "max", "--duration", "2",
            "--preset", str(path),
        )  # fmt: skip
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and result.stdout == ""
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in lines[0], lines


def test_a_preset_file_inside_the_ranges_runs_with_its_settings(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\nbase = "ketamine-adult"\n'
        '[[alarm]]\nid = "SPO2_LOW"\nthreshold = 92\nenabled = false\n'
    )
    records = scripted(
        "desaturation",
        120,
        {"cmd": "set_limit", "alarm_id": "SPO2_LOW", "enabled": True, "at": 100},
        preset=str(path),
    )
    onsets = [
        (r["t"], r["id"])
        for r in records
        if r["type"] == "alarm" and r["state"] == "onset" and r["kind"] == "physiological"
    ]
    assert [i for _, i in onsets] == ["SPO2_LOW_CRITICAL", "SPO2_LOW"]
    assert onsets[1][0] >= 100  # SPO2_LOW was off until switched on


def test_a_new_high_alarm_breaks_through_an_audio_pause_whatever_sounds() -> None:
    """The issue's apnea run: RR_LOW_CRITICAL (high; apnea on the capnograph from 35 s)
    sounding when the pause began; SPO2_LOW_CRITICAL (high, new) sounds at once;
    SPO2_LOW (medium, new) waits."""
    records = scripted("apnea", 170, {"cmd": "pause_audio", "at": 40})
    alarms = {(r["id"], r["state"]): r for r in records if r["type"] == "alarm"}
    assert alarms[("RR_LOW_CRITICAL", "onset")]["t"] < 40
    critical = alarms[("SPO2_LOW_CRITICAL", "onset")]
    assert 40 < critical["t"] < 160
    assert critical["break_through"] is True and critical["inactivation"] == "audio_paused"
    medium = alarms[("SPO2_LOW", "onset")]
    assert "break_through" not in medium and medium["inactivation"] == "audio_paused"
    resound = alarms[("SPO2_LOW", "resound")]
    assert (resound["t"], resound["reason"]) == (160.0, "pause_end")


@pytest.mark.parametrize(("ack_at", "resound_at"), [(40, 160), (110, 230)])
def test_an_acknowledged_high_alarm_resounds_after_the_ack_timeout(ack_at, resound_at) -> None:
    """Apnea (no breath for 30 s) from 35 s to ~220 s: RR_LOW_CRITICAL acknowledged sounds
    again 120 s later
    while it lasts; one acknowledged too late for that ends without re-sounding."""
    records = scripted("apnea", 240, {"cmd": "acknowledge", "id": "RR_LOW_CRITICAL", "at": ack_at})
    states = [
        (r["t"], r["state"], r.get("reason"))
        for r in records
        if r["type"] == "alarm" and r["id"] == "RR_LOW_CRITICAL"
    ]
    assert (float(ack_at), "acknowledged", None) in states
    resounds = [s for s in states if s[1] == "resound"]
    end = next(t for t, s, _ in states if s == "end")
    if resound_at < end:
        assert resounds == [(float(resound_at), "resound", "ack_timeout")]
    else:
        assert resounds == []


def test_an_acknowledged_medium_alarm_stays_silent_while_it_lasts() -> None:
    records = scripted("apnea", 215, {"cmd": "acknowledge", "id": "SPO2_LOW", "at": 70})
    states = [r["state"] for r in records if r["type"] == "alarm" and r["id"] == "SPO2_LOW"]
    assert states == ["onset", "acknowledged"]


@pytest.mark.parametrize(
    ("scenario", "alarm_id", "duration"),
    [("comm-loss", "OXIMETER_COMM_LOST", 80), ("probe-off", "SPO2_PROBE_OFF", 90)],
)
def test_a_technical_alarm_a_nurse_tried_to_switch_off_still_comes(
    scenario: str, alarm_id: str, duration: int
) -> None:
    """The issue's 140 s communication loss and 4-minute probe-off that raised nothing."""
    records = scripted(
        scenario, duration, {"cmd": "set_limit", "alarm_id": alarm_id, "enabled": False, "at": 5}
    )
    (error,) = [r for r in records if r["type"] == "error"]
    assert "can never be switched off" in error["message"]
    onsets = [r["id"] for r in records if r["type"] == "alarm" and r["state"] == "onset"]
    assert alarm_id in onsets
