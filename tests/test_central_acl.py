"""The ACL file docs/central.md gives a clinic, on a real Mosquitto: a bedside writes
only under its own chair, the central only reads."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import REPO, run_vitalmon
from tests.mqtt_broker import MosquittoBroker

ACL = REPO / "docs" / "mosquitto" / "vitalmon.acl"
USERS = {"c1": "pw-c1", "c2": "pw-c2", "central": "pw-desk"}


class Client:
    """A plain MQTT 5 client as one user: the broker's PUBACK reason for each publish,
    and every message its subscription receives."""

    def __init__(self, broker: MosquittoBroker, user: str) -> None:
        self.acks: dict[int, str] = {}
        self.messages: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.username_pw_set(user, USERS[user])
        client.on_publish = lambda _c, _u, mid, reason, _p: self.acks.__setitem__(mid, str(reason))
        client.on_subscribe = lambda *_: self._subscribed.set()
        client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        client.connect("127.0.0.1", broker.port, keepalive=5)
        client.loop_start()
        self.client = client

    def publish(self, topic: str) -> str:
        """The PUBACK's reason: "Success", or "Not authorized" for a refused topic."""
        info = self.client.publish(topic, b"{}", qos=1)
        deadline = time.monotonic() + 5
        while info.mid not in self.acks and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.acks.get(info.mid, "no PUBACK")

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self._subscribed.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clinic_broker(tmp_path):
    broker = MosquittoBroker(tmp_path, users=USERS, acl_file=ACL)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


def test_a_bedside_writes_only_its_own_chair_and_the_central_only_reads(clinic_broker) -> None:
    central, c1 = Client(clinic_broker, "central"), Client(clinic_broker, "c1")
    try:
        central.subscribe("vitalmon/clinic1/#")
        assert c1.publish("vitalmon/clinic1/c1/alarms") == "Success"
        assert c1.publish("vitalmon/clinic1/c2/alarms") == "Not authorized"
        assert c1.publish("vitalmon/clinic2/c1/alarms") == "Not authorized"
        assert central.publish("vitalmon/clinic1/c1/status") == "Not authorized"
        assert central.publish("vitalmon/clinic1/central/status") == "Not authorized"
        time.sleep(0.5)  # anything wrongly let through has arrived by now
    finally:
        central.close()
        c1.close()
    assert [topic for topic, _ in central.messages] == ["vitalmon/clinic1/c1/alarms"]


def _publish_as(broker: MosquittoBroker, user: str, chair: str, seconds: int):
    """`vitalmon run --publish` as broker user `user` for chair `chair`."""
    return run_vitalmon(
        "run",
        "--sim",
        "steady",
        "--headless",
        "--duration",
        str(seconds),
        "--publish",
        broker.url(user=user, clinic="clinic1"),
        "--chair",
        chair,
        env={"PATH": "/usr/bin:/bin", "VITALMON_MQTT_PASSWORD": USERS[user]},
        timeout=30,
    )


def test_a_bedside_the_acl_refuses_says_so_and_stops(clinic_broker) -> None:
    """User c1 publishing as chair c2: every publish is refused by the ACL. Over MQTT 3.1.1
    the broker acknowledged them as taken and the bedside never knew; over MQTT 5 the
    PUBACK says "Not authorized", and the run ends with one line (in the window: the
    CENTRAL_LINK_LOST alarm saying why, as for a refused password)."""
    out = _publish_as(clinic_broker, "c1", "c2", 20)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "refuses what chair 'c2' publishes as user 'c1'" in lines[0]
    assert "Not authorized" in lines[0]


def test_a_bedside_the_acl_lets_through_publishes_to_the_end(clinic_broker) -> None:
    out = _publish_as(clinic_broker, "c1", "c1", 5)
    assert out.returncode == 0, out.stderr
    assert "refuses" not in out.stderr
