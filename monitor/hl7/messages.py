"""Records to HL7 v2.6 ORU^R01 messages (IHE PCD-01), the same for a file and a live feed.

`MinuteFeed` takes the pipeline's records in emission order and gives back whole
messages: one a minute (wall-clock minutes, UTC) with that minute's latest value of
every coded numeric, and one per NIBP reading at its reading time. `vitalmon export
--format hl7` feeds it a recording; `--hl7 mllp://` feeds it the live pipeline, so both
send the very same messages. Codes and units: codes.toml (docs/interchange.md).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

from monitor.records import Record

SEGMENT_END = "\r"


@dataclass(frozen=True, slots=True)
class Code:
    """One value's identity in a message: MDC code and name, unit, OBX-4 sub-id."""

    code: int
    name: str
    unit_code: int
    unit_name: str
    sub_id: str


@dataclass(frozen=True, slots=True)
class CodeTable:
    profile: Mapping[str, str]
    numerics: Mapping[str, Code]
    by_source: Mapping[tuple[str, str], Code]  # (field, rr_source) -> its own code
    nibp: Mapping[str, Code]


def _code(entry: Mapping[str, object], units: Mapping[str, Mapping[str, object]]) -> Code:
    unit = units[str(entry["unit"])]
    return Code(
        int(entry["code"]),  # type: ignore[call-overload]
        str(entry["name"]),
        int(unit["code"]),  # type: ignore[call-overload]
        str(unit["name"]),
        str(entry["sub_id"]),
    )


@cache
def codes() -> CodeTable:
    """codes.toml, read once."""
    text = resources.files("monitor.hl7").joinpath("codes.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    units = data["units"]
    numerics: dict[str, Code] = {}
    by_source: dict[tuple[str, str], Code] = {}
    for key, entry in data["numerics"].items():
        numerics[key] = _code(entry, units)
        for source, override in entry.get("when_source", {}).items():
            by_source[(key, source)] = _code({**entry, **override}, units)
    nibp = {key: _code(entry, units) for key, entry in data["nibp"].items()}
    return CodeTable(data["profile"], numerics, by_source, nibp)


def escape(text: str) -> str:
    """HL7 escape sequences for the delimiters (`|^~\\&`); line breaks would end a segment."""
    out = text.replace("\\", "\\E\\")
    for char, seq in (("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\")):
        out = out.replace(char, seq)
    return " ".join(out.splitlines())


def hl7_time(moment: datetime) -> str:
    """DTM in UTC: YYYYMMDDHHMMSS[.SSS]+0000 (milliseconds only where there are any)."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y%m%d%H%M%S")
    ms = round(moment.microsecond / 1000)
    if ms:
        text += f".{ms:03d}"
    return text + "+0000"


def number(value: object) -> float | int | None:
    """A finite measured number, else None (missing values are never sent)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _value_text(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.10g}"


@dataclass(frozen=True, slots=True)
class Message:
    """One ORU^R01: its data time (the latest observation's), MSH-10, and its text."""

    t: float
    control_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Observation:
    code: Code
    value: float | int
    t: float  # data time of the value


class MessageBuilder:
    """One ORU^R01 message's text (segments joined by CR) from observations."""

    def __init__(self, wall_start: datetime, control_prefix: str) -> None:
        self.wall_start = wall_start
        self.prefix = control_prefix
        self.sent = 0
        self.table = codes()

    def wall(self, t: float) -> datetime:
        return self.wall_start + timedelta(seconds=t)

    def build(self, observations: list[Observation], patient_id: str) -> Message:
        self.sent += 1
        control = f"{self.prefix}{self.sent:06d}"
        profile = self.table.profile
        t = max(o.t for o in observations)
        when = hl7_time(self.wall(t))
        app = profile["sending_application"]
        segments = [
            f"MSH|^~\\&|{app}||||{when}||ORU^R01^ORU_R01|{control}|P|2.6|||AL|NE||"
            f"UNICODE UTF-8|||{profile['msh21']}",
            f"PID|||{escape(patient_id)}^^^^MR" if patient_id else "PID|||",
            f"OBR|1|{control}^{app}|{control}^{app}|{profile['obr4']}|||{when}",
        ]
        for i, o in enumerate(observations, start=1):
            c = o.code
            segments.append(
                f"OBX|{i}|NM|{c.code}^{c.name}^MDC|{c.sub_id}|{_value_text(o.value)}|"
                f"{c.unit_code}^{c.unit_name}^MDC|||||{profile['result_status']}|||"
                f"{hl7_time(self.wall(o.t))}"
            )
        return Message(t, control, SEGMENT_END.join(segments) + SEGMENT_END)


def minute_of(moment: datetime) -> int:
    return math.floor(moment.timestamp() / 60)


class MinuteFeed:
    """Records in (emission order), messages out."""

    def __init__(self, wall_start: datetime, control_prefix: str) -> None:
        self.builder = MessageBuilder(wall_start, control_prefix)
        self.patient_id = ""
        self._minute: int | None = None
        self._latest: dict[str, Observation] = {}

    def feed(self, record: Record) -> list[Message]:
        kind = record.get("type")
        if kind == "event" and record.get("kind") == "session_setup":
            patient = record.get("patient_id")
            if isinstance(patient, str):
                self.patient_id = patient
            return []
        t = number(record.get("t"))
        if t is None:
            return []
        if kind == "numerics":
            out = self._close_minute_before(minute_of(self.builder.wall(t)))
            self._numerics(record, t)
            return out
        if kind == "nibp":
            return self._nibp(record, t)
        return []

    def flush(self) -> list[Message]:
        """The last, unfinished minute (end of a recording, or the sender stopping)."""
        return self._close_minute_before(None)

    def _close_minute_before(self, minute: int | None) -> list[Message]:
        out = []
        if self._latest and (minute is None or minute != self._minute):
            out.append(self.builder.build(list(self._latest.values()), self.patient_id))
            self._latest = {}
        self._minute = minute
        return out

    def _numerics(self, record: Record, t: float) -> None:
        table = self.builder.table
        source = record.get("rr_source")
        for key, code in table.numerics.items():
            value = number(record.get(key))
            if value is None:
                continue
            code = table.by_source.get((key, str(source)), code)
            self._latest[key] = Observation(code, value, t)

    def _nibp(self, record: Record, t: float) -> list[Message]:
        if record.get("status") != "ok":
            return []  # a failed reading has no value (its alarm is the monitor's business)
        observations = [
            Observation(code, value, t)
            for key, code in self.builder.table.nibp.items()
            if (value := number(record.get(key))) is not None
        ]
        return [self.builder.build(observations, self.patient_id)] if observations else []


def messages_of(records: Iterable[Record], wall_start: datetime, control_prefix: str) -> list[str]:
    """Every message a whole recording gives, in order."""
    feed = MinuteFeed(wall_start, control_prefix)
    out: list[Message] = []
    for record in records:
        out += feed.feed(record)
    return [m.text for m in out + feed.flush()]
