"""The bedside publishing to a real Mosquitto (`vitalmon run --publish`), end to end.

Each test runs the real `vitalmon run` in a subprocess against the `mosquitto`
fixture's broker and reads the broker back with a plain paho subscriber.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.conftest import json_lines, run_vitalmon
from tests.faulthelp import HeadlessMonitor
from tests.mqtt_broker import USERS, BrokerTap

PUBLISH_ENV = {"VITALMON_MQTT_PASSWORD": USERS["bedside"]}


def alarm_key(record: dict) -> tuple:
    return (record["id"], record["state"], record["t"])


@pytest.fixture
def bedside_password(monkeypatch):
    monkeypatch.setenv("VITALMON_MQTT_PASSWORD", USERS["bedside"])


@pytest.mark.parametrize("tls", [False, True])
def test_every_alarm_reaches_the_broker_numbered(request, tls: bool, bedside_password) -> None:
    broker = request.getfixturevalue("mosquitto_tls" if tls else "mosquitto")
    tap = BrokerTap(broker)
    extra = ["--ca", str(broker.ca_file)] if tls else []
    try:
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
            broker.url(),
            "--chair",
            "c1",
            *extra,
        )
        assert out.returncode == 0, out.stderr
        printed = [r for r in json_lines(out.stdout) if r["type"] == "alarm"]
        assert printed, "the scenario raised no alarm"
        tap.wait_for("status", lambda p: p["state"] == "closed", 5)  # its goodbye
        sent = tap.payloads("alarms")
    finally:
        tap.close()
    assert [alarm_key(r) for r in sent] == [alarm_key(r) for r in printed]
    assert [r["seq"] for r in sent] == list(range(1, len(printed) + 1))
    assert not any(r.get("late") for r in sent)
    numerics = tap.payloads("numerics")
    assert numerics and numerics[-1]["t"] == 40.0
    active = tap.payloads("active")
    lists = [[a["id"] for a in alarms] for alarms in active]
    assert lists[0] == ["CO2_WARMUP"] and ["SPO2_PROBE_OFF"] in lists, lists
    status = tap.payloads("status")
    assert status[0]["state"] == "online" and status[0]["phase"] == "pre-infusion"


def test_wrong_password_is_one_line_and_non_zero(mosquitto) -> None:
    out = run_vitalmon(
        "run",
        "--sim",
        "steady",
        "--headless",
        "--duration",
        "20",
        "--publish",
        mosquitto.url(),
        "--chair",
        "c1",
        env={"PATH": "/usr/bin:/bin", "VITALMON_MQTT_PASSWORD": "wrong"},
        timeout=30,
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused user 'bedside'" in lines[0], out.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--publish", "mqtt://bedside@127.0.0.1:1883/test"], "--publish needs --chair"),
        (["--chair", "c1"], "--chair goes with --publish"),
        (["--publish", "http://x@h:1/c", "--chair", "c1"], "mqtt:// or mqtts://"),
        (["--publish", "mqtt://u:pw@h:1/c", "--chair", "c1"], "no password in the URL"),
        (["--publish", "mqtt://u@h:1/c", "--chair", "c/1"], "chair 'c/1'"),
        (["--publish", "mqtt://u@h:1/", "--chair", "c1"], "no clinic"),
        (["--publish", "mqtt://u@h:1/c", "--chair", "c1", "--ca", "x.pem"], "--ca goes with"),
    ],
)
def test_bad_link_arguments(args: list[str], needle: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "VITALMON_MQTT_PASSWORD": "x"}
    out = run_vitalmon("run", "--headless", "--duration", "1", *args, env=env, timeout=30)
    assert out.returncode != 0
    assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_no_password_anywhere() -> None:
    out = run_vitalmon(
        "run",
        "--headless",
        "--duration",
        "1",
        "--publish",
        "mqtt://u@127.0.0.1:1/c",
        "--chair",
        "c1",
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 1 and "VITALMON_MQTT_PASSWORD" in out.stderr


def central_alarms(central: HeadlessMonitor) -> list[dict]:
    return [r for r in central.all() if r["type"] == "alarm" and r["id"] != "CHAIR_OFFLINE"]


@pytest.mark.slow
def test_broker_killed_during_an_alarm_loses_nothing(mosquitto, bedside_password, tmp_path) -> None:
    """The broker dies before the probe comes off: CENTRAL_LINK_LOST at the bedside within
    5 s, and every alarm record of the outage reaches both centrals afterwards, once, in
    order, marked late: one that reconnects whenever paho does, and one held stopped
    (SIGSTOP) until the bedside has delivered its backlog to the restarted broker, which
    keeps nothing for it (no persistence) but the chair's retained `recent` list."""
    central_pw = tmp_path / "central.pw"
    central_pw.write_text(USERS["central"] + "\n")
    url = mosquitto.url("central")
    centrals = [
        HeadlessMonitor(url, "--password-file", str(central_pw), command="central")
        for _ in range(2)
    ]
    prompt, late = centrals
    monitor = HeadlessMonitor(
        "--sim", "probe-off", "--speed", "2", "--duration", "40",
        "--publish", mosquitto.url(), "--chair", "c1",
    )  # fmt: skip
    try:
        for central in centrals:
            central.wait_for(lambda r: r["type"] == "numerics" and r["t"] >= 2, 15)
        late.proc.send_signal(signal.SIGSTOP)
        mosquitto.kill()
        killed = time.monotonic()
        lost, _ = monitor.wait_for(
            lambda r: r.get("id") == "CENTRAL_LINK_LOST" and r["state"] == "onset", 10
        )
        assert lost - killed < 5.0
        monitor.wait_for(lambda r: r.get("id") == "SPO2_PROBE_OFF", 20)
        mosquitto.start()
        _, back = monitor.wait_for(
            lambda r: r.get("id") == "CENTRAL_LINK_LOST" and r["state"] == "end", 10
        )
        printed = [r for r in monitor.all() if r["type"] == "alarm"]
        delivered = [alarm_key(r) for r in printed].index(alarm_key(back)) + 1
        prompt.wait_for(lambda r: r.get("seq") == delivered, 10)
        late.proc.send_signal(signal.SIGCONT)
        late.wait_for(lambda r: r.get("seq") == delivered, 15)
        assert monitor.stop() == 0
        for central in centrals:
            central.wait_for(lambda r: r.get("type") == "status" and r["state"] == "closed", 10)
    finally:
        late.proc.send_signal(signal.SIGCONT)
        monitor.stop()
        for central in centrals:
            central.stop()
    printed = [r for r in monitor.all() if r["type"] == "alarm"]
    expected = list(range(1, len(printed) + 1))
    for central in centrals:
        got = central_alarms(central)
        assert [alarm_key(r) for r in got] == [alarm_key(r) for r in printed]
        assert [r["seq"] for r in got] == expected
        outage = {r["id"] for r in got if r.get("late")}
        assert {"CENTRAL_LINK_LOST", "SPO2_PROBE_OFF"} <= outage
    print(f"\nCENTRAL_LINK_LOST {lost - killed:.2f} s after the broker was killed")


def test_a_bedside_killed_leaves_its_last_will(mosquitto, bedside_password) -> None:
    """kill -9: no goodbye from the bedside; the broker says "offline" for it (the will,
    retained) within 1.5 keep-alives of its silence."""
    tap = BrokerTap(mosquitto)
    monitor = HeadlessMonitor("--sim", "steady", "--publish", mosquitto.url(), "--chair", "c7")
    try:
        tap.wait_for("status", lambda p: p["state"] == "online", 15)
        tap.wait_for("numerics", lambda p: p["t"] >= 2, 15)
        monitor.proc.kill()
        killed = time.monotonic()
        arrived, will = tap.wait_for("status", lambda p: p["state"] == "offline", 10)
    finally:
        monitor.stop()
        tap.close()
    assert will["phase"] == "pre-infusion"
    assert arrived - killed < 5.0
    late_tap = BrokerTap(mosquitto)  # a central that starts later still reads it (retained)
    try:
        late_tap.wait_for("status", lambda p: p["state"] == "offline", 5)
    finally:
        late_tap.close()
