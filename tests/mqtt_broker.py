"""A real Mosquitto for the central-station tests: loopback, a password file, no anonymous.

`MosquittoBroker` writes its own config, password file (`mosquitto_passwd -U` hashes a
plain one) and, for TLS, a CA and a server certificate made with the openssl CLI; it
runs `mosquitto -c` in a subprocess on a free port and can be killed and started again
on the very same port (the broker-restart tests). Every broker it starts is killed in
`stop()`, which the fixtures call whatever the test did.
"""

from __future__ import annotations

import contextlib
import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
USERS = {"bedside": "chair-secret", "central": "desk-secret"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_ca(where: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost: (ca.crt, server.crt, server.key)."""
    ca_key, ca_crt = where / "ca.key", where / "ca.crt"
    key, csr, crt = where / "server.key", where / "server.csr", where / "server.crt"
    ext = where / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def openssl(*args: str | Path) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
            "-days", "2", "-subj", "/CN=vitalmon test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=localhost")  # fmt: skip
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", ext)  # fmt: skip
    return ca_crt, crt, key


class MosquittoBroker:
    """One mosquitto on 127.0.0.1:`port`; `tls` adds a CA made here (`ca_file`); `users`
    (name: password) replace USERS, and `acl_file` restricts what each may do."""

    def __init__(
        self,
        where: Path,
        tls: bool = False,
        users: dict[str, str] | None = None,
        acl_file: Path | None = None,
    ) -> None:
        self.where = where
        self.port = free_port()
        self.tls = tls
        self.ca_file: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        passwords = where / "passwd"
        passwords.write_text("".join(f"{u}:{p}\n" for u, p in (users or USERS).items()))
        subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True, timeout=30)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {passwords}",
            "persistence false",
            f"user {getpass.getuser()}",  # as root it would drop to 'mosquitto' and not read tmp
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        if acl_file is not None:
            lines.append(f"acl_file {acl_file}")
        if tls:
            self.ca_file, crt, key = make_ca(where)
            lines += [f"cafile {self.ca_file}", f"certfile {crt}", f"keyfile {key}"]
        self.conf = where / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.log = where / "mosquitto.log"

    @property
    def scheme(self) -> str:
        return "mqtts" if self.tls else "mqtt"

    def url(self, user: str = "bedside", clinic: str = "test") -> str:
        return f"{self.scheme}://{user}@127.0.0.1:{self.port}/{clinic}"

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until it accepts connections."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-500:]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not open its port within 10 s")

    def kill(self) -> None:
        """SIGKILL: the broker goes without a word (as a crashed server would)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        self.kill()


class BrokerTap:
    """A plain paho subscriber to `vitalmon/CLINIC/#` as the central's user: every message
    with its arrival time. It reconnects within 0.1-0.5 s of a broker restart."""

    def __init__(self, broker: MosquittoBroker, clinic: str = "test") -> None:
        import json
        import threading

        import paho.mqtt.client as mqtt

        self.messages: list[tuple[float, str, object, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._json = json
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        client.username_pw_set("central", USERS["central"])
        if broker.tls:
            client.tls_set(ca_certs=str(broker.ca_file))
        client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)  # type: ignore[arg-type]
        client.on_connect = lambda c, *_: c.subscribe(f"vitalmon/{clinic}/#", qos=1)
        client.on_subscribe = lambda *_: self._subscribed.set()
        client.on_message = self._on_message
        client.connect("127.0.0.1", broker.port, keepalive=2)
        client.loop_start()
        self.client = client
        assert self._subscribed.wait(5), "the tap did not subscribe"

    def _on_message(self, _client, _userdata, message) -> None:
        payload = self._json.loads(message.payload) if message.payload else None
        with self._lock:
            self.messages.append((time.monotonic(), message.topic, payload, message.retain))

    def payloads(self, leaf: str) -> list:
        with self._lock:
            return [p for _, topic, p, _ in self.messages if topic.endswith("/" + leaf)]

    def wait_for(self, leaf: str, test, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for arrived, topic, payload, _ in self.messages:
                    if topic.endswith("/" + leaf) and test(payload):
                        return arrived, payload
            time.sleep(0.02)
        raise AssertionError(f"no {leaf} message within {timeout} s: {self.payloads(leaf)[-5:]}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
