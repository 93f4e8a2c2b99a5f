"""The central station's model, Qt-free: messages from the broker in, records out.

`CentralModel.on_message` takes one MQTT message of a chair and returns the records
to print (`--headless`) or show: the bedside's record as it printed it plus `chair`
and `received` (wall time of arrival). An alarm record already seen (same chair and
`seq`, resent after a broken connection) is dropped, so none is shown twice; one that
this central missed (it reconnected after the bedside delivered its outage backlog) is
taken from the chair's retained `recent` list, in `seq` order. A new `run` id (the
bedside restarted, numbering from 1 again) forgets the seqs seen.
`tick(now)` raises CHAIR_OFFLINE (high) for a chair whose last will arrived or that
sent nothing for `silence_s`, and ends it when the chair sends again.

For the window it also keeps, per chair, the latest numerics, status, active alarms and
NIBP reading, the last hour of trends (`HourTrend`) and the live waves (`ChairWaves`,
from `wave`, which is not printed: the bedside does not print its waves either); and
the desk's own technical alarms (`desk_alarm`, e.g. a failed sound device).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources

from monitor.net.hourtrend import HourTrend
from monitor.net.waves import ChairWaves
from monitor.records import Record, alarm_record

OFFLINE_ID = "CHAIR_OFFLINE"


@dataclass(frozen=True, slots=True)
class OfflineRule:
    priority: str
    kind: str
    silence_s: float
    message: str


def load_rule(alarm_id: str = OFFLINE_ID) -> OfflineRule:
    """One of the central's own alarms, from central.toml."""
    text = resources.files("monitor").joinpath("net/central.toml").read_text()
    data = tomllib.loads(text)[alarm_id]
    return OfflineRule(
        str(data["priority"]),
        str(data["kind"]),
        float(data.get("silence_s", 0.0)),
        str(data["message"]),
    )


def load_offline_rule() -> OfflineRule:
    return load_rule(OFFLINE_ID)


@dataclass(slots=True)
class ChairState:
    name: str
    last_heard: float
    online: bool = True
    offline_alarm: bool = False
    closed: bool = False  # its bedside said goodbye (status "closed"): no CHAIR_OFFLINE
    seqs: set[int] = field(default_factory=set)
    run: str | None = None
    numerics: Record | None = None
    status: Record | None = None
    active: list[Record] = field(default_factory=list)
    nibp: Record | None = None  # the latest reading (or failure)
    trend: HourTrend = field(default_factory=HourTrend)
    waves: ChairWaves = field(default_factory=ChairWaves)
    changes: int = 0  # counts the messages that may change the chair's tile (not waves)


