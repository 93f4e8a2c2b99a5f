"""The central station's window (pytest-qt, offscreen) on a real Mosquitto, fed by real
bedsides (`vitalmon run --sim ... --headless --publish ...` subprocesses)."""

from __future__ import annotations

import time

import pytest
from PyQt6.QtCore import Qt

from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.net.broker import parse_broker_url
from monitor.net.central import CentralModel
from monitor.net.subscriber import CentralSubscriber
from monitor.ui import theme
from monitor.ui.central_window import CentralWindow
from monitor.ui.sound import FailedSink, SilentSink
from tests.conftest import run_vitalmon
from tests.faulthelp import HeadlessMonitor
from tests.gui_helpers import Clock
from tests.mqtt_broker import USERS

COLOURS = {p: v.colour for p, v in load_alarm_signals().visual.items()}


@pytest.fixture
def bedside_password(monkeypatch):
    monkeypatch.setenv("VITALMON_MQTT_PASSWORD", USERS["bedside"])


def bedside(broker, chair: str, scenario: str, speed: str = "1") -> HeadlessMonitor:
    return HeadlessMonitor(
        "--sim", scenario, "--speed", speed, "--publish", broker.url(), "--chair", chair
    )


@pytest.fixture
def central(qtbot, mosquitto):
    """The window on the broker, its flash held in the bright phase, sound silent."""
    link = CentralSubscriber(
        CentralModel("test", time.monotonic()),
        parse_broker_url(mosquitto.url("central")),
        USERS["central"],
    )
    sink = SilentSink()
    window = CentralWindow(link, sink=sink, clock=Clock(0.1))
    qtbot.addWidget(window)
    link.start()
    assert link.subscribed.wait(5)
    window.show()
    yield window
    link.stop()


def pixel(tile, x: float, y: float) -> str:
    image = tile.grab().toImage()
    return image.pixelColor(int(x * image.width()), int(y * image.height())).name()


def test_a_chairs_alarm_shows_in_its_tile_colour(
    qtbot, mosquitto, central, bedside_password
) -> None:
    chairs = [bedside(mosquitto, "c1", "tachycardia", "10"), bedside(mosquitto, "c2", "steady")]
    try:
        qtbot.waitUntil(lambda: set(central.tiles) == {"c1", "c2"}, timeout=15000)
        alarm = lambda: central.tiles["c1"].view.alarm  # noqa: E731
        qtbot.waitUntil(lambda: alarm().priority == "medium", timeout=20000)  # PR_HIGH
    finally:
        for chair in chairs:
            chair.stop()
    tile = central.tiles["c1"]
    assert alarm().message == "Pulse rate high"
    assert tile.background == COLOURS["medium"]
    assert pixel(tile, 0.5, 0.93) == COLOURS["medium"]  # the painted alarm band
    assert central.tiles["c2"].background == theme.PANEL
    assert pixel(central.tiles["c2"], 0.5, 0.93) == theme.PANEL
    assert central.alarm_bar.view.message == "c1: Pulse rate high"
    assert central.sound.sink.played[-1] == "medium"  # the IEC tone at the desk


def test_a_killed_bedside_shows_no_data_and_chair_offline(
    qtbot, mosquitto, central, bedside_password
) -> None:
    chair = bedside(mosquitto, "c3", "steady")
    try:
        qtbot.waitUntil(
            lambda: "c3" in central.tiles and central.tiles["c3"].view.spo2.text != "--",
            timeout=15000,
        )
        chair.proc.kill()  # kill -9: no goodbye, the broker sends its last will
        killed = time.monotonic()
        qtbot.waitUntil(lambda: central.tiles["c3"].view.offline, timeout=8000)
        took = time.monotonic() - killed
    finally:
        chair.stop()
    view = central.tiles["c3"].view
    assert view.spo2.text == view.pr.text == "--"
    assert view.alarm.priority == "high" and view.alarm.message == "No data from this chair"
    assert central.tiles["c3"].background == COLOURS["high"]
    assert pixel(central.tiles["c3"], 0.5, 0.93) == COLOURS["high"]
    assert central.alarm_bar.view.message == "c3: No data from this chair"
    offline = [r for r in central.model.chairs["c3"].active if r.get("id") == "CHAIR_OFFLINE"]
    assert not offline  # the central's own alarm, not one the chair sent
    assert central.sound.sink.played[-1] == "high"
    assert took < 5.5
    print(f"\nNO DATA on the tile {took:.2f} s after kill -9")


def test_the_detail_shows_the_chairs_pleth_and_capnogram(
    qtbot, mosquitto, central, bedside_password
) -> None:
    chair = bedside(mosquitto, "c4", "hypoventilation", "2")
    try:
        qtbot.waitUntil(lambda: "c4" in central.tiles, timeout=15000)
        qtbot.mouseClick(central.tiles["c4"], Qt.MouseButton.LeftButton)
        detail = central.detail
        assert detail is not None and detail.isVisible()
        qtbot.waitUntil(
            lambda: detail.pleth.plot is not None and detail.pleth.plot.finite_points() > 300,
            timeout=15000,
        )
        qtbot.waitUntil(
            lambda: detail.co2.plot is not None and detail.co2.plot.finite_points() > 300,
            timeout=15000,
        )
        qtbot.waitUntil(lambda: detail.curve_points("spo2.spo2") >= 3, timeout=10000)
    finally:
        chair.stop()
    assert "c4" in detail.title.text()
    assert detail.pleth.plot.ring is central.model.chairs["c4"].waves.pleth.ring


def test_no_sound_device_is_a_technical_alarm_at_the_desk(qtbot) -> None:
    link = CentralSubscriber(
        CentralModel("test", time.monotonic()),
        parse_broker_url("mqtt://central@127.0.0.1:1/test"),
        "x",
    )
    window = CentralWindow(link, sink=FailedSink("no sound device"), clock=Clock(0.1))
    qtbot.addWidget(window)
    window.refresh()
    assert "ALARM_AUDIO_FAILED" in link.model.desk
    assert window.alarm_bar.view.priority == "medium"
    assert window.alarm_bar.view.message.endswith("visual only: no sound device")
    window._refresh_strip(0)
    assert window.sound_label.text() == "Sound FAILED"


def test_the_window_with_a_wrong_password_is_one_line(mosquitto, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QT_LOGGING_RULES", "*=false")  # offscreen and multimedia chatter
    bad = tmp_path / "bad.pw"
    bad.write_text("nope\n")
    out = run_vitalmon("central", mosquitto.url("central"), "--password-file", str(bad),
                       timeout=30)  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"vitalmon: broker {mosquitto.url('central')} refused user 'central': Not authorized"
    ]
