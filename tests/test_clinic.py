"""`vitalmon clinic`: several simulated bedsides in one process, to a real Mosquitto,
read by the real `vitalmon central --headless`."""

from __future__ import annotations

import time

import pytest

from tests.conftest import json_lines, run_vitalmon
from tests.faulthelp import HeadlessMonitor
from tests.mqtt_broker import USERS


def alarm_key(record: dict) -> tuple:
    return (record["chair"], record["id"], record["state"], record["t"])


def test_three_chairs_reach_the_central(mosquitto, tmp_path) -> None:
    central_pw = tmp_path / "central.pw"
    central_pw.write_text(USERS["central"] + "\n")
    central = HeadlessMonitor(
        mosquitto.url("central"), "--password-file", str(central_pw), command="central"
    )
    try:
        time.sleep(1.0)  # subscribed
        out = run_vitalmon(
            "clinic", "--chairs", "3", "--publish", mosquitto.url(),
            "--speed", "10", "--duration", "60",
            env={"PATH": "/usr/bin:/bin", "VITALMON_MQTT_PASSWORD": USERS["bedside"]},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        for chair in ("chair-01", "chair-02", "chair-03"):
            central.wait_for(
                lambda r, c=chair: (
                    r.get("type") == "status" and r["chair"] == c and r["state"] == "closed"
                ),
                10,
            )
    finally:
        central.stop()
    printed = [r for r in json_lines(out.stdout) if r["type"] == "alarm"]
    got = [r for r in central.all() if r["type"] == "alarm" and r["id"] != "CHAIR_OFFLINE"]
    for chair in ("chair-01", "chair-02", "chair-03"):
        mine = [r for r in got if r["chair"] == chair]
        assert [alarm_key(r) for r in mine] == [
            alarm_key(r) for r in printed if r["chair"] == chair
        ]
        assert [r["seq"] for r in mine] == list(range(1, len(mine) + 1))
    ids = {
        chair: {r["id"] for r in got if r["chair"] == chair} for chair in ("chair-01", "chair-02")
    }
    assert "SPO2_PROBE_OFF" in ids["chair-01"]  # probe-off
    assert "SPO2_LOW" in ids["chair-02"]  # desaturation: a different scenario
    numerics = {r["chair"] for r in central.all() if r["type"] == "numerics"}
    assert numerics == {"chair-01", "chair-02", "chair-03"}


def test_wrong_password_is_said_once(mosquitto) -> None:
    out = run_vitalmon(
        "clinic", "--chairs", "4", "--publish", mosquitto.url(), "--duration", "20",
        env={"PATH": "/usr/bin:/bin", "VITALMON_MQTT_PASSWORD": "wrong"}, timeout=30,
    )  # fmt: skip
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused user 'bedside'" in lines[0], out.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--chairs", "0"], "argument --chairs: must be 1-64, not 0"),
        (["--chairs", "two"], "not a whole number of chairs"),
        (["--chairs", "2"], "--publish"),
        (["--publish", "mqtt://u@h:1/c"], "--chairs"),
        (["--chairs", "2", "--publish", "mqtt://u@h:1/c", "--speed", "max"], "not max"),
        (["--chairs", "2", "--publish", "mqtt://u@h:1/c", "--first-chair", "64"], "last may be 64"),
        (["--chairs", "2", "--publish", "mqtt://u:pw@h:1/c"], "no password in the URL"),
        (["--chairs", "2", "--publish", "mqtt://u@h:1/c", "--ca", "x.pem"], "--ca goes with"),
    ],
)
def test_bad_clinic_arguments(args: list[str], needle: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "VITALMON_MQTT_PASSWORD": "x"}
    out = run_vitalmon("clinic", "--duration", "1", *args, env=env, timeout=30)
    assert out.returncode != 0
    assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_no_password_anywhere() -> None:
    out = run_vitalmon(
        "clinic", "--chairs", "2", "--publish", "mqtt://u@127.0.0.1:1/c",
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 1 and "VITALMON_MQTT_PASSWORD" in out.stderr
