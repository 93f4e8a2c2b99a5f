"""The test broker itself: it refuses anonymous and wrong passwords, and TLS needs its CA."""

from __future__ import annotations

import ssl
import threading

import paho.mqtt.client as mqtt
import pytest

from tests.mqtt_broker import USERS


def connect(broker, user: str | None, password: str | None, ca: str | None = None) -> str:
    """The broker's CONNACK reason, as text ("Success", "Not authorized", ...)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    if user is not None:
        client.username_pw_set(user, password)
    if ca is not None:
        client.tls_set(ca_certs=ca)
    got: list[str] = []
    done = threading.Event()

    def on_connect(_c, _u, _flags, reason, _props) -> None:
        got.append(str(reason))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port, keepalive=5)
    client.loop_start()
    try:
        assert done.wait(5), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return got[0]


def test_password_required(mosquitto) -> None:
    assert connect(mosquitto, "bedside", USERS["bedside"]) == "Success"
    assert connect(mosquitto, "bedside", "wrong") == "Not authorized"
    assert connect(mosquitto, None, None) == "Not authorized"


def test_tls_with_the_test_ca(mosquitto_tls) -> None:
    ca = str(mosquitto_tls.ca_file)
    assert connect(mosquitto_tls, "central", USERS["central"], ca=ca) == "Success"
    with pytest.raises(ssl.SSLError):  # the system CAs do not know this broker
        _plain_tls(mosquitto_tls)


def _plain_tls(broker) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.tls_set()
    client.connect("127.0.0.1", broker.port, keepalive=5)


def test_killed_broker_starts_again_on_its_port(mosquitto) -> None:
    port = mosquitto.port
    mosquitto.kill()
    with pytest.raises(OSError):
        connect(mosquitto, "bedside", USERS["bedside"])
    mosquitto.start()
    assert mosquitto.port == port
    assert connect(mosquitto, "bedside", USERS["bedside"]) == "Success"
