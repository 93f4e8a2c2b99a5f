"""The GUI bedside publishes from its settings file (docs/central.md) and shows
CENTRAL_LINK_LOST on its alarm bar like the headless one prints it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from functools import partial

import pytest

from monitor.cli.link import link_refused_alarm
from monitor.net.broker import LinkSetupError, parse_broker_url
from monitor.net.publisher import CentralPublisher
from monitor.net.settings import LinkSettings, load_link_settings
from tests.conftest import REPO, run_vitalmon, vitalmon_cmd
from tests.gui_helpers import Bedside
from tests.mqtt_broker import USERS, BrokerTap, free_port


def write_settings(config_home, text: str):
    folder = config_home / "vitalmon"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "central.toml"
    path.write_text(text)
    return path


def test_settings_file_relative_paths_and_absent(tmp_path) -> None:
    assert load_link_settings(tmp_path / "none.toml") is None
    path = write_settings(
        tmp_path,
        'url = "mqtts://c3@desk:8883/clinic1"\nchair = "c3"\n'
        'password_file = "mqtt.pw"\nca_file = "/etc/ca.crt"\n',
    )
    got = load_link_settings(path)
    assert got == LinkSettings(
        "mqtts://c3@desk:8883/clinic1", "c3", "/etc/ca.crt", str(path.parent / "mqtt.pw")
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('url = "mqtt://u@h/c"\n', "'chair' (a string) is missing"),
        ('url = "mqtt://u@h/c"\nchair = "c"\npassword = "x"\n', "unknown key 'password'"),
        ("url = \n", "central settings"),
        ('url = "mqtt://u@h/c"\nchair = "c"\nca_file = 3\n', "'ca_file' must be a file name"),
    ],
)
def test_a_wrong_settings_file_is_one_clear_error(tmp_path, text: str, needle: str) -> None:
    with pytest.raises(LinkSetupError, match=re.escape(needle)):
        load_link_settings(write_settings(tmp_path, text))


def gui_env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VITALMON_MQTT_PASSWORD", None)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    return env


def test_a_bad_settings_file_stops_the_gui_with_one_line(tmp_path) -> None:
    write_settings(tmp_path / "config", 'url = "mqtt://u:pw@h:1/c"\nchair = "c"\n')
    out = run_vitalmon("run", "--sim", "steady", env=gui_env(tmp_path), timeout=30)
    assert out.returncode == 1
    settings = tmp_path / "config" / "vitalmon" / "central.toml"
    assert out.stderr.strip().splitlines() == [
        f"vitalmon: central settings '{settings}': 'mqtt://u:pw@h:1/c': no password in the URL; "
        "set VITALMON_MQTT_PASSWORD or use --password-file"
    ]


def test_the_gui_publishes_as_its_settings_file_says(mosquitto, tmp_path) -> None:
    (tmp_path / "config" / "vitalmon").mkdir(parents=True)
    (tmp_path / "config" / "vitalmon" / "chair.pw").write_text(USERS["bedside"] + "\n")
    write_settings(
        tmp_path / "config",
        f'url = "{mosquitto.url()}"\nchair = "gui-1"\npassword_file = "chair.pw"\n',
    )
    tap = BrokerTap(mosquitto)
    gui = subprocess.Popen(
        vitalmon_cmd("run", "--sim", "probe-off", "--speed", "10"),
        env=gui_env(tmp_path),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, alarm = tap.wait_for("alarms", lambda p: p["id"] == "SPO2_PROBE_OFF", 30)
        topics = {topic for _, topic, _, _ in tap.messages}
    finally:
        gui.send_signal(signal.SIGTERM)
        _, err = gui.communicate(timeout=15)
        tap.close()
    assert gui.returncode == 0, err
    assert alarm["seq"] >= 1 and "vitalmon/test/gui-1/alarms" in topics
    assert "publishing to " + mosquitto.url() + " as gui-1" in err


def test_the_window_shows_central_link_lost(qtbot) -> None:
    """No broker at the address: after `silence_s` the alarm bar says CENTRAL_LINK_LOST."""
    bed = Bedside("steady")
    bed.run_to(2)
    address = parse_broker_url(f"mqtt://bedside@127.0.0.1:{free_port()}/test")
    publisher = CentralPublisher(address, "x", "c1", bed.pipeline)
    bed.pipeline.subscribe(publisher)
    window = bed.window(qtbot)
    publisher.start()
    try:

        def shown() -> None:
            bed.step()
            window.refresh()
            assert window.alarm_bar.message.text().endswith(
                f": broker {address.host}:{address.port}"
            )

        qtbot.waitUntil(shown, timeout=10_000)
    finally:
        publisher.close(flush_s=0)
    ids = [a.id for a in bed.pipeline.alarms.display_state().alarms]
    assert "CENTRAL_LINK_LOST" in ids


def test_a_refused_password_in_the_window_keeps_monitoring(qtbot, mosquitto) -> None:
    """The window does not stop for a wrong password: CENTRAL_LINK_LOST says why."""
    bed = Bedside("steady")
    bed.run_to(2)
    address = parse_broker_url(mosquitto.url())
    on_fatal = partial(link_refused_alarm, pipeline=bed.pipeline)
    publisher = CentralPublisher(address, "wrong", "c1", bed.pipeline, on_fatal=on_fatal)
    bed.pipeline.subscribe(publisher)
    window = bed.window(qtbot)
    publisher.start()
    try:

        def shown() -> None:
            bed.step()
            window.refresh()
            assert "refused user 'bedside'" in window.alarm_bar.message.text()

        qtbot.waitUntil(shown, timeout=10_000)
    finally:
        publisher.close(flush_s=0)
