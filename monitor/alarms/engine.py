"""The alarm engine (IEC 60601-1-8): conditions -> delayed, prioritised, latched, paused alarms.

It listens to pipeline records (numerics, nibp, link events) and decides in
DATA time only, so a replay at any speed gives the very same alarm log. Every
change it makes is an `alarm` record emitted through the pipeline and kept in
`log`. The GUI reads `display_state(t)` and `limits()` from its own thread.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from monitor.alarms.limits import (
    SET_LIMIT_ARGS,
    checked_limit,
    fmt,
    limit_changes,
    limits_from,
)
from monitor.alarms.preset import (
    NIBP_MEASURES,
    NUMERIC_MEASURES,
    AlarmSpec,
    Preset,
    load_preset,
    priority_rank,
)
from monitor.alarms.rules import (
    Rule,
    SatSeconds,
    apnea_seconds,
    finite_number,
    nibp_ok,
    nibp_value,
)
from monitor.alarms.state import ActiveAlarm, AlarmDisplayState, LimitSetting
from monitor.alarms.technical import (
    CapnoWatch,
    NibpWatch,
    OximeterWatch,
    RespWatch,
    StreamLinkWatch,
)
from monitor.commands import CommandBus, CommandError
from monitor.records import Record, alarm_record, time_of

Emit = Callable[[Record], None]
SYSTEM_ID = "INACTIVATION"  # the id of records about the alarm system itself
EPS = 1e-9


@dataclass(slots=True)
class _Alarm:
    id: str
    priority: str
    kind: str
    message: str
    onset_t: float
    condition_active: bool = True
    acknowledged: bool = False
    breaks_through: bool = False
    escalated: bool = False
    acknowledged_t: float | None = None  # when, for the acknowledge timeout


def _remaining(due: float | None, t: float) -> float | None:
    return None if due is None else max(0.0, due - t)


def _number(specs: Mapping[str, AlarmSpec], alarm_id: str, key: str) -> float:
    """A technical rule's timing number; never true (infinity) where the preset lacks it."""
    return specs[alarm_id].number(key) if alarm_id in specs else math.inf


