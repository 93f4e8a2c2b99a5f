"""What the end-of-session report says, computed from a session file with no drawing in it
(so tests check the numbers, and the PDF only lays them out).

Everything comes from the decoded layer: numerics, NIBP readings, alarm records,
event records, and the commands the nurse gave (`session_setup`, `set_phase`,
`mark_event`, `set_limit`, `acknowledge`, ...), whose names are the agreed contract.
"""

from __future__ import annotations

import math
import operator
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources

from monitor.discharge import DischargeAssessment, assess
from monitor.recording.export import numeric_keys
from monitor.recording.store import Record, SessionReader
from monitor.records import as_float, fields_of, time_of
from monitor.session import OK_STATUS

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
DOSE_EVENT_WORDS = ("infusion", "rate", "bolus", "dose", "rescue")


@dataclass(frozen=True, slots=True)
class LimitRule:
    alarm_id: str
    source: str  # "numerics" | "nibp"
    value: str  # numerics key or nibp field
    op: str
    threshold: float
    enabled: bool = True


@dataclass(slots=True)
class LimitUse:
    """One limit over the session: the threshold in force over time, and time beyond it."""

    rule: LimitRule
    steps: list[tuple[float, float, bool]]  # (from t, threshold, enabled)
    beyond: float = 0.0  # seconds (numerics) or readings (nibp)
    of: float = 0.0  # seconds monitored with a value, or readings taken


@dataclass(slots=True)
class AlarmEpisode:
    alarm_id: str
    priority: str
    kind: str
    message: str
    onset_t: float
    end_t: float | None = None
    response: str = "none"
    response_t: float | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.end_t is None else self.end_t - self.onset_t


@dataclass(frozen=True, slots=True)
class AlarmOff:
    """An alarm switched off (docs/clinical.md: the report lists which, and for how long)."""

    alarm_id: str
    off_t: float
    on_t: float | None  # None: still off at the end of the session


@dataclass(slots=True)
class Summary:
    meta: dict[str, object]
    wall_start: datetime
    duration_s: float
    numerics: list[Record]
    numeric_keys: list[str]
    nibp: list[Record]
    alarms: list[Record]
    episodes: list[AlarmEpisode]
    events: list[Record]  # event records and mark_event commands, in time order
    commands: list[Record]
    setup: dict[str, object]
    phases: list[tuple[str, float, float]]  # (phase, start t, end t)
    doses: list[tuple[float, str]]
    limits: list[LimitUse]
    alarms_off: list[AlarmOff] = field(default_factory=list)
    extremes: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    discharge: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (criterion, value, verdict)
    assessment: DischargeAssessment | None = None
    sign_off: dict[str, object] | None = None  # t, by, override_reason

    def wall(self, t: float) -> datetime:
        return self.wall_start + timedelta(seconds=t)


def default_rules() -> list[LimitRule]:
    text = (resources.files("monitor") / "recording" / "report_limits.toml").read_text("utf-8")
    return [
        LimitRule(alarm_id, str(v["source"]), str(v["value"]), str(v["op"]), float(v["threshold"]))
        for alarm_id, v in tomllib.loads(text).items()
    ]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _limit_uses(meta: dict[str, object], commands: list[Record]) -> list[LimitUse]:
    recorded = fields_of(meta.get("limits"))
    uses = []
    for rule in default_rules():
        start = fields_of(recorded.get(rule.alarm_id))
        threshold = _number(start.get("threshold"))
        enabled = start.get("enabled")
        steps = [
            (
                0.0,
                threshold if threshold is not None else rule.threshold,
                enabled if isinstance(enabled, bool) else True,
            )
        ]
        for c in commands:
            args = fields_of(c.get("args"))
            if c.get("name") != "set_limit" or args.get("alarm_id") != rule.alarm_id:
                continue
            _, th, en = steps[-1]
            new_th = _number(args.get("threshold"))
            new_en = args.get("enabled")
            steps.append(
                (
                    time_of(c),
                    new_th if new_th is not None else th,
                    new_en if isinstance(new_en, bool) else en,
                )
            )
        uses.append(LimitUse(rule, steps))
    return uses


def _in_force(steps: list[tuple[float, float, bool]], t: float) -> tuple[float, bool]:
    current = steps[0]
    for step in steps:
        if step[0] <= t:
            current = step
    return current[1], current[2]


