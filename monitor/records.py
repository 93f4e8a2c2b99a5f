"""Every record the monitor emits, in one place: its shape, how it is made, how it is read.

A record is a JSON object: what `--headless` prints, what the recording keeps, what
replay, `log`, `export`, `report` and the GUI read. Its JSON form is its only form
(a `dict` in insertion order, so a headless line is the same at every run), and this
module is the only one that says which fields each type carries
(docs/architecture.md, "Records"): producers build records with the functions below,
and readers of a recording pass every row through `check_record`, so a row that does
not fit is one line naming its table and row, never a traceback further on.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping
from typing import TypeGuard

from drivers.errors import VitalmonError

Record = dict[str, object]

# The record types; a recording keeps the first five in tables of their own.
NUMERICS, NIBP, ALARM, EVENT, COMMAND, ERROR = (
    "numerics",
    "nibp",
    "alarm",
    "event",
    "command",
    "error",
)
# Data time never reaches this (about 3 years): a larger `t` is damage, not a session.
MAX_T_S = 1e8


class RecordError(VitalmonError):
    """A record (a recording's row) that does not have its type's shape."""


# -- the JSON form ---------------------------------------------------------------------


def _plain(value: object) -> object:
    """numpy scalars and arrays a channel may have put in a record (they have tolist)."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Made once: json.dumps with arguments builds an encoder per call (same text).
_ENCODE = json.JSONEncoder(separators=(", ", ": "), default=_plain).encode
_last_encoded: tuple[Record | None, str] = (None, "")


def record_json(record: Record) -> str:
    """The record's one JSON text: the headless line and the recording's row.

    The printer and the recorder ask in turn for the same record, so the last one
    encoded is kept (a record is never changed once emitted): encoded once, not twice.
    Raises TypeError or ValueError for a record that is not JSON."""
    global _last_encoded
    last, text = _last_encoded
    if last is record:
        return text
    text = _ENCODE(record)
    _last_encoded = (record, text)
    return text


# -- making records -------------------------------------------------------------------


def numerics_record(t: float) -> Record:
    """The once-a-second record; each channel adds its own fields."""
    return {"type": NUMERICS, "t": t}


def nibp_reading(
    t: float, sys: int | None, dia: int | None, map_: int | None, pr: int | None
) -> Record:
    return {
        "type": NIBP,
        "t": t,
        "sys": sys,
        "dia": dia,
        "map": map_,
        "pr": pr,
        "status": "ok",
        "error_code": None,
        "error": None,
    }


def nibp_failure(t: float, code: int | None, message: str) -> Record:
    return {
        "type": NIBP,
        "t": t,
        "sys": None,
        "dia": None,
        "map": None,
        "pr": None,
        "status": "failed",
        "error_code": code,
        "error": message,
    }


def alarm_record(
    t: float,
    alarm_id: str,
    priority: str | None,
    kind: str,
    state: str,
    message: str,
    /,
    **extra: object,
) -> Record:
    """`extra` may carry any field, a `message` in place of the alarm's own too."""
    return {
        "type": ALARM,
        "t": round(t, 3),
        "id": alarm_id,
        "priority": priority,
        "kind": kind,
        "state": state,
        "message": message,
        **extra,
    }


def event_record(t: float, kind: str, /, **fields: object) -> Record:
    return {"type": EVENT, "t": round(t, 3), "kind": kind, **fields}


def link_event(t: float, channel: str, state: str, detail: str) -> Record:
    """A device link changed state (the port's own events, and a channel's verdict)."""
    return event_record(t, "link", channel=channel, state=state, detail=detail)


def command_record(t: float, name: str, args: Mapping[str, object]) -> Record:
    return {"type": COMMAND, "t": round(t, 3), "name": name, "args": dict(args)}


def error_record(t: float, command: str, message: str) -> Record:
    """A command that was refused: the run goes on, the refusal is on the record."""
    return {"type": ERROR, "t": round(t, 3), "command": command, "message": message}


# -- reading records --------------------------------------------------------------------


def time_of(record: Mapping[str, object]) -> float:
    """A record's data time: every record has one (made above, or read through
    `check_record`), so anything else is damage, said as a `RecordError`."""
    t = record["t"]
    if type(t) is float or type(t) is int:  # what producers put there: no ABC check
        return float(t)
    if isinstance(t, bool) or not isinstance(t, numbers.Real):  # numpy's too
        raise RecordError(f"'t' is {t!r}, not a data time")
    return float(t)


def as_float(value: object) -> float:
    """A field that holds a number, as a float (a field that does not is damage: readers
    of a recording see a row through `check_record` first)."""
    if type(value) is float or type(value) is int:
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy's too
        raise RecordError(f"{value!r} is not a number")
    return float(value)


def fields_of(value: object) -> dict[str, object]:
    """A JSON object's fields (a command's `args`, a metadata table); none where the
    value is not one (`check_record` has refused that in a record already)."""
    return dict(value) if isinstance(value, dict) else {}


Check = Callable[[object], bool]


def _text(value: object) -> bool:
    return isinstance(value, str)


def _number(value: object) -> TypeGuard[int | float]:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _maybe(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _table(value: object) -> bool:
    return isinstance(value, dict)


def _time(value: object) -> bool:
    return _number(value) and 0.0 <= float(value) <= MAX_T_S


def _whole(value: object) -> bool:
    return _number(value) and float(value).is_integer()


# Fields each type must carry (beyond `type`, `t` and `wall`), and what each must be.
REQUIRED: dict[str, dict[str, Check]] = {
    NUMERICS: {},
    NIBP: {
        "sys": _maybe(_whole),
        "dia": _maybe(_whole),
        "map": _maybe(_whole),
        "status": _text,
    },
    ALARM: {"id": _text, "state": _text, "kind": _text, "priority": _maybe(_text)},
    EVENT: {"kind": _text},
    COMMAND: {"name": _text, "args": _table},
    ERROR: {"command": _text, "message": _text},
}
# Fields that, where present, must be of their kind (readers rely on them).
OPTIONAL: dict[str, dict[str, Check]] = {
    NUMERICS: {"spo2": _maybe(_number), "pr": _maybe(_number), "rr": _maybe(_number)},
    NIBP: {"pr": _maybe(_whole), "error_code": _maybe(_whole), "error": _maybe(_text)},
    ALARM: {"message": _text, "delay_s": _maybe(_number), "duration_s": _maybe(_number)},
    EVENT: {"state": _maybe(_text), "channel": _maybe(_text), "phase": _maybe(_text)},
}


def check_record(value: object, expected_type: str | None = None) -> Record:
    """`value` as a record if it has the shape of its type (else `RecordError`, naming
    the field). `expected_type`: the type its table holds."""
    if not isinstance(value, dict):
        raise RecordError(f"not a record but {type(value).__name__}")
    kind = value.get("type")
    if not isinstance(kind, str) or not kind:
        raise RecordError("no 'type'")
    if expected_type is not None and kind != expected_type:
        raise RecordError(f"a '{kind}' record where '{expected_type}' records belong")
    if not _time(value.get("t")):
        raise RecordError(f"'t' is {value.get('t')!r}, not a data time")
    if "wall" in value and not _text(value["wall"]):
        raise RecordError(f"'wall' is {value['wall']!r}, not a time")
    for name, check in REQUIRED.get(kind, {}).items():
        if name not in value:
            raise RecordError(f"a '{kind}' record without '{name}'")
        if not check(value[name]):
            raise RecordError(f"'{name}' is {value[name]!r}")
    for name, check in OPTIONAL.get(kind, {}).items():
        if name in value and not check(value[name]):
            raise RecordError(f"'{name}' is {value[name]!r}")
    return value
