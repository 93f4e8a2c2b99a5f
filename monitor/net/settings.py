"""The GUI's central-station settings: a small TOML file instead of command-line flags.

A bedside started from a desktop launcher has no `--publish`; a clinic's technician
writes `$XDG_CONFIG_HOME/vitalmon/central.toml` (`~/.config/vitalmon/central.toml`)
once per chair (docs/central.md):

    url = "mqtts://chair3@desk.local:8883/clinic1"
    chair = "chair3"
    ca_file = "/etc/vitalmon/ca.crt"        # mqtts only
    password_file = "mqtt.pw"               # else VITALMON_MQTT_PASSWORD

Relative paths are relative to the settings file. A file that does not exist means
"do not publish"; one that exists but is wrong is a `LinkSetupError` (one line).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from monitor.net.broker import LinkSetupError, check_name, parse_broker_url

KEYS = {"url", "chair", "ca_file", "password_file"}


@dataclass(frozen=True, slots=True)
class LinkSettings:
    url: str
    chair: str
    ca_file: str | None = None
    password_file: str | None = None


def settings_path() -> Path:
    """$XDG_CONFIG_HOME/vitalmon/central.toml, or ~/.config/vitalmon/central.toml."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "vitalmon" / "central.toml"


def load_link_settings(path: Path | None = None) -> LinkSettings | None:
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LinkSetupError(f"cannot read central settings '{path}': {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LinkSetupError(f"central settings '{path}': {exc}") from None
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise LinkSetupError(
            f"central settings '{path}': unknown key '{unknown[0]}' "
            f"(known: {', '.join(sorted(KEYS))})"
        )
    for key in ("url", "chair"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise LinkSetupError(f"central settings '{path}': '{key}' (a string) is missing")
    files = {}
    for key in ("ca_file", "password_file"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise LinkSetupError(f"central settings '{path}': '{key}' must be a file name")
        files[key] = str(path.parent / Path(value).expanduser())
    try:
        parse_broker_url(data["url"])
        check_name(data["chair"], "chair")
    except LinkSetupError as exc:
        raise LinkSetupError(f"central settings '{path}': {exc}") from None
    return LinkSettings(data["url"], data["chair"], **files)
