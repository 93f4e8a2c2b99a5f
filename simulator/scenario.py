"""Scenario files: a patient, a device set and a timeline of changes, in TOML."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from drivers.errors import VitalmonError, shown
from drivers.files import parse_toml, read_text_file
from drivers.registry import get_protocol
from drivers.suntech import ERROR_TEXTS

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
    "resp_silent": False,  # the respiration source sends nothing (a dead sensor or cable)
    "capno_adapter_off": False,  # the CO2 airway adapter is off the patient's airway
    "capno_zero_required": False,  # the CO2 module asks for a zero (until one runs)
    "capno_obstruction": 0.0,  # partly obstructed airway, 0-1: the capnogram's shape
}
# Drugs a timeline step may set; an infusion rate holds until a later step changes it.
DRUG_KEYS = {
    "ketamine_mg_per_kg_h": 0.0,
}
# [devices] keys: which protocol each virtual device speaks ("" = no such device).
DEVICE_PROTOCOL_DEFAULTS = {
    "oximeter": "nonin2",
    "nibp": "suntech",
    "resp": "simresp",
    "capno": "capnostat",  # every simulated bedside has a CO2 module; `capno = false` opts out
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
    and set any device faults named (`devices`, keys of DEVICE_KEYS) and drug
    rates (`drugs`, keys of DRUG_KEYS)."""

    at_s: float
    ramp_s: float
    targets: dict[str, float]
    devices: dict[str, object] = field(default_factory=dict)
    drugs: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NurseAction:
    """A command the nurse gives at a data time (scripted sessions: `[[actions]]`).

    The simulator does not check `command` against the monitor's commands (it cannot
    import the monitor); the monitor refuses an unknown one when it schedules it."""

    at_s: float
    command: str
    args: dict[str, object]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    patient: dict[str, float]
    oximeter_protocol: str = "nonin2"
    timeline: tuple[TimelineStep, ...] = ()
    source: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    nibp_protocol: str = "suntech"  # "" = no NIBP module
    resp_protocol: str = "simresp"  # "" = no respiration source
    capno_protocol: str = ""  # "" = no CO2 module
    actions: tuple[NurseAction, ...] = ()

    @property
    def end_s(self) -> float:
        """When the timeline's last change is complete; its state holds after that."""
        return max((s.at_s + s.ramp_s for s in self.timeline), default=0.0)


