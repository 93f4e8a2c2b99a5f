"""Everything the nurse can do, as data: labels, keyboard shortcuts, and the command each
sends (no Qt). The window builds its buttons and shortcuts from these tables, so a
test can check every action has a unique shortcut and produces the agreed command.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.types import NibpStatus
from monitor.session import ADVERSE_EFFECTS, PHASES


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    label: str
    shortcut: str  # Qt key-sequence text
    help: str


# Soft keys along the bottom, in screen order.
ACTIONS: tuple[Action, ...] = (
    Action("acknowledge", "Acknowledge", "F1", "acknowledge the active alarms"),
    Action("pause_audio", "Pause audio", "F2", "silence alarm audio for 2 minutes"),
    Action(
        "nibp_start_stop", "NIBP start/stop", "F3", "start a blood-pressure reading, or stop it"
    ),
    Action("nibp_interval", "NIBP auto", "F4", "set the automatic NIBP interval"),
    Action("nibp_stat", "STAT", "F5", "readings back to back for 5 minutes"),
    Action("mark_event", "Event", "F6", "mark an event (infusion, adverse effect, note)"),
    Action("limits", "Limits", "F7", "alarm limits and delays"),
    Action("trends", "Trends", "F8", "trends of the whole session"),
    Action("phase", "Phase", "F9", "move the session to its next phase"),
    Action("setup", "Session", "F10", "patient id, weight, planned dose"),
    Action("fullscreen", "Full screen", "F11", "full screen on/off"),
)
ACTIONS_BY_NAME: dict[str, Action] = {a.name: a for a in ACTIONS}

# Automatic NIBP intervals offered (minutes; None = off, manual only). docs/clinical.md: 1-120.
NIBP_INTERVALS: tuple[int | None, ...] = (None, 1, 2, 3, 5, 10, 15, 20, 30, 60, 120)


def nibp_start_stop_command(status: NibpStatus | None) -> str:
    """One key for both, as on a monitor: stop while measuring, else start."""
    return "nibp_stop" if status is NibpStatus.INFLATING else "nibp_start"


def next_phase(phase: str | None) -> str | None:
    """The phase after `phase` (the first one when there is no session), None after the last."""
    if phase not in PHASES:
        return PHASES[0]
    i = PHASES.index(phase)
    return PHASES[i + 1] if i + 1 < len(PHASES) else None


@dataclass(frozen=True, slots=True)
class EventChoice:
    """One tap on the event panel: a label and the `mark_event` arguments it sends.

    `ask` names a value the nurse must give first (dose, text), None for a single tap.
    """

    label: str
    kind: str
    fixed: tuple[tuple[str, object], ...] = ()
    ask: str | None = None  # a field of monitor.session.EVENT_FIELDS the nurse must give


EVENT_CHOICES: tuple[EventChoice, ...] = (
    EventChoice("Infusion start", "infusion_start", ask="dose_mg_per_kg_h"),
    EventChoice("Infusion stop", "infusion_stop"),
    EventChoice("Rate change", "rate_change", ask="dose_mg_per_kg_h"),
    EventChoice("Bolus", "bolus", ask="dose_mg"),
    *(
        EventChoice(effect.replace("_", " ").capitalize(), "adverse_effect", (("effect", effect),))
        for effect in ADVERSE_EFFECTS
    ),
    EventChoice("Rescue drug", "rescue_drug", ask="drug"),
    EventChoice("Aldrete score", "aldrete", ask="score"),
    EventChoice("Note", "note", ask="text"),
    EventChoice("Sign-off", "sign_off"),
)


def event_args(choice: EventChoice, answer: object = None) -> dict[str, object]:
    """The `mark_event` arguments for a choice (and the nurse's answer, if it asks one)."""
    args: dict[str, object] = {"kind": choice.kind, **dict(choice.fixed)}
    if choice.ask is not None:
        if answer is None or answer == "":
            raise ValueError(f"{choice.label} needs a value")
        args[choice.ask] = answer
    return args


@dataclass(frozen=True, slots=True)
class LimitEdit:
    """What the limits dialog's controls hold for one alarm (None: no such control)."""

    threshold: float | None
    delay_s: float | None
    enabled: bool
    apnea_s: float | None = None