def _count_beyond(use: LimitUse, numerics: list[Record], nibp: list[Record]) -> None:
    rows = numerics if use.rule.source == "numerics" else nibp
    compare = OPS[use.rule.op]
    for r in rows:
        value = _number(r.get(use.rule.value))
        if value is None:
            continue
        use.of += 1
        threshold, enabled = _in_force(use.steps, time_of(r))
        if enabled and compare(value, threshold):
            use.beyond += 1


def _episodes(alarms: list[Record]) -> list[AlarmEpisode]:
    open_: dict[str, AlarmEpisode] = {}
    # A high-priority physiological alarm that ends unacknowledged stays latched on the
    # screen until acknowledged: its `acknowledged` record comes after its `end`.
    latched: dict[str, AlarmEpisode] = {}
    out: list[AlarmEpisode] = []
    for r in alarms:
        alarm_id, state, t = str(r.get("id")), r.get("state"), time_of(r)
        if state == "onset":
            episode = AlarmEpisode(
                alarm_id,
                str(r.get("priority", "")),
                str(r.get("kind", "")),
                str(r.get("message", "")),
                t,
            )
            open_[alarm_id] = episode
            latched.pop(alarm_id, None)
            out.append(episode)
            continue
        found = open_.get(alarm_id)
        if found is None and state == "acknowledged":
            found = latched.pop(alarm_id, None)
        if found is None:
            continue
        if state == "end":
            found.end_t = t
            del open_[alarm_id]
            if r.get("latched") is True:
                latched[alarm_id] = found
        elif state in ("acknowledged", "paused") and found.response_t is None:
            found.response = state
            found.response_t = t
    return out


def _phases(
    commands: list[Record], events: list[Record], duration_s: float
) -> list[tuple[str, float, float]]:
    """(phase, start, end) from the session model's `phase` events, which report every
    change (`set_phase`, and the ones `infusion_start`, `infusion_stop` and `sign_off`
    make); from `set_phase` commands only for a session recorded without one."""
    marks: list[tuple[float, str]] = []
    for e in events:
        if e.get("type") == "event" and e.get("kind") == "phase" and "phase" in e:
            if not marks and e.get("previous") and time_of(e) > 0:
                marks.append((0.0, str(e["previous"])))  # the phase the session began in
            marks.append((time_of(e), str(e["phase"])))
    if not marks:
        for c in commands:
            if c.get("name") == "set_phase":
                marks.append((time_of(c), str(fields_of(c.get("args")).get("phase"))))
    marks.sort(key=lambda m: m[0])
    out = []
    for i, (t, phase) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else duration_s
        out.append((phase, t, end))
    return out


def describe(record: Record, skip: tuple[str, ...] = ("type", "t", "wall", "kind")) -> str:
    """`key=value` pairs of a record's details, for tables and annotations."""
    return ", ".join(f"{k}={v}" for k, v in record.items() if k not in skip and v is not None)


def _event_rows(events: list[Record], commands: list[Record]) -> list[Record]:
    rows = list(events)
    seen = {(time_of(e), e.get("kind")) for e in events}
    for c in commands:
        if c.get("name") == "mark_event":
            args = fields_of(c.get("args"))
            if (time_of(c), args.get("kind")) in seen:
                continue  # the session model already reported it as an event
            rows.append({"type": "mark_event", "t": c["t"], "wall": c.get("wall"), **args})
    return sorted(rows, key=lambda r: time_of(r))


def _doses(setup: dict[str, object], events: list[Record]) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    planned = setup.get("planned_dose_mg_per_kg_h")
    if planned is not None:
        out.append((as_float(setup.get("_t", 0.0)), f"planned dose {planned} mg/kg/h"))
    for e in events:
        kind = str(e.get("kind", ""))
        if any(word in kind for word in DOSE_EVENT_WORDS):
            detail = describe(e)
            out.append((time_of(e), f"{kind}" + (f": {detail}" if detail else "")))
    return out


def _extreme(rows: list[Record], key: str, pick: Callable) -> tuple[float, float] | None:
    found = [(v, time_of(r)) for r in rows if (v := _number(r.get(key))) is not None]
    return pick(found, key=lambda p: p[0]) if found else None


def _sign_off(events: list[Record]) -> Record | None:
    return next(
        (e for e in events if e.get("type") == "event" and e.get("kind") == "sign_off"), None
    )


def _recovery_s(phases: list[tuple[str, float, float]], until: float) -> float:
    return sum(max(0.0, min(end, until) - start) for p, start, end in phases if p == "recovery")


def _good_bp(r: Record) -> tuple[float, float] | None:
    sys, dia = _number(r.get("sys")), _number(r.get("dia"))
    if sys is None or dia is None or r.get("status", "ok") not in OK_STATUS:
        return None
    return sys, dia


