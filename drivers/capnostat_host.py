"""The host's side of a Capnostat 5 conversation: set the module up, keep it streaming, zero it.

No thread and no clock of its own (like the SunTech driver): the owner calls
`link_up(t)` when the port (re)opens, `feed(bytes, t)` with what arrived and
`poll(t)` as data time moves on, and gives a `write` callable for the commands, so
a recording replays to the same events.

What it does (docs/protocols.md, "Capnostat 5"):
- on every (re)open: barometric pressure, CO2 units mmHg, the no-breath timeout and
  the gas compensation, then start the stream (`80 02 00 7E`);
- on the module's boot NACK (`C8 02 00 ..`: it restarted and forgot all that): the
  same again;
- while the link is up but no stream frame has come for `RESTART_AFTER_S`: the same
  again (a start command lost on the line would otherwise leave it silent for good);
- when the status asks for a zero and no breath is on the adapter (the module sees
  none: "no breaths" or no "breath OK"), a zero (`82 01 7D`), at most once every
  `ZERO_RETRY_S` while the request stands.
Whether the link counts as lost (no valid frame for 10 s) is the alarm engine's
call, from `last_frame_t` (docs/clinical.md).
"""

from __future__ import annotations

import enum
import functools
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drivers import capnostat as cs
from drivers.capnostat import CapnoBatch, CapnoFlag, CapnoMessage, CapnostatDecoder
from drivers.types import cached_flag

SETTINGS_FILE = Path(__file__).with_name("capnostat_settings.toml")
RESTART_AFTER_S = 5.0
ZERO_RETRY_S = 10.0
F = CapnoFlag


@dataclass(frozen=True, slots=True)
class CapnoSettings:
    """What the host tells the module on every (re)open (values: capnostat_settings.toml)."""

    barometric_pressure_mmhg: int
    no_breath_timeout_s: int
    o2_compensation_percent: int
    balance_gas: int
    anaesthetic_agent_percent_x10: int

    @classmethod
    def load(cls, path: Path = SETTINGS_FILE) -> CapnoSettings:
        with path.open("rb") as f:
            data = tomllib.load(f)["module"]
        return cls(**{name: int(data[name]) for name in cls.__dataclass_fields__})

    def setup_commands(self) -> list[bytes]:
        """The set-up sequence, in the order the module is told it, stream start last."""
        return [
            cs.set_barometric_pressure(self.barometric_pressure_mmhg),
            cs.set_units_mmhg(),
            cs.set_no_breath_timeout(self.no_breath_timeout_s),
            cs.set_gas_compensation(
                self.o2_compensation_percent,
                self.balance_gas,
                self.anaesthetic_agent_percent_x10,
            ),
            cs.start_stream(),
        ]


class HostEventKind(enum.Enum):
    SET_UP = "set_up"  # the set-up sequence went out (detail: why)
    REBOOTED = "rebooted"  # the module's boot NACK
    ZERO_STARTED = "zero_started"  # a zero command went out
    ZERO_REPLY = "zero_reply"  # the module's answer to it (detail: started, not_ready, ...)
    NACK = "nack"  # any other NACK (detail: the code)


@dataclass(frozen=True, slots=True)
class HostEvent:
    t: float
    kind: HostEventKind
    detail: str = ""