def _scenario_dir() -> Traversable:
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
    if not name_or_path:
        raise ScenarioError("empty scenario name (leave --sim out for 'steady')")
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        try:
            text = read_text_file(path, "scenario file")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario file '{path}': {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ScenarioError(f"cannot read scenario file '{path}': {exc.reason}") from None
        return _parse(text, str(path))
    names = [entry.name[:-5] for entry in _scenario_dir().iterdir()]
    if name_or_path not in names:
        known = ", ".join(s.name for s in builtin_scenarios())
        raise ScenarioError(f"unknown scenario '{shown(name_or_path)}' (built in: {known})")
    entry = _scenario_dir() / f"{name_or_path}.toml"
    return _parse(entry.read_text(encoding="utf-8"), entry.name)


def _number(where: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: '{key}' must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ScenarioError(f"{where}: '{key}' must be a finite number, not {value!r}")
    return float(value)


def _device_value(where: str, key: str, value: object) -> object:
    default = DEVICE_KEYS[key]
    if key == "oximeter_fault":
        if value not in OXIMETER_FAULTS:
            raise ScenarioError(f"{where}: 'oximeter_fault' must be one of {OXIMETER_FAULTS}")
        return value
    if type(value) is not type(default):
        raise ScenarioError(f"{where}: '{key}' must be a {type(default).__name__}")
    if key == "capno_obstruction" and not (isinstance(value, float) and 0.0 <= value <= 1.0):
        raise ScenarioError(f"{where}: 'capno_obstruction' must be 0-1")
    if key == "nibp_error" and value != 0 and value not in ERROR_TEXTS:
        codes = ", ".join(str(c) for c in sorted(ERROR_TEXTS))
        raise ScenarioError(f"{where}: 'nibp_error' must be 0 or a SunTech code ({codes})")
    return value


def _timeline_lines(text: str) -> list[int]:
    """Line number of each `[[timeline]]` header, so an error can name the line."""
    return [
        n
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip().replace(" ", "").startswith("[[timeline]]")
    ]


def _time(where: str, raw: dict, key: str, default: float | None) -> float:
    """`KEY_s` seconds or `KEY_min` minutes (one of them), never negative."""
    seconds, minutes = raw.get(f"{key}_s"), raw.get(f"{key}_min")
    if seconds is not None and minutes is not None:
        raise ScenarioError(f"{where}: give '{key}_s' or '{key}_min', not both")
    if seconds is None and minutes is None:
        if default is None:
            raise ScenarioError(f"{where}: missing '{key}_s' (or '{key}_min')")
        return default
    value = (
        _number(where, f"{key}_s", seconds)
        if seconds is not None
        else 60.0 * _number(where, f"{key}_min", minutes)
    )
    if value < 0:
        raise ScenarioError(f"{where}: '{key}' must not be negative")
    return value


def _step(where: str, raw: object) -> TimelineStep:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a timeline step must be a table")
    targets: dict[str, float] = {}
    devices: dict[str, object] = {}
    drugs: dict[str, float] = {}
    for key, value in raw.items():
        if key in ("at_s", "at_min", "ramp_s", "ramp_min"):
            continue
        if key in DEVICE_KEYS:
            devices[key] = _device_value(where, key, value)
        elif key in DRUG_KEYS:
            rate = _number(where, key, value)
            if rate < 0:
                raise ScenarioError(f"{where}: '{key}' must not be negative")
            drugs[key] = rate
        elif key in VITAL_KEYS:
            targets[key] = _vital(where, key, value)
        else:
            known = ", ".join([*VITAL_KEYS, *DEVICE_KEYS, *DRUG_KEYS])
            raise ScenarioError(f"{where}: unknown key '{key}' (known: at_s, ramp_s, {known})")
    return TimelineStep(
        _time(where, raw, "at", None), _time(where, raw, "ramp", 0.0), targets, devices, drugs
    )


def _description(source: str, value: object) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{source}: 'description' must be text, not {type(value).__name__}")
    return value


def _action(where: str, raw: object) -> NurseAction:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: an action must be a table")
    command = raw.get("command")
    if not isinstance(command, str) or not command:
        raise ScenarioError(f"{where}: missing 'command' (a command name, e.g. \"nibp_program\")")
    args = {k: v for k, v in raw.items() if k not in ("at_s", "at_min", "command")}
    return NurseAction(_time(where, raw, "at", None), command, args)


# Plausible ranges: a typo such as hr_bpm = 7200 is an error, not a patient.
VITAL_RANGES = {
    "hr_bpm": (20.0, 300.0),
    "spo2_percent": (40.0, 100.0),
    "pi_percent": (0.02, 20.0),
    "rr_bpm": (0.0, 80.0),
    "sys_mmhg": (30.0, 300.0),
    "dia_mmhg": (10.0, 200.0),
}


def _vital(where: str, key: str, value: object) -> float:
    number = _number(where, key, value)
    low, high = VITAL_RANGES[key]
    if not low <= number <= high:
        raise ScenarioError(f"{where}: '{key}' = {number:g} is outside {low:g}..{high:g}")
    return number


def _devices(source: str, raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: [devices] must be a table")
    out = dict(DEVICE_PROTOCOL_DEFAULTS)
    for key, value in raw.items():
        if key not in DEVICE_PROTOCOL_DEFAULTS:
            known = ", ".join(DEVICE_PROTOCOL_DEFAULTS)
            raise ScenarioError(f"{source}: [devices] has unknown key '{key}' (known: {known})")
        if value is False:
            value = ""
        if not isinstance(value, str):
            raise ScenarioError(f"{source}: [devices] '{key}' must be a protocol name or false")
        if value:
            try:
                kind = get_protocol(value).kind
            except VitalmonError as exc:
                raise ScenarioError(f"{source}: [devices] '{key}': {exc}") from None
            if kind != key:
                raise ScenarioError(
                    f"{source}: [devices] '{key}' = '{value}' is a {kind} protocol, not {key}"
                )
        out[key] = value
    if not out["oximeter"]:
        raise ScenarioError(f"{source}: [devices] 'oximeter' cannot be switched off")
    return out


def _parse(text: str, source: str) -> Scenario:
    try:
        doc = parse_toml(text, source)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{source}: missing 'name' (a string)")
    unknown = set(doc) - {"name", "description", "patient", "devices", "timeline", "actions"}
    if unknown:
        raise ScenarioError(f"{source}: unknown top-level key '{sorted(unknown)[0]}'")
    patient = dict(DEFAULT_PATIENT)
    raw_patient = doc.get("patient", {})
    if not isinstance(raw_patient, dict):
        raise ScenarioError(f"{source}: [patient] must be a table")
    for key, value in raw_patient.items():
        if key not in VITAL_KEYS:
            raise ScenarioError(f"{source}: [patient] has unknown key '{key}'")
        patient[key] = _vital(f"{source}: [patient]", key, value)
    raw_steps = doc.get("timeline", [])
    if not isinstance(raw_steps, list):
        raise ScenarioError(f"{source}: 'timeline' must be an array of [[timeline]] tables")
    lines = _timeline_lines(text)
    steps = []
    for i, raw in enumerate(raw_steps, start=1):
        line = f" (line {lines[i - 1]})" if len(lines) == len(raw_steps) else ""
        steps.append(_step(f"{source}: [[timeline]] step {i}{line}", raw))
    devices = _devices(source, doc.get("devices", {}))
    raw_actions = doc.get("actions", [])
    if not isinstance(raw_actions, list):
        raise ScenarioError(f"{source}: 'actions' must be an array of [[actions]] tables")
    actions = [_action(f"{source}: [[actions]] #{i}", raw) for i, raw in enumerate(raw_actions, 1)]
    return Scenario(
        name=name,
        description=_description(source, doc.get("description", "")),
        patient=patient,
        oximeter_protocol=devices["oximeter"],
        timeline=tuple(sorted(steps, key=lambda s: s.at_s)),
        source=source,
        nibp_protocol=devices["nibp"],
        resp_protocol=devices["resp"],
        capno_protocol=devices["capno"],
        actions=tuple(sorted(actions, key=lambda a: a.at_s)),
    )
