"""The central station's window (pytest-qt, offscreen) on a real Mosquitto, fed by real
bedsides (`vitalmon run --sim ... --headless --publish ...` subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from PyQt6.QtCore import Qt

from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.net.broker import parse_broker_url
from monitor.net.central import CentralModel
from monitor.net.subscriber import CentralSubscriber
from monitor.present.central_view import grid_shape
from monitor.ui import theme
from monitor.ui.central_window import CentralWindow
from monitor.ui.sound import FailedSink, SilentSink
from tests.conftest import REPO, run_vitalmon, vitalmon_cmd
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
    """The painted colour at a fraction of the tile (0.97, 0.93: the alarm band, past its text)."""
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
        # c2's CO2 module warms up for its first seconds (a low alarm): then nothing
        qtbot.waitUntil(lambda: central.tiles["c2"].view.alarm.priority is None, timeout=20000)
    finally:
        for chair in chairs:
            chair.stop()
    tile = central.tiles["c1"]
    assert alarm().message == "Pulse rate high"
    assert tile.background == COLOURS["medium"]
    assert pixel(tile, 0.97, 0.93) == COLOURS["medium"]  # the painted alarm band
    assert central.tiles["c2"].background == theme.PANEL
    assert pixel(central.tiles["c2"], 0.97, 0.93) == theme.PANEL
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
    assert pixel(central.tiles["c3"], 0.97, 0.93) == COLOURS["high"]
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
    qtbot.waitUntil(lambda: central.tiles["c4"].view.offline, timeout=8000)  # its goodbye
    assert detail.pleth.plot is None and detail.pleth.empty.text() == "SESSION ENDED"


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


@pytest.mark.parametrize("headless", [False, True])
def test_no_broker_is_one_line(headless: bool, tmp_path, monkeypatch) -> None:
    from tests.mqtt_broker import free_port

    monkeypatch.setenv("QT_LOGGING_RULES", "*=false")
    monkeypatch.setenv("VITALMON_MQTT_PASSWORD", USERS["central"])
    url = f"mqtt://central@127.0.0.1:{free_port()}/test"  # nothing listens there
    out = run_vitalmon("central", url, *(["--headless"] if headless else []), timeout=30)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"vitalmon: cannot reach the broker {url}: Connection refused"
    ]


def offline_window(qtbot, clock: Clock) -> CentralWindow:
    """The window on a model the test feeds itself (no broker): layout and repaint rules."""
    link = CentralSubscriber(
        CentralModel("test", time.monotonic()),
        parse_broker_url("mqtt://central@127.0.0.1:1/test"),
        "x",
    )
    window = CentralWindow(link, sink=SilentSink(), clock=clock)
    window.timer.stop()  # the test draws the frames
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    return window


def say(window: CentralWindow, chair: str, leaf: str, body: object) -> None:
    payload = json.dumps(body).encode()
    window.model.on_message(f"vitalmon/test/{chair}/{leaf}", payload, time.monotonic(), "w")


def frame(qtbot, window: CentralWindow) -> None:
    window.refresh()
    qtbot.wait(1)  # paint what was updated


def test_32_chairs_fill_the_screen_in_a_grid(qtbot) -> None:
    window = offline_window(qtbot, Clock(0.1))
    for n in range(32, 0, -1):
        say(window, f"chair{n}", "numerics", {"type": "numerics", "t": 1.0, "spo2": 97})
    frame(qtbot, window)
    area = window.grid_host.rect()
    rows, cols = grid_shape(32, area.width(), area.height())
    assert rows * cols >= 32 and (rows, cols) == window._shape
    boxes = [window.tiles[f"chair{n}"].geometry() for n in range(1, 33)]
    assert all(area.contains(box) for box in boxes)
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert sum(b.width() * b.height() for b in boxes) > 0.75 * area.width() * area.height()
    # in reading order: chair1 top left, chair2 to its right
    assert boxes[0].top() == boxes[1].top() and boxes[0].left() < boxes[1].left()
    assert boxes[cols].top() > boxes[0].top()
    window.resize(700, 1300)  # a portrait screen: another grid, filled as well
    frame(qtbot, window)
    area = window.grid_host.rect()
    assert window._shape == grid_shape(32, area.width(), area.height()) != (rows, cols)
    boxes = [window.tiles[f"chair{n}"].geometry() for n in range(1, 33)]
    assert all(area.contains(box) for box in boxes)
    assert sum(b.width() * b.height() for b in boxes) > 0.75 * area.width() * area.height()


def test_a_tile_is_painted_again_only_when_it_changed(qtbot) -> None:
    clock = Clock(0.1)
    window = offline_window(qtbot, clock)
    for name in ("c1", "c2"):
        say(window, name, "numerics", {"type": "numerics", "t": 1.0, "spo2": 97, "pr": 70})
    frame(qtbot, window)
    frame(qtbot, window)
    painted = {n: t.paints for n, t in window.tiles.items()}
    assert all(painted.values())
    for _ in range(5):
        frame(qtbot, window)  # nothing new: nothing drawn
    assert {n: t.paints for n, t in window.tiles.items()} == painted
    say(window, "c1", "numerics", {"type": "numerics", "t": 2.0, "spo2": 96, "pr": 70})
    frame(qtbot, window)
    assert window.tiles["c1"].paints > painted["c1"] and window.tiles["c2"].paints == painted["c2"]
    high = {"id": "SPO2_LOW", "priority": "high", "kind": "physiological", "message": "SpO2 low",
            "onset_t": 1.0, "condition_active": True, "acknowledged": False}  # fmt: skip
    say(window, "c2", "active", [high])
    frame(qtbot, window)
    assert pixel(window.tiles["c2"], 0.97, 0.93) == COLOURS["high"]  # (grab paints it once more)
    lit = window.tiles["c2"].paints
    clock.now = 0.4  # the dark half of the 2 Hz flash
    frame(qtbot, window)
    assert window.tiles["c2"].paints == lit + 1
    assert pixel(window.tiles["c2"], 0.97, 0.93) == theme.PANEL


def test_a_broker_certificate_the_ca_does_not_sign_is_one_line(mosquitto_tls, tmp_path) -> None:
    from tests.mqtt_broker import make_ca

    (tmp_path / "other").mkdir()
    other_ca, _, _ = make_ca(tmp_path / "other")
    url = mosquitto_tls.url("central")
    out = run_vitalmon(
        "central", url, "--headless", "--ca", str(other_ca),
        env={**os.environ, "VITALMON_MQTT_PASSWORD": USERS["central"]}, timeout=30,
    )  # fmt: skip
    assert out.returncode == 1
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"vitalmon: cannot reach the broker {url}: ") and "verify failed" in line


def test_a_broker_lost_and_back(qtbot, mosquitto, central, bedside_password) -> None:
    """Every chair goes NO DATA (the desk cannot see it) and comes back with the broker."""
    chair = bedside(mosquitto, "c5", "steady")
    try:
        shown = lambda: "c5" in central.tiles and central.tiles["c5"].view.spo2.text != "--"  # noqa: E731
        qtbot.waitUntil(shown, timeout=15000)
        mosquitto.kill()
        qtbot.waitUntil(lambda: central.tiles["c5"].view.offline, timeout=8000)
        qtbot.waitUntil(lambda: "unreachable" in central.link_label.text(), timeout=3000)
        assert central.tiles["c5"].view.alarm.message == "No data from this chair"
        mosquitto.start()
        qtbot.waitUntil(lambda: not central.tiles["c5"].view.offline and shown(), timeout=15000)
        qtbot.waitUntil(lambda: "✓" in central.link_label.text(), timeout=3000)
    finally:
        chair.stop()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_the_window_ends_cleanly_on_a_signal(mosquitto, monkeypatch, sig, status) -> None:
    monkeypatch.setenv("QT_LOGGING_RULES", "*=false")
    monkeypatch.setenv("VITALMON_AUDIO", "silent")
    monkeypatch.setenv("VITALMON_MQTT_PASSWORD", USERS["central"])
    central = subprocess.Popen(
        vitalmon_cmd("central", mosquitto.url("central")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    time.sleep(4)  # up and subscribed
    assert central.poll() is None, central.communicate()
    central.send_signal(sig)
    out, err = central.communicate(timeout=15)
    assert (central.returncode, out, err) == (status, "", "")


def test_a_chair_past_the_32nd_still_alarms_on_the_bar(qtbot) -> None:
    window = offline_window(qtbot, Clock(0.1))
    for n in range(1, 34):
        say(window, f"chair{n}", "numerics", {"type": "numerics", "t": 1.0, "spo2": 97})
    high = {"id": "SPO2_LOW", "priority": "high", "kind": "physiological", "message": "SpO2 low",
            "onset_t": 1.0, "condition_active": True, "acknowledged": False}  # fmt: skip
    say(window, "chair33", "active", [high])
    frame(qtbot, window)
    assert len(window.tiles) == 32 and "chair33" not in window.tiles
    assert window.alarm_bar.view.message == "chair33: SpO2 low"
    window._refresh_strip(33)
    assert window.count_label.text() == "33 chairs, first 32 shown"
