"""When the NIBP measures: manual, interval aligned to the clock, STAT, the infusion program.

Pure data-time logic with no device in it, so it is tested on its own and the
channel only asks it "is a measurement due now, and at which stamp?". The
clinical numbers live in `nibp_schedule.toml` (docs/clinical.md asks for a data file).
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from monitor.commands import CommandError

Mode = Literal["manual", "interval", "stat", "program"]
# The phase the program assumes when no session model says otherwise.
DEFAULT_PHASE = "infusion"


@dataclass(frozen=True, slots=True)
class ProgramStep:
    every_min: int
    until_min: float | None = None  # from the start of the phase; None = to its end


@dataclass(frozen=True, slots=True)
class NibpSettings:
    stat_s: float
    interval_min_range: tuple[int, int]
    stale_after_s: float
    invalid_after_s: float
    program: dict[str, tuple[ProgramStep, ...]]
    program_starts_with_infusion: bool = False
    status_check_s: float = math.inf  # idle: ask the module its status this often

    def program_interval_min(self, phase: str, phase_elapsed_s: float) -> int | None:
        """Minutes between readings the program wants now (None: no automatic readings)."""
        for step in self.program.get(normalise_phase(phase), ()):
            if step.until_min is None or phase_elapsed_s < step.until_min * 60.0:
                return step.every_min
        return None


@functools.lru_cache(maxsize=64)
def normalise_phase(phase: str) -> str:
    """A phase name as the program's table spells it (asked several times a second)."""
    return phase.strip().lower().replace("_", "-").replace(" ", "-")


def settings_doc(text: str | None = None) -> dict[str, Any]:
    """The bundled `nibp_schedule.toml` as a document, or `text` in its format (tests)."""
    if text is None:
        path = resources.files("monitor") / "channels" / "nibp_schedule.toml"
        text = path.read_text(encoding="utf-8")
    return tomllib.loads(text)


# Added since recordings first kept their config: a recording without the NIBP document
# ran without them, and replays so (no idle status checks, no program with the infusion).
NEWER_KEYS = ("status_check_seconds", "program_starts_with_infusion")


def legacy_doc() -> dict[str, Any]:
    return {k: v for k, v in settings_doc().items() if k not in NEWER_KEYS}


def load_settings(text: str | None = None, doc: Mapping[str, Any] | None = None) -> NibpSettings:
    """The bundled settings, or those of `text` or of a document (a recording's)."""
    if doc is None:
        doc = settings_doc(text)
    low, high = doc["interval_minutes"]
    program = {
        normalise_phase(phase): tuple(
            ProgramStep(int(step["every_minutes"]), step.get("until_minutes")) for step in steps
        )
        for phase, steps in doc.get("program", {}).items()
    }
    return NibpSettings(
        stat_s=float(doc["stat_minutes"]) * 60.0,
        interval_min_range=(int(low), int(high)),
        stale_after_s=float(doc["stale_after_minutes"]) * 60.0,
        invalid_after_s=float(doc["invalid_after_minutes"]) * 60.0,
        program=program,
        program_starts_with_infusion=doc.get("program_starts_with_infusion") is True,
        status_check_s=float(doc.get("status_check_seconds", math.inf)),
    )


def next_slot(t: float, every_s: float) -> float:
    """The first multiple of `every_s` strictly after `t` (aligned to the clock)."""
    return (math.floor(t / every_s + 1e-9) + 1) * every_s


