"""The central's connection to the broker: subscribe to the clinic, feed the model.

paho's network thread calls `on_message`; the model is changed only under `lock`,
which the window (or the headless printer) also takes to read it. The central only
subscribes: it never publishes anything, so it can send no command to a bedside.
A broker that refuses the user sets `fatal` and `stopped`; one that cannot be reached
at the start is a `LinkSetupError` (one line, exit 1).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from monitor.net.broker import BrokerAddress, LinkSetupError
from monitor.net.central import CentralModel, wall_now
from monitor.net.publisher import REFUSED
from monitor.records import Record

Emit = Callable[[list[Record]], None]
log = logging.getLogger("vitalmon.central")


class CentralSubscriber:
    def __init__(
        self,
        model: CentralModel,
        address: BrokerAddress,
        password: str,
        ca_file: str | None = None,
        emit: Emit | None = None,
    ) -> None:
        self.model = model
        self.address = address
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.subscribed = threading.Event()
        self.fatal: str | None = None
        self.connected = False
        self.bad_messages = 0  # that the model could not take (a bug: logged)
        self._emit = emit
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        client.username_pw_set(address.user, password)
        if address.tls:
            client.tls_set(ca_certs=ca_file)
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.on_connect = self._on_connect
        client.on_subscribe = lambda *_: self.subscribed.set()
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        self._client = client

    def start(self) -> None:
        """Connect once now, so a broker that is not there (or a wrong CA) is one line at
        the start; then paho's thread keeps the link, reconnecting every 1-2 s."""
        try:
            self._client.connect(self.address.host, self.address.port, keepalive=2)
        except OSError as exc:  # refused, no such host, TLS refused (ssl.SSLError)
            why = exc.strerror or str(exc) or type(exc).__name__
            raise LinkSetupError(f"cannot reach the broker {self.address}: {why}") from None
        self._client.loop_start()

    def stop(self) -> None:
        self.stopped.set()
        self._client.disconnect()
        self._client.loop_stop()

    def tick(self) -> list[Record]:
        """CHAIR_OFFLINE onsets due now (call it often, from the caller's thread)."""
        with self.lock:
            records = self.model.tick(time.monotonic(), wall_now())
            if self._emit is not None:
                self._emit(records)
        return records

    def refused_line(self) -> str:
        return f"vitalmon: broker {self.address} refused user '{self.address.user}': {self.fatal}"

    def _on_message(self, _client, _userdata, message) -> None:
        with self.lock:
            try:
                records = self.model.on_message(
                    message.topic, message.payload, time.monotonic(), wall_now()
                )
            except Exception:  # a bug must not end paho's thread, and so every chair
                self.bad_messages += 1
                log.exception("message on %s not taken", message.topic)
                return
            if self._emit is not None:
                self._emit(records)

    def _on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            code = getattr(reason, "value", None)
            self.fatal = REFUSED.get(code, str(reason)) if isinstance(code, int) else str(reason)
            self.stopped.set()
            return
        self.connected = True
        client.subscribe(self.model.prefix + "#", qos=1)

    def _on_disconnect(self, _client, _userdata, _flags, _reason, _properties) -> None:
        self.connected = False
