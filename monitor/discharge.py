"""The discharge rules (docs/clinical.md): one rule set, in `discharge.toml`, that decides
both the live assessment at sign-off and the end-of-session report, so a session can
never be "ready" on screen and "NOT met" on paper.

Plain data in, plain verdicts out: the session model and the report each gather the
inputs (the last Aldrete score, the last good NIBP, the baseline, the last valid SpO2,
the time in recovery) and call `assess`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class DischargeRules:
    aldrete_min: int
    bp_within_percent: float
    spo2_min: float
    recovery_min_s: float


@cache
def load_rules() -> DischargeRules:
    text = (resources.files("monitor") / "discharge.toml").read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    return DischargeRules(
        aldrete_min=int(doc["aldrete_min"]),
        bp_within_percent=float(doc["bp_within_percent"]),
        spo2_min=float(doc["spo2_min"]),
        recovery_min_s=float(doc["recovery_min_minutes"]) * 60.0,
    )


@dataclass(frozen=True, slots=True)
class Criterion:
    """One line of the checklist; `met` is None while it cannot be assessed."""

    key: str  # "aldrete" | "bp" | "spo2" | "recovery"
    label: str
    value: str
    met: bool | None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "cannot assess"}[self.met]


@dataclass(frozen=True, slots=True)
class DischargeAssessment:
    criteria: tuple[Criterion, ...]
    recovery_s: float

    @property
    def ready(self) -> bool:
        return all(c.met is True for c in self.criteria)

    def unmet(self) -> list[Criterion]:
        """The criteria not met or not assessable: signing off over them needs a reason."""
        return [c for c in self.criteria if c.met is not True]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {f"{c.key}_ok": c.met for c in self.criteria}
        out["recovery_s"] = round(self.recovery_s, 1)
        out["ready"] = self.ready
        return out


def _within(value: float, reference: float, percent: float) -> bool:
    return abs(value - reference) <= reference * percent / 100.0


def assess(
    aldrete: int | None,
    last_bp: tuple[float, float] | None,
    baseline_bp: tuple[float, float] | None,
    spo2: float | None,
    recovery_s: float,
    rules: DischargeRules | None = None,
) -> DischargeAssessment:
    """The verdict on each criterion from what is known at one moment."""
    rules = rules or load_rules()
    aldrete_c = Criterion(
        "aldrete",
        f"Modified Aldrete score >= {rules.aldrete_min}",
        "not recorded" if aldrete is None else f"{aldrete}",
        None if aldrete is None else aldrete >= rules.aldrete_min,
    )
    bp_label = f"Systolic and diastolic within {rules.bp_within_percent:g} % of baseline"
    if last_bp is None or baseline_bp is None:
        missing = "no baseline" if baseline_bp is None else "no reading"
        bp_c = Criterion("bp", bp_label, missing, None)
    else:
        ok = all(
            _within(v, ref, rules.bp_within_percent)
            for v, ref in zip(last_bp, baseline_bp, strict=True)
        )
        value = (
            f"last {last_bp[0]:.0f}/{last_bp[1]:.0f} vs baseline "
            f"{baseline_bp[0]:.0f}/{baseline_bp[1]:.0f}"
        )
        bp_c = Criterion("bp", bp_label, value, ok)
    spo2_c = Criterion(
        "spo2",
        f"SpO2 >= {rules.spo2_min:g} %",
        "no value" if spo2 is None else f"last {spo2:g} %",
        None if spo2 is None else spo2 >= rules.spo2_min,
    )
    recovery_c = Criterion(
        "recovery",
        f"At least {rules.recovery_min_s / 60:g} min of recovery",
        f"{recovery_s / 60:.0f} min",
        recovery_s >= rules.recovery_min_s,
    )
    return DischargeAssessment((aldrete_c, bp_c, spo2_c, recovery_c), recovery_s)