class CapnostatHost:
    """One module on one port; `status`, `last_frame_t` and `events` are what callers read."""

    def __init__(self, write: Callable[[bytes], bool], settings: CapnoSettings | None = None):
        self._write = write
        self.settings = settings or CapnoSettings.load()
        self.decoder = CapnostatDecoder()
        self.up = False
        self.status = F.NONE
        self.status_seen = False
        self.last_frame_t: float | None = None  # the last valid stream frame
        self._set_up_t: float | None = None
        self._zero_sent_t: float | None = None
        self.commands_sent = 0

    # ------------------------------------------------------------ the link

    def link_up(self, t: float) -> list[HostEvent]:
        """The port (re)opened: forget what was in flight, set the module up."""
        self.decoder.reset()
        self.up = True
        self.status, self.status_seen = F.NONE, False
        self._zero_sent_t = None
        return [self._set_up(t, "port opened")]

    def link_down(self) -> None:
        self.decoder.reset()
        self.up = False
        self.status, self.status_seen = F.NONE, False

    # ------------------------------------------------------------ bytes and time

    def take(self, batch: CapnoBatch, t: float) -> list[HostEvent]:
        """Act on a batch `decoder` made of the bytes that arrived by data time `t` (the
        channel may decode a run of feeds at once)."""
        events: list[HostEvent] = []
        for _, message in batch.messages:
            events += self._on_message(message, t)
        if len(batch):
            self.last_frame_t = t
            if bool(batch.status_seen[-1]):
                self.status = cached_flag(F, int(batch.status[-1]))
                self.status_seen = True
        return events + self.poll(t)

    def poll(self, t: float) -> list[HostEvent]:
        """Data time is `t`: restart a silent stream, zero when asked."""
        if not self.up:
            return []
        events: list[HostEvent] = []
        if t - self._quiet_since() >= RESTART_AFTER_S:
            events.append(self._set_up(t, f"no stream for {RESTART_AFTER_S:g} s"))
        if self._zero_wanted() and (
            self._zero_sent_t is None or t - self._zero_sent_t >= ZERO_RETRY_S
        ):
            self._zero_sent_t = t
            self._send(cs.start_zero())
            events.append(HostEvent(t, HostEventKind.ZERO_STARTED, "the module asked for a zero"))
        return events

    def next_action_t(self, frames_through: float | None = None) -> float:
        """From when `poll` may have something to do (a replay may skip until then), if
        stream frames keep coming through `frames_through` (a simulator knows)."""
        if not self.up:
            return float("inf")
        quiet_since = self._quiet_since()
        if frames_through is not None and self.last_frame_t is not None:
            quiet_since = max(quiet_since, frames_through)  # streaming: not silent before
        at = quiet_since + RESTART_AFTER_S
        if self._zero_wanted():
            at = min(
                at, -math.inf if self._zero_sent_t is None else self._zero_sent_t + ZERO_RETRY_S
            )
        return at

    # ------------------------------------------------------------ internals

    def _quiet_since(self) -> float:
        """The last stream frame or set-up, whichever came later."""
        frame, set_up = self.last_frame_t, self._set_up_t
        if frame is None:
            return -math.inf if set_up is None else set_up
        return frame if set_up is None or frame >= set_up else set_up

    def _zero_wanted(self) -> bool:
        return _wants_zero(int(self.status))

    def _set_up(self, t: float, why: str) -> HostEvent:
        self._set_up_t = t
        for command in self.settings.setup_commands():
            self._send(command)
        return HostEvent(t, HostEventKind.SET_UP, why)

    def _send(self, data: bytes) -> None:
        self.commands_sent += 1
        self._write(data)

    def _on_message(self, message: CapnoMessage, t: float) -> list[HostEvent]:
        if message.is_boot_nack:
            self.status, self.status_seen = F.NONE, False
            self._zero_sent_t = None
            return [
                HostEvent(t, HostEventKind.REBOOTED, "boot NACK"),
                self._set_up(t, "the module restarted"),
            ]
        if message.cmd == cs.CMD_NACK:
            return [HostEvent(t, HostEventKind.NACK, str(message.data[:1].hex()))]
        if message.cmd == cs.CMD_ZERO and message.data:
            code = message.data[0]
            name = cs.ZeroResult(code).name.lower() if code <= 3 else str(code)
            return [HostEvent(t, HostEventKind.ZERO_REPLY, name)]
        return []


@functools.cache
def _wants_zero(status: int) -> bool:
    """The status asks for a zero and no breath is on the adapter (asked every tick)."""
    s = F(status)
    no_breath = bool(s & F.NO_BREATHS) or not s & F.BREATH_OK
    return bool(s & F.ZERO_REQUIRED) and not s & F.ZERO_IN_PROGRESS and no_breath
