"""Scenario files: a patient, a device set and a timeline of changes, in TOML."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from drivers.errors import VitalmonError

VITAL_KEYS = (
    "hr_bpm",
    "spo2_percent",
    "pi_percent",
    "rr_bpm",
    "sys_mmhg",
    "dia_mmhg",
)
# Device faults a timeline step may set; they hold until a later step changes them.
OXIMETER_FAULTS = ("none", "probe_off", "artifact", "no_signal", "silent")
DEVICE_KEYS = {
    "oximeter_fault": "none",  # one of OXIMETER_FAULTS
    "nibp_error": 0,  # SunTech error code the next measurements end with (0 = none)
    "nibp_silent": False,  # the NIBP module stops answering
}
DEFAULT_PATIENT = {
    "hr_bpm": 72.0,
    "spo2_percent": 97.0,
    "pi_percent": 3.0,
    "rr_bpm": 14.0,
    "sys_mmhg": 122.0,
    "dia_mmhg": 78.0,
}


class ScenarioError(VitalmonError):
    """A scenario that cannot be found or read."""


@dataclass(frozen=True, slots=True)
class TimelineStep:
    """From `at_s`, move the named vitals to new targets over `ramp_s` seconds,
    and set any device faults named (`devices`, keys of DEVICE_KEYS)."""

    at_s: float
    ramp_s: float
    targets: dict[str, float]
    devices: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    patient: dict[str, float]
    oximeter_protocol: str = "nonin2"
    timeline: tuple[TimelineStep, ...] = ()
    source: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def _scenario_dir():
    return resources.files("simulator") / "scenarios"


def builtin_scenarios() -> list[Scenario]:
    """Every bundled scenario, sorted by name."""
    found = []
    for entry in _scenario_dir().iterdir():
        if entry.name.endswith(".toml"):
            found.append(_parse(entry.read_text(encoding="utf-8"), entry.name))
    return sorted(found, key=lambda s: s.name)


def load_scenario(name_or_path: str) -> Scenario:
    """A bundled scenario by name, or a user's TOML file by path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario file '{path}': {exc.strerror}") from exc
        return _parse(text, str(path))
    entry = _scenario_dir() / f"{name_or_path}.toml"
    if not entry.is_file():
        names = ", ".join(s.name for s in builtin_scenarios())
        raise ScenarioError(f"unknown scenario '{name_or_path}' (built in: {names})")
    return _parse(entry.read_text(encoding="utf-8"), entry.name)


def _number(where: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: '{key}' must be a number, not {value!r}")
    return float(value)


def _device_value(where: str, key: str, value: object) -> object:
    default = DEVICE_KEYS[key]
    if key == "oximeter_fault":
        if value not in OXIMETER_FAULTS:
            raise ScenarioError(f"{where}: 'oximeter_fault' must be one of {OXIMETER_FAULTS}")
        return value
    if type(value) is not type(default):
        raise ScenarioError(f"{where}: '{key}' must be a {type(default).__name__}")
    return value


def _parse(text: str, source: str) -> Scenario:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: {exc}") from exc
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{source}: missing 'name' (a string)")
    patient = dict(DEFAULT_PATIENT)
    for key, value in doc.get("patient", {}).items():
        if key not in VITAL_KEYS:
            raise ScenarioError(f"{source}: [patient] has unknown key '{key}'")
        patient[key] = _number(f"{source}: [patient]", key, value)
    steps = []
    for i, raw in enumerate(doc.get("timeline", []), start=1):
        where = f"{source}: [[timeline]] #{i}"
        if "at_s" not in raw:
            raise ScenarioError(f"{where}: missing 'at_s'")
        targets = {}
        devices: dict[str, object] = {}
        for key, value in raw.items():
            if key in ("at_s", "ramp_s"):
                continue
            if key in DEVICE_KEYS:
                devices[key] = _device_value(where, key, value)
            elif key in VITAL_KEYS:
                targets[key] = _number(where, key, value)
            else:
                raise ScenarioError(f"{where}: unknown key '{key}'")
        steps.append(
            TimelineStep(
                _number(where, "at_s", raw["at_s"]),
                _number(where, "ramp_s", raw.get("ramp_s", 0.0)),
                targets,
                devices,
            )
        )
    devices = doc.get("devices", {})
    return Scenario(
        name=name,
        description=str(doc.get("description", "")),
        patient=patient,
        oximeter_protocol=str(devices.get("oximeter", "nonin2")),
        timeline=tuple(sorted(steps, key=lambda s: s.at_s)),
        source=source,
    )