def wall_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class CentralModel:
    """Every chair of one clinic, from `vitalmon/<clinic>/<chair>/<leaf>` messages."""

    def __init__(self, clinic: str, start: float, rule: OfflineRule | None = None) -> None:
        self.prefix = f"vitalmon/{clinic}/"
        self.start = start
        self.rule = rule or load_offline_rule()
        self.chairs: dict[str, ChairState] = {}
        self.duplicates = 0
        self.desk: dict[str, Record] = {}  # the central's own active technical alarms, by id

    def on_message(self, topic: str, payload: bytes, now: float, wall: str) -> list[Record]:
        if not topic.startswith(self.prefix):
            return []
        parts = topic[len(self.prefix) :].split("/")
        if len(parts) != 2:
            return []
        name, leaf = parts
        try:
            body = json.loads(payload) if payload else None
        except (ValueError, RecursionError):  # not JSON, or nested past Python's depth
            return []
        chair = self.chairs.get(name)
        if chair is None:
            chair = self.chairs[name] = ChairState(name, now)
        out: list[Record] = []
        if leaf == "recent":
            return self._recent(chair, body, wall)
        if leaf == "wave" and isinstance(body, dict):
            if not chair.waves.add(body):
                return []
            return self._heard(chair, now, wall, changed=False)
        if leaf == "status" and isinstance(body, dict):
            self._new_run(chair, body.get("run"))
            record: Record = {"type": "status", **body}
            state = body.get("state")
            if state in ("offline", "closed"):
                # The last will was written when the bedside connected: its patient and
                # phase may be stale, so the chair keeps what it last said while online.
                chair.status = {**(chair.status or body), "state": state}
                chair.online = False
                out.append(self._with(chair, record, wall))
                if state == "offline":
                    return out + self._offline(chair, now, wall, "last will")
                # A goodbye: the session ended at the bedside, nothing was lost.
                chair.closed = True
                chair.changes += 1
                return out + (self._online(chair, now, wall) if chair.offline_alarm else [])
            chair.closed = False  # a new session on this chair
            chair.status = body
        elif leaf == "active" and isinstance(body, list):
            chair.active = [a for a in body if isinstance(a, dict)]
            record = {"type": "active", "alarms": chair.active}
        elif isinstance(body, dict) and "type" in body:
            record = body
            if leaf == "alarms":
                if not self._first(chair, body.get("seq")):
                    return []
            elif leaf == "numerics":
                chair.numerics = body
                chair.trend.add(body)
            elif leaf == "nibp":
                chair.nibp = body
                chair.trend.add(body)
        else:
            return []
        out += self._heard(chair, now, wall)
        out.append(self._with(chair, record, wall))
        return out

    def _first(self, chair: ChairState, seq: object) -> bool:
        """An alarm record not seen before from this chair's run (by `seq`)."""
        if not isinstance(seq, int):
            return True
        if seq in chair.seqs:
            self.duplicates += 1
            return False
        chair.seqs.add(seq)
        return True

    def _new_run(self, chair: ChairState, run: object) -> None:
        if isinstance(run, str) and run != chair.run:
            chair.run = run
            chair.seqs.clear()

    def _recent(self, chair: ChairState, body: object, wall: str) -> list[Record]:
        """The alarm records of the retained `recent` list this central has not shown."""
        if not isinstance(body, dict) or not isinstance(body.get("alarms"), list):
            return []
        self._new_run(chair, body.get("run"))
        listed = body["alarms"]
        alarms = [a for a in listed if isinstance(a, dict) and isinstance(a.get("seq"), int)]
        alarms.sort(key=lambda a: a["seq"])
        return [self._with(chair, a, wall) for a in alarms if self._first_quietly(chair, a["seq"])]

    def _first_quietly(self, chair: ChairState, seq: int) -> bool:
        if seq in chair.seqs:
            return False
        chair.seqs.add(seq)
        return True

    def _heard(self, chair: ChairState, now: float, wall: str, changed: bool = True):
        """`changed`: what the tile shows may have (a wave block does not change it)."""
        chair.last_heard = now
        chair.online = True
        if changed or chair.offline_alarm:
            chair.changes += 1
        return self._online(chair, now, wall) if chair.offline_alarm else []

    def desk_alarm(self, alarm_id: str, active: bool, detail: str, now: float, wall: str):
        """The central's own technical alarm (ALARM_AUDIO_FAILED): onset or end, once each."""
        rule = load_rule(alarm_id)
        if active == (alarm_id in self.desk):
            return []
        message = f"{rule.message}: {detail}" if detail else rule.message
        state = "onset" if active else "end"
        record = alarm_record(
            now - self.start, alarm_id, rule.priority, rule.kind, state, message, wall=wall
        )
        if active:
            self.desk[alarm_id] = record
        else:
            del self.desk[alarm_id]
        return [record]

    def tick(self, now: float, wall: str) -> list[Record]:
        out: list[Record] = []
        for chair in self.chairs.values():
            quiet = now - chair.last_heard >= self.rule.silence_s
            if not chair.offline_alarm and not chair.closed and quiet:
                chair.online = False
                out += self._offline(chair, now, wall, f"nothing for {self.rule.silence_s:g} s")
        return out

    def _with(self, chair: ChairState, record: Record, wall: str) -> Record:
        return {**record, "chair": chair.name, "received": wall}

    def _offline(self, chair: ChairState, now: float, wall: str, why: str) -> list[Record]:
        if chair.offline_alarm:
            return []
        chair.offline_alarm = True
        chair.changes += 1
        message = f"{self.rule.message} ({why})"
        record = alarm_record(
            now - self.start,
            OFFLINE_ID,
            self.rule.priority,
            self.rule.kind,
            "onset",
            message,
            chair=chair.name,
            wall=wall,
        )
        return [record]

    def _online(self, chair: ChairState, now: float, wall: str) -> list[Record]:
        chair.offline_alarm = False
        record = alarm_record(
            now - self.start,
            OFFLINE_ID,
            self.rule.priority,
            self.rule.kind,
            "end",
            self.rule.message,
            chair=chair.name,
            wall=wall,
        )
        return [record]
