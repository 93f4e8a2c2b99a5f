"""Where the broker is and who we are to it: `mqtt[s]://USER@HOST:PORT/CLINIC`.

The password never comes from the URL (a command line is visible to every user of the
machine): `VITALMON_MQTT_PASSWORD`, or the first line of a `--password-file`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from drivers.errors import VitalmonError

PASSWORD_ENV = "VITALMON_MQTT_PASSWORD"
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a clinic or chair: one MQTT topic level, no wildcards
TOPIC_ROOT = "vitalmon"


class LinkSetupError(VitalmonError):
    """A broker address, password or certificate the link cannot start with."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    tls: bool
    user: str
    host: str
    port: int
    clinic: str

    def topic(self, chair: str, leaf: str) -> str:
        return f"{TOPIC_ROOT}/{self.clinic}/{chair}/{leaf}"

    @property
    def clinic_filter(self) -> str:
        return f"{TOPIC_ROOT}/{self.clinic}/#"

    def __str__(self) -> str:
        return (
            f"{'mqtts' if self.tls else 'mqtt'}://{self.user}@{self.host}:{self.port}/{self.clinic}"
        )


def check_name(text: str, what: str) -> str:
    if not NAME.fullmatch(text):
        raise LinkSetupError(f"{what} '{text}' must be 1-64 letters, digits, '-' or '_'")
    return text


def parse_broker_url(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise LinkSetupError(f"'{url}': the broker URL must start mqtt:// or mqtts://")
    if parts.password is not None:
        raise LinkSetupError(
            f"'{url}': no password in the URL; set {PASSWORD_ENV} or use --password-file"
        )
    if not parts.username:
        raise LinkSetupError(f"'{url}': no user name (mqtt://USER@HOST:PORT/CLINIC)")
    try:
        port = parts.port
    except ValueError:
        raise LinkSetupError(f"'{url}': the port is not a number 1-65535") from None
    if not parts.hostname:
        raise LinkSetupError(f"'{url}': no host (mqtt://USER@HOST:PORT/CLINIC)")
    clinic = parts.path.strip("/")
    if not clinic:
        raise LinkSetupError(f"'{url}': no clinic (mqtt://USER@HOST:PORT/CLINIC)")
    tls = parts.scheme == "mqtts"
    default = 8883 if tls else 1883
    return BrokerAddress(tls, parts.username, parts.hostname, port or default,
                         check_name(clinic, "clinic"))  # fmt: skip


def read_password(password_file: str | None) -> str:
    """From `--password-file` (its first line) or the environment; neither is an error."""
    if password_file is not None:
        try:
            text = Path(password_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LinkSetupError(f"cannot read password file '{password_file}': {exc}") from None
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise LinkSetupError(f"password file '{password_file}' is empty")
        return lines[0]
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        raise LinkSetupError(f"no broker password: set {PASSWORD_ENV} or use --password-file")
    return password


def check_ca(address: BrokerAddress, ca_file: str | None) -> str | None:
    if ca_file is None:
        return None
    if not address.tls:
        raise LinkSetupError("--ca goes with an mqtts:// broker URL")
    if not Path(ca_file).is_file():
        raise LinkSetupError(f"CA file '{ca_file}' does not exist")
    return ca_file