class AlarmEngine:
    """Owns every alarm's state; feed it records with `on_record`, read it with `display_state`."""

    def __init__(
        self,
        preset: Preset,
        emit: Emit,
        commands: CommandBus | None = None,
        baseline_sys: Callable[[], float | None] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._emit = emit
        self._baseline_sys = baseline_sys or (lambda: None)
        self._log: list[Record] = []
        self._alarms: dict[str, _Alarm] = {}
        self._pending: dict[str, float] = {}
        self._messages: dict[str, str] = {}
        self._inactivation = "none"
        self._pause_until: float | None = None
        # Alarms active (id -> priority rank) when the audio pause began: they stay paused.
        self._paused_ranks: dict[str, int] = {}
        self.t = 0.0
        self._load(preset)
        if commands is not None:
            self.register_commands(commands)

    def _load(self, preset: Preset) -> None:
        self.preset = preset
        self._limits = limits_from(preset)
        specs = preset.alarms
        self._numeric_rules = [Rule.of(s) for s in specs.values() if s.measure in NUMERIC_MEASURES]
        self._nibp_rules = [Rule.of(s) for s in specs.values() if s.measure in NIBP_MEASURES]
        silence_s = (
            specs["OXIMETER_COMM_LOST"].number("silence_s")
            if "OXIMETER_COMM_LOST" in specs
            else float("inf")
        )
        stale_s = specs["NIBP_STALE"].number("stale_s") if "NIBP_STALE" in specs else float("inf")
        co2_silence_s = (
            specs["CO2_COMM_LOST"].number("silence_s") if "CO2_COMM_LOST" in specs else math.inf
        )
        overdue_s = _number(specs, "NIBP_OVERDUE", "overdue_s")
        resp_silence_s = _number(specs, "RESP_COMM_LOST", "silence_s")
        if not hasattr(self, "_oximeter"):
            self._oximeter = OximeterWatch(silence_s)
            self._nibp = NibpWatch(stale_s)
            self._capno = CapnoWatch(co2_silence_s)
            self._resp = RespWatch(resp_silence_s)
        self._capno.silence_s = co2_silence_s
        self._resp.silence_s = resp_silence_s
        self._nibp.overdue_s = overdue_s
        # A new preset keeps what the watches know about the devices.
        self._oximeter.silence_s = silence_s
        self._nibp.stale_s = stale_s
        self._satseconds = SatSeconds(preset.satseconds, preset.satseconds.setting)

    # ----- what the GUI reads ------------------------------------------------

    def display_state(self, t: float | None = None) -> AlarmDisplayState:
        """The alarms to show and the tone to play at data time `t` (default: the latest)."""
        with self._lock:
            t = self.t if t is None else t
            shown = [a for a in self._alarms.values() if not self._hidden(a)]
            shown.sort(key=lambda a: (-priority_rank(a.priority), -a.onset_t, a.id))
            alarms = tuple(
                ActiveAlarm(
                    id=a.id,
                    priority=a.priority,
                    kind=a.kind,
                    message=a.message,
                    onset_t=a.onset_t,
                    condition_active=a.condition_active,
                    acknowledged=a.acknowledged,
                    sounding=self._sounding(a),
                    ack_remaining_s=_remaining(self._ack_due(a), t),
                )
                for a in shown
            )
            sounding = [a.priority for a in alarms if a.sounding]
            audio = max(sounding, key=priority_rank) if sounding else None
            remaining = None
            if self._pause_until is not None:
                remaining = max(0.0, self._pause_until - t)
            return AlarmDisplayState(t, alarms, self._inactivation, remaining, audio)

    def limits(self) -> dict[str, LimitSetting]:
        with self._lock:
            return dict(self._limits)

    @property
    def log(self) -> list[Record]:
        """Every alarm record so far (onset, end, acknowledgement, pause, limit change)."""
        with self._lock:
            return list(self._log)

    @property
    def inactivation(self) -> str:
        return self._inactivation

    # ----- records in --------------------------------------------------------

    def on_record(self, record: Mapping[str, object]) -> None:
        kind = record.get("type")
        if kind not in ("numerics", "nibp", "event"):
            return
        t = time_of(record)
        with self._lock:
            self._advance(t)
            if kind == "numerics":
                self._on_numerics(record, t)
            elif kind == "nibp":
                self._on_nibp(record, t)
            else:
                self._on_event(record, t)

    def tick(self, t: float) -> None:
        """Data time moved on: end a timed pause on time."""
        with self._lock:
            self._advance(t)

    def fall_due(self) -> None:
        """Data time has reached the next due time (`next_due`): act on it, at that time."""
        with self._lock:
            due = self._next_due()
            if due is not None:
                self._advance(due)

    def next_due(self, t: float) -> float:
        """The earliest data time from which `tick` does more than move the clock: a
        timed pause ending, an acknowledgement timing out, a silent link's comm-lost
        (inf: none)."""
        with self._lock:
            due = self._next_due()
            return math.inf if due is None else due - EPS

    def _advance(self, t: float) -> None:
        """Move data time on, ending timed pauses and acknowledgements on their own time."""
        self.t = max(self.t, t)
        while (due := self._next_due()) is not None and self.t + EPS >= due:
            if self._pause_until is not None and due == self._pause_until:
                self._set_inactivation("none", due, None, reason="timeout")
            elif not self._silence(due):
                self._ack_timeout(due)

    def _stream_watches(self) -> tuple[tuple[StreamLinkWatch, str], ...]:
        return (
            (self._oximeter, "OXIMETER_COMM_LOST"),
            (self._capno, "CO2_COMM_LOST"),
            (self._resp, "RESP_COMM_LOST"),
        )

    def _silence(self, due: float) -> bool:
        """A silent link's comm-lost falls due at `due`: raised at that very time."""
        for watch, alarm_id in self._stream_watches():
            if watch.silence_due() == due:
                watch.fall_due()
                self._condition(alarm_id, True, due)
                return True
        return False

    def _ack_due(self, alarm: _Alarm) -> float | None:
        """When an acknowledged high physiological alarm sounds again (docs/clinical.md)."""
        if (
            alarm.acknowledged_t is None
            or not alarm.acknowledged
            or not alarm.condition_active
            or alarm.kind != "physiological"
            or alarm.priority != "high"
        ):
            return None
        return alarm.acknowledged_t + self.preset.behaviour.ack_timeout_s

    def _next_due(self) -> float | None:
        dues = [d for d in map(self._ack_due, self._alarms.values()) if d is not None]
        if self._pause_until is not None:
            dues.append(self._pause_until)
        for watch, _ in self._stream_watches():
            silence = watch.silence_due()
            if silence is not None:
                dues.append(silence)
        return min(dues, default=None)

    def _ack_timeout(self, due: float) -> None:
        for alarm in sorted(self._alarms.values(), key=lambda a: a.onset_t):
            if self._ack_due(alarm) == due:
                alarm.acknowledged = False
                alarm.acknowledged_t = None
                extra: Record = {"reason": "ack_timeout"}
                if self._inactivation != "none":
                    extra["inactivation"] = self._inactivation
                self._record(alarm, due, "resound", **extra)

    def _on_numerics(self, record: Mapping[str, object], t: float) -> None:
        limits, alarms = self._limits, self._alarms
        satseconds = self._satseconds_on()
        for rule in self._numeric_rules:
            alarm_id = rule.id
            limit = limits[alarm_id]
            threshold = limit.threshold
            assert threshold is not None
            value = rule.value(record)
            alarm = alarms.get(alarm_id)
            if satseconds and alarm_id == "SPO2_LOW":
                active = self._satseconds.update(value, threshold, t)
            else:  # hysteresis only once the alarm has started: it never shortens a delay
                active = rule.holds(value, threshold, alarm is not None and alarm.condition_active)
            if limit.apnea_s is not None:  # only where a resp channel reports breaths
                apnea = apnea_seconds(record)
                active = active or (apnea is not None and apnea >= limit.apnea_s)
            self._condition(alarm_id, active, t)
        self._conditions(self._oximeter.on_numerics(record, t), t)
        self._conditions(self._capno.on_numerics(record, t), t)
        self._conditions(self._resp.on_numerics(record, t), t)
        self._conditions(self._nibp.on_numerics(record, t), t)
        if self._nibp.stale(t):  # a reading past its validity can no longer hold an alarm
            for rule in self._nibp_rules:
                self._condition(rule.id, False, t)
        self._escalate(t)

    def _on_nibp(self, record: Mapping[str, object], t: float) -> None:
        error = record.get("error")
        if (
            not nibp_ok(record)
            and isinstance(error, str)
            and error
            and "NIBP_FAILED" in self._limits
        ):
            self._messages["NIBP_FAILED"] = f"{self.preset.alarms['NIBP_FAILED'].message}: {error}"
        self._conditions(self._nibp.on_reading(record, t), t)
        if not nibp_ok(record):
            return  # a failed reading says nothing about the pressure
        baseline = self._baseline_sys()
        for rule in self._nibp_rules:
            threshold = self._limits[rule.id].threshold
            assert threshold is not None
            value = nibp_value(record, rule.measure, baseline)
            self._condition(rule.id, rule.holds(value, threshold), t)

    def _on_event(self, record: Mapping[str, object], t: float) -> None:
        channel = str(record.get("channel", ""))
        kind = str(record.get("kind", ""))
        state = str(record.get("state", record.get("status", "")))
        if kind == "link":
            if channel == "oximeter":
                changes = self._oximeter.on_link(state, t)
            elif channel == "nibp":
                changes = self._nibp.on_link(state)
            elif channel == "capno":
                changes = self._capno.on_link(state, t)
            elif channel == "resp":
                changes = self._resp.on_link(state, t)
            else:
                return
        elif kind == "phase":
            changes = self._nibp.on_phase(record, t)  # the session's supervision of NIBP
        elif kind == "nibp" and state:
            changes = self._nibp.on_status(state)  # NIBP channel events (not_responding, ...)
        else:
            return
        self._conditions(changes, t)

    # ----- conditions -> alarms ----------------------------------------------

    def _satseconds_on(self) -> bool:
        limit = self._limits.get("SPO2_LOW")
        return limit is not None and limit.satseconds is not None

    def _delay(self, alarm_id: str) -> float:
        if alarm_id == "SPO2_LOW" and self._satseconds_on():
            return 0.0  # the integral is the delay
        return self._limits[alarm_id].delay_s

    def _conditions(self, changes: Mapping[str, bool], t: float) -> None:
        for alarm_id, active in changes.items():
            self._condition(alarm_id, active, t)

    def _condition(self, alarm_id: str, active: bool, t: float) -> None:
        if not active and alarm_id not in self._pending:  # the usual: nothing to end
            alarm = self._alarms.get(alarm_id)
            if alarm is None or not alarm.condition_active:
                return
        limit = self._limits.get(alarm_id)
        if limit is None:
            return  # not in this preset
        alarm = self._alarms.get(alarm_id)
        if not active or not limit.enabled:
            self._pending.pop(alarm_id, None)
            if alarm is not None and alarm.condition_active:
                self._end(alarm, t)
            return
        since = self._pending.setdefault(alarm_id, t)
        if alarm is not None and alarm.condition_active:
            return
        if t - since + EPS >= self._delay(alarm_id):
            self._onset(alarm_id, t)

    def _onset(self, alarm_id: str, t: float) -> None:
        spec = self.preset.alarms[alarm_id]
        priority = self._limits[alarm_id].priority
        alarm = _Alarm(alarm_id, priority, spec.kind, self._message(spec), onset_t=t)
        alarm.breaks_through = self._breaks_through(alarm_id, priority)
        self._alarms[alarm_id] = alarm
        extra: Record = {"delay_s": self._delay(alarm_id)}
        if alarm.breaks_through:
            extra["break_through"] = True
        if self._inactivation != "none":
            extra["inactivation"] = self._inactivation
        self._record(alarm, t, "onset", **extra)

    def _end(self, alarm: _Alarm, t: float, reason: str = "") -> None:
        alarm.condition_active = False
        self._pending.pop(alarm.id, None)
        latched = (
            not reason
            and alarm.kind == "physiological"
            and alarm.priority == "high"
            and not alarm.acknowledged
        )
        extra: Record = {"latched": latched, "duration_s": round(t - alarm.onset_t, 3)}
        if reason:
            extra["reason"] = reason
        self._record(alarm, t, "end", **extra)
        self._paused_ranks.pop(alarm.id, None)  # back during the pause: a new condition
        if not latched:
            del self._alarms[alarm.id]

    def _escalate(self, t: float) -> None:
        for alarm in list(self._alarms.values()):
            spec = self.preset.alarms[alarm.id]
            target = spec.extra.get("escalate_to")
            if alarm.escalated or not alarm.condition_active or target is None:
                continue
            if t - alarm.onset_t + EPS >= spec.number("escalate_after_s"):
                alarm.escalated = True
                alarm.priority = str(target)
                alarm.acknowledged = False
                alarm.breaks_through = alarm.breaks_through or self._breaks_through(
                    alarm.id, alarm.priority
                )
                self._record(alarm, t, "escalated")

    def _message(self, spec: AlarmSpec) -> str:
        return self._messages.get(spec.id, spec.message)

    # ----- sound and inactivation --------------------------------------------

    def _hidden(self, alarm: _Alarm) -> bool:
        """Alarm paused / alarm off silence and hide physiological alarms (never technical)."""
        return alarm.kind == "physiological" and self._inactivation in ("alarm_paused", "alarm_off")

    def _sounding(self, alarm: _Alarm) -> bool:
        if alarm.acknowledged or self._hidden(alarm):
            return False
        if self._inactivation == "audio_off":
            return False
        return self._inactivation != "audio_paused" or alarm.breaks_through

    def _breaks_through(self, alarm_id: str, priority: str) -> bool:
        """New during an audio pause, and high enough: sounds at once, whatever else sounds.

        New means not active when the pause began (or active then at a lower priority,
        or ended since): the nurse paused what was there, not what came after."""
        rank = priority_rank(priority)
        return (
            self._inactivation == "audio_paused"
            and rank >= priority_rank(self.preset.behaviour.break_through)
            and rank > self._paused_ranks.get(alarm_id, -1)
        )

    def _set_inactivation(
        self, state: str, t: float, until: float | None, reason: str = "", duration_s: float = 0
    ) -> None:
        previous = self._inactivation
        if state == "audio_paused":
            self._paused_ranks = {
                a.id: priority_rank(a.priority) for a in self._alarms.values() if a.condition_active
            }
        self._inactivation = state
        self._pause_until = until
        for alarm in self._alarms.values():
            alarm.breaks_through = False
        if state == "none":
            message = f"{previous.replace('_', ' ')} ended" + (f" ({reason})" if reason else "")
            self._system(t, "pause_end", message, previous=previous, reason=reason or "resume")
            for alarm in sorted(self._alarms.values(), key=lambda a: a.onset_t):
                silenced = previous.startswith("audio") or alarm.kind == "physiological"
                if silenced and not alarm.acknowledged:
                    self._record(alarm, t, "resound", reason="pause_end")
            return
        timed = f" for {fmt(duration_s)} s" if until is not None else ""
        self._system(t, state, f"{state.replace('_', ' ')}{timed}", duration_s=duration_s or None)
        for alarm in sorted(self._alarms.values(), key=lambda a: a.onset_t):
            if state.startswith("audio") or alarm.kind == "physiological":
                self._record(alarm, t, "paused", inactivation=state)

    # ----- records out -------------------------------------------------------

    def _record(self, alarm: _Alarm, t: float, state: str, **extra: object) -> None:
        self._out(
            alarm_record(t, alarm.id, alarm.priority, alarm.kind, state, alarm.message, **extra)
        )

    def _system(self, t: float, state: str, message: str, **extra: object) -> None:
        given = {k: v for k, v in extra.items() if v is not None}
        self._out(alarm_record(t, SYSTEM_ID, None, "system", state, message, **given))

    def _out(self, record: Record) -> None:
        self._log.append(record)
        self._emit(record)  # the pipeline adds wall time to this same dict

    # ----- commands ----------------------------------------------------------

    def register_commands(self, bus: CommandBus) -> None:
        bus.register("acknowledge", self.acknowledge, "acknowledge alarms {id?}", ("id",))
        bus.register("pause_audio", self.pause_audio, "audio pause {duration_s?, off?, resume?}")
        bus.register("pause_alarms", self.pause_alarms, "alarm pause {duration_s?, off?, resume?}")
        bus.register(
            "set_limit",
            self.set_limit,
            "{alarm_id, threshold?, enabled?, delay_s?, satseconds?, apnea_s?}",
        )
        bus.register("restore_preset", self.restore_preset, "restore the preset {name?}", ("name",))
        bus.register(
            "technical_alarm",
            self.technical_alarm,
            "{id, active, message?}",
            ("id", "active", "message"),
        )

    def acknowledge(self, args: Mapping[str, object], t: float) -> None:
        wanted = args.get("id")
        if wanted is not None and not isinstance(wanted, str):
            raise CommandError("acknowledge: id must be an alarm id")
        with self._lock:
            self._advance(t)
            if wanted is not None and wanted not in self._alarms:
                raise CommandError(f"acknowledge: no alarm '{wanted}' is active")
            for alarm in sorted(self._alarms.values(), key=lambda a: a.onset_t):
                if wanted not in (None, alarm.id) or alarm.acknowledged or self._hidden(alarm):
                    continue
                alarm.acknowledged = True
                alarm.acknowledged_t = t
                self._record(alarm, t, "acknowledged", condition_active=alarm.condition_active)
                if not alarm.condition_active:
                    del self._alarms[alarm.id]

    def pause_audio(self, args: Mapping[str, object], t: float) -> None:
        self._pause(args, t, "audio", self.preset.behaviour.audio_pause_s)

    def pause_alarms(self, args: Mapping[str, object], t: float) -> None:
        self._pause(args, t, "alarm", self.preset.behaviour.alarm_pause_s)

    def _pause(self, args: Mapping[str, object], t: float, what: str, default_s: float) -> None:
        unknown = set(args) - {"duration_s", "off", "resume"}
        if unknown:
            raise CommandError(f"pause_{what}: unknown argument '{sorted(unknown)[0]}'")
        for flag in ("off", "resume"):
            if flag in args and not isinstance(args[flag], bool):
                raise CommandError(f"pause_{what}: {flag} must be true or false")
        duration = args.get("duration_s", default_s)
        longest = self.preset.behaviour.max_pause_s
        seconds = finite_number(duration)
        if seconds is None or not 0 < seconds <= longest:
            raise CommandError(
                f"pause_{what}: duration_s must be a number of seconds above 0 and at most "
                f"{fmt(longest)} (the preset's max_pause_s; 'off' pauses without a limit)"
            )
        with self._lock:
            self._advance(t)
            if args.get("resume"):
                if self._inactivation != "none":
                    self._set_inactivation("none", t, None, reason="resume")
            elif args.get("off"):
                self._set_inactivation(f"{what}_off", t, None)
            else:
                self._set_inactivation(f"{what}_paused", t, t + seconds, duration_s=seconds)

    def set_limit(self, args: Mapping[str, object], t: float) -> None:
        alarm_id = args.get("alarm_id")
        unknown = set(args) - SET_LIMIT_ARGS
        if unknown:
            raise CommandError(f"set_limit: unknown argument '{sorted(unknown)[0]}'")
        with self._lock:
            if not isinstance(alarm_id, str) or alarm_id not in self._limits:
                raise CommandError(f"set_limit: unknown alarm_id {alarm_id!r}")
            self._advance(t)
            old = self._limits[alarm_id]
            new = checked_limit(self.preset, self._limits, alarm_id, args)
            self._apply_limit(alarm_id, old, new, t)

    def _apply_limit(self, alarm_id: str, old: LimitSetting, new: LimitSetting, t: float) -> None:
        if new == old:
            return
        self._limits[alarm_id] = new
        changes = limit_changes(old, new)
        text = ", ".join(f"{k} {fmt(v['from'])} -> {fmt(v['to'])}" for k, v in changes.items())
        spec = self.preset.alarms[alarm_id]
        if new.satseconds != old.satseconds:
            setting = new.satseconds or self.preset.satseconds.setting
            self._satseconds = SatSeconds(self.preset.satseconds, setting)
        probe = _Alarm(alarm_id, new.priority, spec.kind, spec.message, t)
        state = "limit_changed"
        if new.enabled != old.enabled:
            state = "enabled" if new.enabled else "disabled"
        self._record(probe, t, state, changes=changes, message=f"{alarm_id}: {text}")
        alarm = self._alarms.get(alarm_id)
        if not new.enabled and alarm is not None:
            if alarm.condition_active:
                self._end(alarm, t, reason="disabled")
            else:
                del self._alarms[alarm_id]

    def restore_preset(self, args: Mapping[str, object], t: float) -> None:
        """Back to the preset's settings (or another preset's, `name`), each change logged."""
        name = args.get("name")
        if name is not None and not isinstance(name, str):
            raise CommandError("restore_preset: name must be a preset name or file")
        with self._lock:
            self._advance(t)
            preset = self.preset if name is None else load_preset(str(name))
            before = dict(self._limits)
            for alarm in list(self._alarms.values()):
                if alarm.id not in preset.alarms:
                    self._end(alarm, t, reason="not in preset")
                    self._alarms.pop(alarm.id, None)
            self._load(preset)
            fresh = dict(self._limits)
            self._system(t, "preset_restored", f"preset {preset.name} restored", preset=preset.name)
            self._limits = {k: before.get(k, v) for k, v in fresh.items()}
            for alarm_id, setting in fresh.items():
                self._apply_limit(alarm_id, self._limits[alarm_id], setting, t)

    def technical_alarm(self, args: Mapping[str, object], t: float) -> None:
        alarm_id = args.get("id")
        active = args.get("active")
        with self._lock:
            spec = self.preset.alarms.get(str(alarm_id))
            if spec is None or spec.extra.get("raised_by") != "command":
                ids = ", ".join(
                    s.id
                    for s in self.preset.alarms.values()
                    if s.extra.get("raised_by") == "command"
                )
                raise CommandError(f"technical_alarm: id must be one of {ids}, not {alarm_id!r}")
            if not isinstance(active, bool):
                raise CommandError("technical_alarm: active must be true or false")
            self._advance(t)
            message = args.get("message")
            if active and spec.id not in self._alarms:  # a new onset: its own message only
                self._messages.pop(spec.id, None)
                if isinstance(message, str) and message:
                    self._messages[spec.id] = f"{spec.message}: {message}"
            self._condition(spec.id, active, t)
