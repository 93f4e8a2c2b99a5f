"""`vitalmon central mqtt[s]://USER@HOST:PORT/CLINIC --headless`: the central station.

It subscribes to the clinic's topics and never publishes (docs/central.md). Headless,
it prints every record it receives as the bedside printed it plus `chair` and
`received`, and its own CHAIR_OFFLINE onsets and ends. The window is not written yet.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from monitor.cli.common import UsageError, stop_on_signals
from monitor.cli.link import register_credentials
from monitor.net.broker import LinkSetupError, check_ca, parse_broker_url, read_password
from monitor.net.central import CentralModel, wall_now
from monitor.net.publisher import REFUSED
from monitor.records import Record


def register(commands) -> argparse.ArgumentParser:
    central = commands.add_parser("central", help="the central station for a clinic's chairs")
    central.add_argument("url", metavar="URL", help="mqtt[s]://USER@HOST:PORT/CLINIC")
    central.add_argument("--headless", action="store_true", help="no window; JSON lines")
    register_credentials(central)
    return central


class HeadlessCentral:
    """The model fed from paho's thread, ticked from the main one, printed under a lock."""

    def __init__(self, model: CentralModel) -> None:
        self.model = model
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.fatal: str | None = None

    def emit(self, records: list[Record]) -> None:
        for record in records:
            sys.stdout.write(json.dumps(record, separators=(", ", ": ")) + "\n")
        if records:
            sys.stdout.flush()

    def on_message(self, _client, _userdata, message) -> None:
        with self.lock:
            got = self.model.on_message(
                message.topic, message.payload, time.monotonic(), wall_now()
            )
            self.emit(got)

    def on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            code = getattr(reason, "value", None)
            why = REFUSED.get(code, str(reason)) if isinstance(code, int) else str(reason)
            self.fatal = why
            self.stop.set()
            return
        client.subscribe(self.model.prefix + "#", qos=1)

    def run(self) -> None:
        while not self.stop.wait(0.1):
            with self.lock:
                self.emit(self.model.tick(time.monotonic(), wall_now()))


def run(args: argparse.Namespace) -> int:
    try:
        address = parse_broker_url(args.url)
        ca_file = check_ca(address, args.ca)
        password = read_password(args.password_file)
    except LinkSetupError as exc:
        raise UsageError(str(exc)) from None
    if not args.headless:
        raise UsageError("the central station window is not written yet; add --headless")
    central = HeadlessCentral(CentralModel(address.clinic, time.monotonic()))
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.username_pw_set(address.user, password)
    if address.tls:
        client.tls_set(ca_certs=ca_file)
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    client.on_connect = central.on_connect
    client.on_message = central.on_message
    client.connect_async(address.host, address.port, keepalive=2)
    received = stop_on_signals(central.stop.set)
    client.loop_start()
    try:
        central.run()
    finally:
        client.disconnect()
        client.loop_stop()
    if central.fatal is not None:
        print(
            f"vitalmon: broker {address} refused user '{address.user}': {central.fatal}",
            file=sys.stderr,
        )
        return 1
    return 130 if signal.SIGINT in received else 0
