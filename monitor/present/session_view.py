"""The session strip and device link words (no Qt): what the nurse reads at the bottom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Link states (drivers.types.LinkState values) in words a nurse can act on.
LINK_WORDS: dict[str, str] = {
    "up": "connected",
    "down": "disconnected — check the cable",
    "reconnecting": "reconnecting…",
    "silent": "no data — device silent",
    "garbage": "unreadable data — wrong device or speed?",
}
DEVICE_NAMES: dict[str, str] = {
    "oximeter": "SpO₂",
    "nibp": "NIBP",
    "resp": "Resp",
    "capno": "CO₂",
}
LINK_OK = frozenset({"up", "receiving", "ready"})
OK_MARK = "✓"


def running_time(seconds: float) -> str:
    whole = max(0, int(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def phase_label(phase: str | None) -> str:
    if not phase:
        return "No session"
    return phase.replace("_", "-").capitalize()


@dataclass(frozen=True, slots=True)
class SessionStripView:
    patient: str
    phase: str
    dose: str


def session_strip_view(
    patient_id: str | None,
    weight_kg: float | None,
    phase: str | None,
    phase_started_t: float | None,
    dose_mg_per_kg_h: float | None,
    t: float,
) -> SessionStripView:
    patient = f"Patient {patient_id}" if patient_id else "Patient: not set"
    if weight_kg:
        patient += f" · {weight_kg:g} kg"
    phase_text = phase_label(phase)
    if phase and phase_started_t is not None:
        phase_text += f" {running_time(t - phase_started_t)}"
    if dose_mg_per_kg_h:
        dose = f"Ketamine {dose_mg_per_kg_h:.2f} mg/kg/h"
        if weight_kg:
            dose += f" ({dose_mg_per_kg_h * weight_kg:.1f} mg/h)"
    else:
        dose = "Infusion: off"
    return SessionStripView(patient, phase_text, dose)


@dataclass(frozen=True, slots=True)
class LinkView:
    device: str
    words: str
    ok: bool

    @property
    def text(self) -> str:
        """A tick while all is well (the strip stays short); what is wrong, in words, if not."""
        return f"{self.device} {OK_MARK}" if self.ok else f"{self.device}: {self.words}"


def link_view(
    channel: str, state: str | None, has_data: bool, answering: bool | None = None
) -> LinkView:
    """`state` is the last link event (None if the source never reported one).

    `answering` is for command/response devices (NIBP), which send nothing until asked:
    None for streaming devices, else whether the module answers its commands.
    """
    if state is None or state == "up":
        if answering is not None:
            state = "ready" if answering else "silent"
        elif state is None:
            state = "receiving" if has_data else "waiting"
    extra = {"receiving": "receiving", "waiting": "waiting for data", "ready": "ready"}
    words = LINK_WORDS.get(state) or extra.get(state, state)
    if state == "silent" and answering is False:
        words = "not answering"
    return LinkView(DEVICE_NAMES.get(channel, channel), words, state in LINK_OK)


def clock_text(wall_start: datetime, t: float) -> str:
    """Local wall-clock time of data time `t` (HH:MM:SS), as the nurse's watch reads."""
    return (wall_start + timedelta(seconds=t)).astimezone().strftime("%H:%M:%S")
