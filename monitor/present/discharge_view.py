"""The discharge checklist the nurse sees before signing off, without Qt: each criterion
of monitor/discharge.toml met or not, and what a sign-off needs (a reason when any is
unmet, as the session model demands)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.discharge import DischargeAssessment

MARKS = {True: "\u2713", False: "\u2717", None: "?"}  # check, cross, unknown
STATES = {True: "met", False: "unmet", None: "unknown"}


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    mark: str
    label: str
    value: str
    verdict: str
    state: str  # "met" | "unmet" | "unknown": the painter's colour


def checklist(assessment: DischargeAssessment) -> list[ChecklistRow]:
    return [
        ChecklistRow(MARKS[c.met], c.label, c.value, c.verdict, STATES[c.met])
        for c in assessment.criteria
    ]


def sign_off_summary(assessment: DischargeAssessment) -> str:
    unmet = len(assessment.unmet())
    if not unmet:
        return "All discharge criteria met."
    what = "criterion is" if unmet == 1 else "criteria are"
    return f"{unmet} {what} not met: signing off needs a reason."


def sign_off_args(assessment: DischargeAssessment, by: str, reason: str) -> dict[str, object]:
    """The `mark_event` arguments of the sign-off; ValueError (in words) when a reason
    is needed and missing."""
    args: dict[str, object] = {"kind": "sign_off"}
    if by.strip():
        args["by"] = by.strip()
    if assessment.unmet():
        if not reason.strip():
            raise ValueError("Give the reason for signing off with criteria unmet.")
        args["override_reason"] = reason.strip()
    return args
