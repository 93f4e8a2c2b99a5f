"""The NIBP channel: the SunTech driver, the measurement schedule, and their records.

Records it emits (docs/architecture.md): `{"type": "nibp", "t", "sys", "dia", "map", "pr",
"status": "ok"|"failed", "error_code", "error"}` per finished measurement, and
`{"type": "event", "t", "kind": "nibp", "state", "message", ...}` for
started / aborted / failed / not_responding / responding. The window's snapshot
(`monitor.present.bedside`) reads the attributes (`last_reading`, `cuff_pressure_mmhg`,
`status`, `mode`, ...). The program follows the session's phase, which the channel asks
of the `session_phase` callable it was made with.
"""

from __future__ import annotations

from drivers.registry import get_protocol
from drivers.suntech_driver import DriverEvent, DriverEventKind, SuntechNibpDriver
from drivers.types import LinkEvent, LinkState, NibpReading, NibpStatus
from monitor.channels import Channel, Emit, Record, SessionPhase, Write, no_session
from monitor.channels.nibp_schedule import NibpSchedule, NibpSettings, load_settings
from monitor.commands import Command, CommandBus, CommandError
from monitor.records import event_record, nibp_failure, nibp_reading


def _flag(args: dict[str, object], key: str, default: bool) -> bool:
    value = args.get(key, default)
    if not isinstance(value, bool):
        raise CommandError(f"'{key}' must be true or false, not {value!r}")
    return value