def assess_discharge(s: Summary) -> DischargeAssessment:
    """The discharge criteria as the session model judged them live (monitor/discharge.py):
    at the sign-off, from what came before it; else at the end of the recording."""
    signed = _sign_off(s.events)
    until = float(signed["t"]) if signed is not None else s.duration_s  # type: ignore[arg-type]

    def before(r: Record) -> bool:  # a command at t is applied before the data of t
        t = float(r["t"])  # type: ignore[arg-type]
        return t < until if signed is not None else t <= until

    aldrete = None
    for e in s.events:
        if e is signed:
            break
        if e.get("kind") == "aldrete" and (score := _number(e.get("score"))) is not None:
            aldrete = int(score)
    pre_end = next((end for p, _, end in s.phases if p == "pre-infusion"), None)
    if not s.phases:
        pre_end = math.inf
    readings = [(float(r["t"]), bp) for r in s.nibp if before(r) and (bp := _good_bp(r))]  # type: ignore[arg-type]
    base = [bp for t, bp in readings if pre_end is not None and t < pre_end]
    baseline = None
    if base:
        baseline = (sum(b[0] for b in base) / len(base), sum(b[1] for b in base) / len(base))
    spo2 = None
    for r in s.numerics:
        value = _number(r.get("spo2"))
        if before(r) and value is not None and r.get("spo2_state", "valid") == "valid":
            spo2 = value
    return assess(
        aldrete,
        readings[-1][1] if readings else None,
        baseline,
        spo2,
        _recovery_s(s.phases, until),
    )


def _alarms_off(meta: dict[str, object], alarms: list[Record]) -> list[AlarmOff]:
    """Off from the start (the limits in force then) or from a `disabled` record, until an
    `enabled` record; in the order they were switched off."""
    recorded = meta.get("limits")
    off_since: dict[str, float] = {
        str(i): 0.0
        for i, v in (recorded.items() if isinstance(recorded, dict) else ())
        if isinstance(v, dict) and v.get("enabled") is False
    }
    spans: list[AlarmOff] = []
    for r in alarms:
        alarm_id, state = str(r.get("id")), r.get("state")
        if state == "disabled" and alarm_id not in off_since:
            off_since[alarm_id] = float(r["t"])  # type: ignore[arg-type]
        elif state == "enabled" and alarm_id in off_since:
            spans.append(AlarmOff(alarm_id, off_since.pop(alarm_id), float(r["t"])))  # type: ignore[arg-type]
    spans += [AlarmOff(i, t, None) for i, t in off_since.items()]
    return sorted(spans, key=lambda a: (a.off_t, a.alarm_id))


def summarize(reader: SessionReader) -> Summary:
    meta = reader.meta
    numerics = reader.records("numerics")
    nibp = reader.records("nibp")
    alarms = reader.records("alarm")
    commands = reader.records("command")
    events = _event_rows(reader.records("event"), commands)
    duration = reader.duration_s()
    setup: dict[str, object] = {}
    for c in commands:
        if c.get("name") == "session_setup":
            setup = {**fields_of(c.get("args")), "_t": c["t"]}
    s = Summary(
        meta=meta,
        wall_start=datetime.fromisoformat(str(meta["wall_start"])),
        duration_s=duration,
        numerics=numerics,
        numeric_keys=numeric_keys(numerics),
        nibp=nibp,
        alarms=alarms,
        episodes=_episodes(alarms),
        events=events,
        commands=commands,
        setup=setup,
        phases=_phases(commands, events, duration),
        doses=_doses(setup, events),
        limits=_limit_uses(meta, commands),
        alarms_off=_alarms_off(meta, alarms),
    )
    for use in s.limits:
        _count_beyond(use, numerics, nibp)
    s.extremes = {
        "min SpO2": _extreme(numerics, "spo2", min),
        "max pulse rate": _extreme(numerics, "pr", max),
        "min pulse rate": _extreme(numerics, "pr", min),
        "max systolic": _extreme(nibp, "sys", max),
        "max diastolic": _extreme(nibp, "dia", max),
    }
    s.assessment = assess_discharge(s)
    s.discharge = [(c.label, c.value, c.verdict) for c in s.assessment.criteria]
    signed = _sign_off(events)
    if signed is not None:
        reason = signed.get("override_reason")
        s.sign_off = {
            "t": signed["t"],
            "by": signed.get("by"),
            "override_reason": reason if isinstance(reason, str) else None,
        }
    return s