class NibpSchedule:
    """Which mode the NIBP runs in and when its next automatic reading is due."""

    def __init__(self, settings: NibpSettings) -> None:
        self.settings = settings
        self.mode: Mode = "manual"
        self.interval_min: int | None = None
        self.next_due_t: float | None = None
        self.stat_until_t: float | None = None
        self._resume: tuple[Mode, int | None] = ("manual", None)
        self._program_started_t = 0.0

    def validate_interval(self, minutes: object) -> int | None:
        if minutes is None:
            return None
        low, high = self.settings.interval_min_range
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
            raise CommandError(
                f"NIBP interval must be {low}-{high} minutes or null, not {minutes!r}"
            )
        return minutes

    def set_interval(self, minutes: int | None, t: float) -> None:
        """A fixed interval (aligned to multiples of it in data time), or None: manual."""
        self.stat_until_t = None
        if minutes is None:
            self.mode, self.interval_min, self.next_due_t = "manual", None, None
            return
        self.mode, self.interval_min = "interval", minutes
        self.next_due_t = next_slot(t, minutes * 60.0)

    def set_program(self, on: bool, t: float) -> None:
        self.stat_until_t = None
        if not on:
            self.set_interval(None, t)
            return
        self.mode = "program"
        self.interval_min = None
        self.next_due_t = None
        self._program_started_t = t

    def start_stat(self, t: float) -> None:
        if self.mode != "stat":
            self._resume = (self.mode, self.interval_min)
        self.mode = "stat"
        self.stat_until_t = t + self.settings.stat_s
        self.next_due_t = None  # back to back: no slot until STAT is over

    def stop_stat(self, t: float) -> None:
        """STAT is over (its time is up, or the nurse cancelled): back to the mode before."""
        if self.mode != "stat":
            return
        self.stat_until_t = None
        mode, minutes = self._resume
        if mode == "program":
            self.set_program(True, self._program_started_t)
        else:
            self.set_interval(minutes if mode == "interval" else None, t)

    def stat_continues(self, t: float) -> bool:
        """After a STAT reading ends at `t`: start the next one at once?"""
        return self.mode == "stat" and self.stat_until_t is not None and t < self.stat_until_t

    def due(self, t: float, phase: tuple[str, float] | None) -> float | None:
        """The stamp of an automatic reading due by `t`, if any (slots passed are used up).

        `phase` is (phase name, phase start t) from the session, if there is one.
        """
        if self.mode == "stat":
            if self.stat_until_t is not None and t >= self.stat_until_t:
                self.stop_stat(self.stat_until_t)
            else:
                return None
        if self.mode == "program":
            self._follow_program(t, phase)
        if self.next_due_t is None or self.interval_min is None or t < self.next_due_t:
            return None
        every_s = self.interval_min * 60.0
        slot = self.next_due_t
        while slot + every_s <= t:
            slot += every_s
        self.next_due_t = slot + every_s
        return slot

    def next_due(self, t: float, phase: tuple[str, float] | None) -> float:
        """The earliest data time from which `due` changes anything or returns a stamp
        (inf: never; `t`: at once). `phase` as for `due`; it changes only by command."""
        if self.mode == "stat":
            return math.inf if self.stat_until_t is None else self.stat_until_t
        at = math.inf
        if self.mode == "program":
            if self._program_minutes(t, phase) != self.interval_min:
                return t
            name, started = self._program_phase(phase)
            for step in self.settings.program.get(normalise_phase(name), ()):
                end = None if step.until_min is None else started + step.until_min * 60.0
                if end is not None and end > t:
                    at = min(at, end - 1e-9)  # a hair early: rounding never makes it late
        if self.next_due_t is not None and self.interval_min is not None:
            at = min(at, self.next_due_t)
        return at

    def _program_phase(self, phase: tuple[str, float] | None) -> tuple[str, float]:
        """(phase, its start) the program follows: the session's, else the default."""
        return phase if phase is not None else (DEFAULT_PHASE, self._program_started_t)

    def _program_minutes(self, t: float, phase: tuple[str, float] | None) -> int | None:
        """Minutes between readings the program wants at `t`."""
        name, started = self._program_phase(phase)
        return self.settings.program_interval_min(name, max(0.0, t - started))

    def _follow_program(self, t: float, phase: tuple[str, float] | None) -> None:
        minutes = self._program_minutes(t, phase)
        if minutes == self.interval_min:
            return
        self.interval_min = minutes
        self.next_due_t = None if minutes is None else next_slot(t - 1e-6, minutes * 60.0)