class NibpChannel(Channel):
    """One NIBP module on one port; commands `nibp_start`, `nibp_stop`, `nibp_interval`,
    `nibp_stat`, `nibp_program`."""

    def __init__(
        self,
        name: str,
        protocol: str,
        emit: Emit,
        write: Write,
        commands: CommandBus,
        session_phase: SessionPhase = no_session,
        settings: NibpSettings | None = None,
    ) -> None:
        if get_protocol(protocol).name != "suntech":
            raise CommandError(f"no NIBP driver for protocol '{protocol}'")
        self.name = name
        self.protocol = protocol
        self.settings = settings or load_settings()
        self.schedule = NibpSchedule(self.settings)
        self.driver = SuntechNibpDriver(write, self.settings.status_check_s)
        self.last_reading: NibpReading | None = None
        self.last_reading_t: float | None = None
        self.last_failure: NibpReading | None = None
        self.last_error: str = ""
        self._emit = emit
        self._phase = session_phase  # the program follows the session's phase
        self._t = 0.0
        commands.register("nibp_start", self._cmd_start, "measure NIBP now", accepts=())
        commands.register(
            "nibp_stop", self._cmd_stop, "cancel the measurement (and STAT)", accepts=()
        )
        commands.register(
            "nibp_interval",
            self._cmd_interval,
            "{minutes: 1-120|null, start_now?}: auto interval",
            accepts=("minutes", "start_now"),
        )
        commands.register(
            "nibp_stat", self._cmd_stat, "readings back to back for 5 minutes", accepts=()
        )
        commands.register(
            "nibp_program",
            self._cmd_program,
            "{on, cause?}: the infusion program",
            accepts=("on", "cause"),
        )

    # ------------------------------------------------------------ what the GUI reads

    @property
    def cuff_pressure_mmhg(self) -> int | None:
        return self.driver.cuff_pressure_mmhg

    @property
    def status(self) -> NibpStatus:
        return self.driver.status

    @property
    def mode(self) -> str:
        return self.schedule.mode

    @property
    def interval_min(self) -> int | None:
        return self.schedule.interval_min

    @property
    def next_due_t(self) -> float | None:
        return self.schedule.next_due_t

    def age_state(self, t: float) -> tuple[float | None, str]:
        """Age of the last reading and "valid" | "stale" | "invalid" | "missing"."""
        if self.last_reading_t is None:
            return None, "missing"
        age = max(0.0, t - self.last_reading_t)
        if age >= self.settings.invalid_after_s:
            return age, "invalid"
        if age >= self.settings.stale_after_s:
            return age, "stale"
        return age, "valid"

    # ------------------------------------------------------------ pipeline interface

    def feed(self, data: bytes, t: float) -> None:
        self._t = max(self._t, t)
        self._handle(self.driver.feed(data, t))
        self._run_schedule(t)

    def on_link(self, event: LinkEvent, t: float) -> None:
        if event.state is not LinkState.UP:
            self._handle(self.driver.link_lost(t))

    def tick(self, t: float) -> None:
        self._t = max(self._t, t)
        self._handle(self.driver.poll(t))
        self._run_schedule(t)

    def next_due(self, t: float) -> float:
        """The driver's next poll, timeout or probe, and the schedule's next reading."""
        return min(self.driver.next_action_t(), self.schedule.next_due(t, self._phase()))

    def numerics_json(self, t: float) -> Record:
        age, state = self.age_state(t)
        return {"nibp_age_s": None if age is None else round(age, 1), "nibp_state": state}

    # ------------------------------------------------------------ commands

    def _cmd_start(self, args: dict[str, object], t: float) -> None:
        self._start(t)

    def _cmd_stop(self, args: dict[str, object], t: float) -> None:
        self.schedule.stop_stat(t)
        self._handle(self.driver.abort(t))
        self._handle(self.driver.poll(t))

    def _cmd_interval(self, args: dict[str, object], t: float) -> None:
        minutes = self.schedule.validate_interval(args.get("minutes"))
        start_now = _flag(args, "start_now", False)
        self.schedule.set_interval(minutes, t)
        if start_now:
            self._start(t)

    def _cmd_stat(self, args: dict[str, object], t: float) -> None:
        self.schedule.start_stat(t)
        self._start(t)

    def _cmd_program(self, args: dict[str, object], t: float) -> None:
        cause = args.get("cause")
        if cause is not None and not isinstance(cause, str):
            raise CommandError("nibp_program: cause must be text")
        self.schedule.set_program(_flag(args, "on", True), t)
        self._run_schedule(t)

    def infusion_started(self) -> Command | None:
        """The command that starts the infusion program with the infusion (the default,
        docs/clinical.md), unless the NIBP already measures automatically."""
        if not self.settings.program_starts_with_infusion or self.schedule.mode != "manual":
            return None
        return Command("nibp_program", {"on": True, "cause": "infusion_start"})

    # ------------------------------------------------------------ internals

    def _start(self, stamp: float) -> None:
        """Start at `stamp` and put the command on the wire now."""
        if self.driver.start(stamp):
            self._handle(self.driver.poll(max(stamp, self._t)))

    def _run_schedule(self, t: float) -> None:
        due = self.schedule.due(t, self._phase())
        if due is not None and not self.driver.measuring:
            self._start(due)

    def _handle(self, events: list[DriverEvent]) -> None:
        for event in events:
            self._on_event(event)

    def _on_event(self, event: DriverEvent) -> None:
        t = round(event.t, 3)
        kind = event.kind
        if kind is DriverEventKind.CUFF:
            return
        if kind is DriverEventKind.READING and event.reading is not None:
            self.last_reading, self.last_reading_t = event.reading, event.t
            self._emit(_reading_record(t, event.reading))
        elif kind is DriverEventKind.FAILED:
            reading = event.reading
            self.last_failure = reading
            self.last_error = event.message
            code = reading.error_code if reading is not None else None
            self._emit(nibp_failure(t, code, event.message))
            self._event(t, "failed", event.message, error_code=code)
        else:
            self._event(t, kind.value, event.message or kind.value, mode=self.mode)
        # STAT goes on back to back, but not into a module that does not answer.
        if (
            kind in (DriverEventKind.READING, DriverEventKind.FAILED)
            and self.driver.responding
            and self.schedule.stat_continues(event.t)
        ):
            self._start(event.t)

    def _event(self, t: float, state: str, message: str, **extra: object) -> None:
        self._emit(event_record(t, "nibp", state=state, message=message, **extra))


def _reading_record(t: float, reading: NibpReading) -> Record:
    return nibp_reading(
        t, reading.systolic_mmhg, reading.diastolic_mmhg, reading.map_mmhg, reading.pulse_rate_bpm
    )
