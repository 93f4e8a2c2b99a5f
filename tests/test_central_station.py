"""`vitalmon central --headless` against a real Mosquitto, with real bedsides publishing."""

from __future__ import annotations

import json
import time

import pytest

from monitor.net.central import CentralModel
from tests.conftest import run_vitalmon
from tests.faulthelp import HeadlessMonitor
from tests.mqtt_broker import USERS


@pytest.fixture
def passwords(monkeypatch):
    # One variable serves both here: the broker's users share a password in these tests.
    monkeypatch.setenv("VITALMON_MQTT_PASSWORD", USERS["bedside"])


def central_of(broker, password_file) -> HeadlessMonitor:
    return HeadlessMonitor(
        broker.url("central"), "--password-file", str(password_file), command="central"
    )


@pytest.fixture
def central_password(tmp_path):
    path = tmp_path / "central.pw"
    path.write_text(USERS["central"] + "\n")
    return path


def test_alarms_reach_the_central_once_each_with_chair_and_received(
    mosquitto, passwords, central_password
) -> None:
    central = central_of(mosquitto, central_password)
    try:
        time.sleep(1.0)  # subscribed
        out = run_vitalmon(
            "run",
            "--sim",
            "probe-off",
            "--speed",
            "40",
            "--duration",
            "40",
            "--headless",
            "--publish",
            mosquitto.url(),
            "--chair",
            "c1",
        )
        assert out.returncode == 0, out.stderr
        central.wait_for(lambda r: r.get("type") == "status" and r["state"] == "closed", 10)
    finally:
        central.stop()
    got = central.all()
    alarms = [r for r in got if r["type"] == "alarm" and r["id"] != "CHAIR_OFFLINE"]
    assert alarms and all(r["chair"] == "c1" and r["received"] for r in alarms)
    assert [r["seq"] for r in alarms] == list(range(1, len(alarms) + 1))
    assert any(r["type"] == "numerics" and r["t"] == 40.0 for r in got)
    # a goodbye ends the session: no CHAIR_OFFLINE at the desk for it (a kill -9 raises it,
    # below)
    assert not [r for r in got if r.get("id") == "CHAIR_OFFLINE"]


def test_a_bedside_killed_is_chair_offline(mosquitto, passwords, central_password) -> None:
    central = central_of(mosquitto, central_password)
    bedside = HeadlessMonitor("--sim", "steady", "--publish", mosquitto.url(), "--chair", "c2")
    try:
        central.wait_for(lambda r: r["type"] == "numerics" and r.get("chair") == "c2", 15)
        bedside.proc.kill()
        killed = time.monotonic()
        arrived, record = central.wait_for(
            lambda r: r.get("id") == "CHAIR_OFFLINE" and r["state"] == "onset", 10
        )
    finally:
        bedside.stop()
        central.stop()
    assert record["chair"] == "c2" and record["priority"] == "high" and arrived - killed < 5.0
    print(f"\nCHAIR_OFFLINE {arrived - killed:.2f} s after kill -9 of the bedside")


def test_a_silent_chair_goes_offline_after_5_s() -> None:
    model = CentralModel("test", start=0.0)
    got = model.on_message("vitalmon/test/c3/numerics", b'{"type": "numerics", "t": 1}', 0, "w")
    assert got[0]["chair"] == "c3"
    assert model.tick(4.9, "w") == []
    onset = model.tick(5.0, "w")
    assert onset[0]["id"] == "CHAIR_OFFLINE" and onset[0]["state"] == "onset"
    back = model.on_message("vitalmon/test/c3/numerics", b'{"type": "numerics", "t": 7}', 7, "w")
    assert [r.get("state") for r in back] == ["end", None]


def test_a_resent_alarm_is_shown_once() -> None:
    model = CentralModel("test", start=0.0)
    alarm = b'{"type": "alarm", "t": 3, "id": "PR_HIGH", "state": "onset", "seq": 1}'
    assert len(model.on_message("vitalmon/test/c1/alarms", alarm, 0, "w")) == 1
    assert model.on_message("vitalmon/test/c1/alarms", alarm, 0, "w") == []
    assert model.duplicates == 1


def test_wrong_password_at_the_central(mosquitto, tmp_path) -> None:
    bad = tmp_path / "bad.pw"
    bad.write_text("nope\n")
    out = run_vitalmon(
        "central", mosquitto.url("central"), "--headless", "--password-file", str(bad), timeout=20
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"vitalmon: broker {mosquitto.url('central')} refused user 'central': Not authorized"
    ]


def alarm_json(seq: int, run_t: float = 3.0) -> dict:
    return {"type": "alarm", "t": run_t + seq, "id": "PR_HIGH", "state": "onset", "seq": seq}


def test_missed_alarms_are_filled_from_recent_in_seq_order() -> None:
    """A central that reconnected after the bedside's backlog reads the retained `recent`
    list: what it missed, in `seq` order, and nothing it has already shown."""
    model = CentralModel("test", start=0.0)
    status = {"state": "online", "run": "r1", "phase": "pre-infusion"}
    model.on_message("vitalmon/test/c1/status", json.dumps(status).encode(), 0, "w")
    model.on_message("vitalmon/test/c1/alarms", json.dumps(alarm_json(1)).encode(), 0, "w")
    recent = {"run": "r1", "alarms": [alarm_json(3), alarm_json(1), alarm_json(2)]}
    got = model.on_message("vitalmon/test/c1/recent", json.dumps(recent).encode(), 1, "w")
    assert [r["seq"] for r in got] == [2, 3] and got[0]["chair"] == "c1"
    assert model.on_message("vitalmon/test/c1/recent", json.dumps(recent).encode(), 2, "w") == []


def test_a_restarted_bedside_numbers_from_1_again() -> None:
    """A new `run` in the chair's status: seq 1 is a new alarm, not a resend."""
    model = CentralModel("test", start=0.0)
    alarm = json.dumps(alarm_json(1)).encode()
    for run in ("r1", "r2"):
        status = json.dumps({"state": "online", "run": run}).encode()
        model.on_message("vitalmon/test/c1/status", status, 0, "w")
        assert len(model.on_message("vitalmon/test/c1/alarms", alarm, 0, "w")) == 1
    assert model.duplicates == 0
