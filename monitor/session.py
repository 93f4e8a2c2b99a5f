"""The infusion session: patient, phases, events, and the pre-infusion baseline.

Phases follow docs/clinical.md: pre-infusion -> infusion -> recovery -> discharge ->
signed-off. Sign-off is refused while the infusion runs, and with a discharge
criterion unmet (monitor/discharge.py, the one rule set) unless the nurse gives an
`override_reason`; a signed-off session takes no new infusion. The nurse's marks
arrive as commands (`mark_event`, `set_phase`, `session_setup`) and leave as
`event` records, so a recording replays them and the report reads them.
Baseline-relative alarm limits (NIBP_SYS_RISE) read `reference_sys()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from monitor.alarms.rules import finite_number
from monitor.commands import CommandBus, CommandError
from monitor.discharge import DischargeAssessment, DischargeRules, assess, load_rules
from monitor.records import Record, as_float, event_record, time_of

Emit = Callable[[Record], None]

PHASES = ("pre-infusion", "infusion", "recovery", "discharge", "signed-off")
ADVERSE_EFFECTS = (
    "hallucination",
    "agitation",
    "nausea",
    "vomiting",
    "seizure",
    "airway_intervention",
    "oxygen_started",
)
# Event kind -> (required fields, optional fields); every field is checked below.
EVENT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "infusion_start": ((), ("dose_mg_per_kg_h", "text")),
    "infusion_stop": ((), ("text",)),
    "rate_change": (("dose_mg_per_kg_h",), ("text",)),
    "bolus": ((), ("dose_mg", "dose_mg_per_kg", "drug", "text")),
    "adverse_effect": (("effect",), ("text",)),
    "rescue_drug": (("drug",), ("dose_mg", "text")),
    "note": (("text",), ()),
    "aldrete": (("score",), ("text",)),
    "sign_off": ((), ("text", "by", "override_reason")),
}
OK_STATUS = ("ok", "done", "valid")  # an NIBP record that carries a valid reading
NUMBER_FIELDS = ("dose_mg_per_kg_h", "dose_mg", "dose_mg_per_kg", "score")
TEXT_FIELDS = ("text", "drug", "by", "effect", "override_reason")


@dataclass(frozen=True, slots=True)
class Baseline:
    """Mean of the pre-infusion NIBP readings."""

    sys: float
    dia: float
    map: float | None
    pr: float | None
    readings: int
    complete: bool  # enough readings, far enough apart (docs/clinical.md: two, 5 min apart)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class SessionModel:
    """Plain state the GUI reads; changed only on the pipeline thread."""

    def __init__(
        self,
        emit: Emit,
        commands: CommandBus | None = None,
        discharge: DischargeRules | None = None,
        baseline_rules: Mapping[str, float] | None = None,
    ) -> None:
        self._emit = emit
        self._discharge = discharge or load_rules()
        self._baseline_rules = dict(baseline_rules or {})
        self.last_spo2: float | None = None  # latest valid SpO2
        self.last_sys: float | None = None  # latest valid NIBP systolic
        self.last_bp: tuple[float, float] | None = None  # latest valid (systolic, diastolic)
        self._lock = threading.RLock()
        self.phase = PHASES[0]
        self.phase_started_t = 0.0
        self.patient_id: str | None = None
        self.weight_kg: float | None = None
        self.planned_dose_mg_per_kg_h: float | None = None
        self.dose_mg_per_kg_h: float | None = None  # the running infusion rate, None = stopped
        self.infusing = False  # between infusion_start and infusion_stop, whatever the phase
        self.baseline: Baseline | None = None
        self.last_aldrete: int | None = None
        self._events: list[Record] = []
        self._readings: list[Mapping[str, object]] = []
        self._phase_times: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self.t = 0.0
        if commands is not None:
            self.register_commands(commands)

    def phase_now(self) -> tuple[str, float]:
        """The phase and the data time it began (the NIBP program follows it)."""
        return self.phase, self.phase_started_t

    @property
    def events(self) -> tuple[Record, ...]:
        with self._lock:
            return tuple(self._events)

    def phase_durations(self, t: float | None = None) -> dict[str, float]:
        """Seconds spent in each phase so far (the current one up to `t`)."""
        with self._lock:
            t = self.t if t is None else t
            out = dict(self._phase_times)
            out[self.phase] += max(0.0, t - self.phase_started_t)
            return out

    def reference_sys(self) -> float | None:
        """Baseline systolic for baseline-relative limits: from the infusion on, not while
        the baseline is still being taken."""
        if self.phase == "pre-infusion" or self.baseline is None:
            return None
        return self.baseline.sys

    # ----- records in ---------------------------------------------------------

    def on_record(self, record: Mapping[str, object]) -> None:
        kind = record.get("type")
        if kind == "numerics":
            self.t = max(self.t, time_of(record))
            spo2 = finite_number(record.get("spo2"))
            if spo2 is not None and record.get("spo2_state", "valid") == "valid":
                self.last_spo2 = spo2
        elif kind == "nibp":
            sys, dia = finite_number(record.get("sys")), finite_number(record.get("dia"))
            if sys is not None and record.get("status", "ok") in OK_STATUS:
                self.last_sys = sys
                if dia is not None:
                    self.last_bp = (sys, dia)
            if self.phase == "pre-infusion":
                self._baseline_reading(record)

    def discharge_assessment(self, t: float | None = None) -> DischargeAssessment:
        """Each discharge criterion now (monitor/discharge.toml), as the report judges it."""
        with self._lock:
            base = self.baseline
            return assess(
                self.last_aldrete,
                self.last_bp,
                None if base is None else (base.sys, base.dia),
                self.last_spo2,
                self.phase_durations(t)["recovery"],
                self._discharge,
            )

    def _baseline_reading(self, record: Mapping[str, object]) -> None:
        sys, dia = finite_number(record.get("sys")), finite_number(record.get("dia"))
        if sys is None or dia is None or record.get("status", "ok") not in OK_STATUS:
            return
        with self._lock:
            self._readings.append(record)
            col = {
                k: [v for r in self._readings if (v := finite_number(r.get(k))) is not None]
                for k in ("sys", "dia", "map", "pr")
            }
            times = [time_of(r) for r in self._readings]
            needed = int(self._baseline_rules.get("readings", 1))
            apart = self._baseline_rules.get("apart_s", 0.0)
            self.baseline = Baseline(
                sys=_mean(col["sys"]) or sys,
                dia=_mean(col["dia"]) or dia,
                map=_mean(col["map"]),
                pr=_mean(col["pr"]),
                readings=len(self._readings),
                complete=len(times) >= needed and max(times) - min(times) >= apart,
            )

    # ----- commands -----------------------------------------------------------

    def register_commands(self, bus: CommandBus) -> None:
        bus.register("mark_event", self.mark_event, "{kind, ...} an event of the session")
        bus.register("set_phase", self.set_phase, "{phase}", ("phase",))
        bus.register(
            "session_setup", self.session_setup, "{patient_id, weight_kg, planned_dose_mg_per_kg_h}"
        )

    def mark_event(self, args: Mapping[str, object], t: float) -> None:
        kind = args.get("kind")
        if not isinstance(kind, str) or kind not in EVENT_FIELDS:
            raise CommandError(f"mark_event: kind must be one of {', '.join(EVENT_FIELDS)}")
        required, optional = EVENT_FIELDS[str(kind)]
        fields = {k: v for k, v in args.items() if k != "kind"}
        for key in required:
            if key not in fields:
                raise CommandError(f"mark_event {kind}: missing '{key}'")
        for key, value in fields.items():
            if key not in required + optional:
                raise CommandError(f"mark_event {kind}: unknown field '{key}'")
            number = finite_number(value) if key in NUMBER_FIELDS else 0.0
            if number is None or number < 0:
                raise CommandError(f"mark_event {kind}: '{key}' must be a number >= 0")
            if key in TEXT_FIELDS and not isinstance(value, str):
                raise CommandError(f"mark_event {kind}: '{key}' must be text")
        if kind == "adverse_effect" and fields["effect"] not in ADVERSE_EFFECTS:
            raise CommandError(f"mark_event: effect must be one of {', '.join(ADVERSE_EFFECTS)}")
        if kind == "aldrete":
            score = finite_number(fields["score"])
            if score is None or not score.is_integer() or not 0 <= score <= 10:
                raise CommandError("mark_event aldrete: score must be a whole number 0-10")
            fields["score"] = int(score)
        with self._lock:
            self.t = max(self.t, t)
            self._apply_event(str(kind), fields, t)

    def _refuse(self, kind: str, fields: Mapping[str, object], t: float) -> None:
        """The session rules a mark_event must pass (docs/clinical.md)."""
        if kind == "infusion_start" and self.phase == "signed-off":
            raise CommandError(
                "mark_event infusion_start: this session is signed off; "
                "a new infusion is a new session"
            )
        if kind != "sign_off":
            return
        if self.phase == "infusion" or self.infusing:
            raise CommandError(
                "mark_event sign_off: the infusion is running; mark infusion_stop first"
            )
        if self.phase == "signed-off":
            raise CommandError("mark_event sign_off: the session is already signed off")
        unmet = self.discharge_assessment(t).unmet()
        reason = fields.get("override_reason")
        if unmet and not (isinstance(reason, str) and reason.strip()):
            listed = "; ".join(f"{c.label} ({c.verdict}: {c.value})" for c in unmet)
            raise CommandError(
                f"mark_event sign_off: discharge criteria not met: {listed}; "
                "give an override_reason to sign off anyway"
            )

    def _apply_event(self, kind: str, fields: dict[str, object], t: float) -> None:
        self._refuse(kind, fields, t)
        if kind in ("infusion_start", "infusion_stop"):
            self.infusing = kind == "infusion_start"
        if kind == "infusion_start":
            dose = fields.get("dose_mg_per_kg_h", self.planned_dose_mg_per_kg_h)
            self.dose_mg_per_kg_h = finite_number(dose)
            fields = {**fields, "dose_mg_per_kg_h": self.dose_mg_per_kg_h}
        elif kind == "rate_change":
            self.dose_mg_per_kg_h = finite_number(fields["dose_mg_per_kg_h"])
        elif kind == "infusion_stop":
            self.dose_mg_per_kg_h = None
        elif kind == "aldrete":
            self.last_aldrete = int(as_float(fields["score"]))
        elif kind == "sign_off":
            fields = {**fields, "discharge": self.discharge_assessment(t).to_json()}
        self._event(t, kind, **fields)
        next_phase = {"infusion_start": "infusion", "infusion_stop": "recovery"}.get(kind)
        if kind == "sign_off":
            next_phase = "signed-off"
        if next_phase is not None and next_phase != self.phase:
            self._change_phase(next_phase, t, cause=kind)

    def set_phase(self, args: Mapping[str, object], t: float) -> None:
        phase = args.get("phase")
        if not isinstance(phase, str) or phase not in PHASES:
            raise CommandError(f"set_phase: phase must be one of {', '.join(PHASES)}")
        if phase == "signed-off":
            raise CommandError("set_phase: sign off with mark_event sign_off (its checks apply)")
        with self._lock:
            if self.phase == "signed-off":
                raise CommandError("set_phase: the session is signed off; start a new session")
            self.t = max(self.t, t)
            if phase != self.phase:
                self._change_phase(str(phase), t, cause="set_phase")

    def session_setup(self, args: Mapping[str, object], t: float) -> None:
        unknown = set(args) - {"patient_id", "weight_kg", "planned_dose_mg_per_kg_h"}
        if unknown:
            raise CommandError(f"session_setup: unknown argument '{sorted(unknown)[0]}'")
        patient = args.get("patient_id", self.patient_id)
        if patient is not None and not isinstance(patient, str):
            raise CommandError("session_setup: patient_id must be text")
        numbers: dict[str, float | None] = {}
        for key in ("weight_kg", "planned_dose_mg_per_kg_h"):
            value = args.get(key, getattr(self, key))
            number = finite_number(value)
            if value is not None and (number is None or number <= 0):
                raise CommandError(f"session_setup: {key} must be a number above 0")
            numbers[key] = number
        with self._lock:
            self.patient_id = patient
            self.weight_kg = numbers["weight_kg"]
            self.planned_dose_mg_per_kg_h = numbers["planned_dose_mg_per_kg_h"]
            self._event(
                t,
                "session_setup",
                patient_id=self.patient_id,
                weight_kg=self.weight_kg,
                planned_dose_mg_per_kg_h=self.planned_dose_mg_per_kg_h,
            )

    def _change_phase(self, phase: str, t: float, cause: str) -> None:
        previous = self.phase
        self._phase_times[previous] += max(0.0, t - self.phase_started_t)
        self.phase = phase
        self.phase_started_t = t
        extra: dict[str, object] = {}
        if phase == "infusion" and previous == "pre-infusion":  # NIBP_NO_BASELINE reads it
            extra["baseline_complete"] = self.baseline is not None and self.baseline.complete
        self._event(t, "phase", phase=phase, previous=previous, cause=cause, **extra)

    def _event(self, t: float, kind: str, **fields: object) -> None:
        record = event_record(t, kind, **fields)
        self._events.append(record)
        self._emit(record)
