"""The two-way SunTech driver: sends commands, matches answers, runs one measurement.

No thread and no clock of its own: the owner calls `feed(bytes, t)` with what
arrived and `poll(t)` as data time moves on, so a recording replays to the same
events. Every action has a *stamp*: the data time it was due (a poll every
0.5 s, BP data every 2 s, a deadline), not the moment the caller happened to
call, and an answer carries the stamp of the question it answers. That makes
the events independent of how coarsely the caller steps time.

One request is outstanding at a time; the next goes out when it is answered.
No answer within 5 s (counted to the next whole second) means the module is
not responding; while it stays silent a harmless probe goes out on whole
seconds so its return is noticed. Answers carry no sequence number, so after an
unanswered command the next few seconds' answers may be its late answer: they
are dropped, and no command but an abort goes out until that window is over
(else a module always 7 s late would have each answer taken for the next
command's and pass for responding). While idle, the module is asked its status every
`status_check_s` (on multiples of it in data time), so a dead module is noticed
without waiting for the next measurement. A measurement that
has not finished 180 s after its start is aborted (IEC 80601-2-30: the cuff
must be below 15 mmHg by then; the module deflates before it reports).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from drivers.suntech import (
    Ack,
    AckResponse,
    BpDataResponse,
    CommandKind,
    CuffPressureResponse,
    ModuleDataResponse,
    ReturnCodeResponse,
    SuntechResponse,
    SuntechResponseDecoder,
    encode_command,
)
from drivers.types import NibpReading, NibpStatus

CUFF_POLL_S = 0.5
BP_POLL_S = 2.0
RESPONSE_TIMEOUT_S = 5.0
# An answer within this long of its command is stamped with the command's send time, so
# a simulator stepping whole seconds and one stepping 40 ms give the same records; a
# later answer carries its own arrival time, so records never go back in data time.
SAME_STEP_S = 1.0
# Adult: the measurement over (the module reports only after it has dumped the
# cuff below 15 mmHg) within this, or it is aborted.
MAX_MEASUREMENT_S = 180.0
# Bytes of a frame that never completes (garbage that looked like a start) are given
# up after this long; a whole frame takes under 70 ms at 9600 baud.
PARTIAL_FRAME_EXPIRY_S = 0.5
# After an unanswered command, answers are taken for its late one and dropped, and
# commands other than an abort wait, for this long: so a module up to ~9 s late (the
# deadline is rounded up to a whole second) is never taken for a responding one.
LATE_ANSWER_WINDOW_S = 4.0

_EXPECTED: dict[CommandKind, type] = {
    CommandKind.START_ADULT: AckResponse,
    CommandKind.START_PEDIATRIC: AckResponse,
    CommandKind.START_NEONATE: AckResponse,
    CommandKind.ABORT: AckResponse,
    CommandKind.GET_BP_DATA: BpDataResponse,
    CommandKind.GET_CUFF_PRESSURE: CuffPressureResponse,
    CommandKind.GET_RETURN_CODE: ReturnCodeResponse,
    CommandKind.MODULE_DATA: ModuleDataResponse,
    CommandKind.SET_INITIAL_INFLATE: AckResponse,
    CommandKind.CALIBRATE: AckResponse,
}
_STARTS = (CommandKind.START_ADULT, CommandKind.START_PEDIATRIC, CommandKind.START_NEONATE)


class DriverEventKind(enum.Enum):
    STARTED = "started"
    CUFF = "cuff"  # cuff pressure while measuring
    READING = "reading"  # finished, values valid
    FAILED = "failed"  # finished with an error code, refused, or given up
    ABORTED = "aborted"  # stopped on request
    NOT_RESPONDING = "not_responding"
    RESPONDING = "responding"  # answers again after not responding


@dataclass(frozen=True, slots=True)
class DriverEvent:
    t: float
    kind: DriverEventKind
    reading: NibpReading | None = None
    cuff_mmhg: int | None = None
    message: str = ""


@dataclass(slots=True)
class _Request:
    kind: CommandKind
    due_t: float
    sent_t: float = 0.0

    @property
    def deadline(self) -> float:
        """5 s after sending, at the next whole second of data time: so a caller stepping
        time in whole seconds notices it exactly when a finer-stepping caller does."""
        return float(math.ceil(self.sent_t + RESPONSE_TIMEOUT_S - 1e-9))


class SuntechNibpDriver:
    """Runs measurements on a SunTech module through `write` (bytes to the port)."""

    def __init__(self, write: Callable[[bytes], object], status_check_s: float = math.inf) -> None:
        self._write = write
        self.status_check_s = status_check_s
        self._next_check_t = status_check_s
        self.decoder = SuntechResponseDecoder()
        self.status = NibpStatus.IDLE
        self.responding = True
        self.cuff_pressure_mmhg: int | None = None
        self.measurement_start_t: float | None = None
        self.unexpected_responses = 0
        self._queue: deque[_Request] = deque()
        self._outstanding: _Request | None = None
        self._clock = 0.0  # stamp of the last thing handled
        self._partial_since: float | None = None
        self._next_cuff_t = 0.0
        self._next_bp_t = 0.0
        self._stale_until = -math.inf  # answers before this may answer a timed-out command

    # ------------------------------------------------------------ requests from the owner

    @property
    def measuring(self) -> bool:
        return self.measurement_start_t is not None

    def start(self, t: float, kind: CommandKind = CommandKind.START_ADULT) -> bool:
        """Begin a measurement at data time `t`; False if one is already running."""
        if self.measuring:
            return False
        self._clock = max(self._clock, t)
        self.measurement_start_t = t
        self.status = NibpStatus.INFLATING
        self.cuff_pressure_mmhg = None
        self._drop_polls()
        self._queue.append(_Request(kind, t))
        self._next_cuff_t = t + CUFF_POLL_S
        self._next_bp_t = t + BP_POLL_S
        return True

    def abort(self, t: float) -> list[DriverEvent]:
        """Stop the running measurement (the nurse's cancel); the module deflates."""
        if not self.measuring:
            return []
        self._clock = max(self._clock, t)
        self._queue.appendleft(_Request(CommandKind.ABORT, t))
        return [self._end(t, NibpStatus.ABORTED, DriverEventKind.ABORTED, None, "stopped")]

    def link_lost(self, t: float) -> list[DriverEvent]:
        """The port vanished: nothing in flight can be answered any more."""
        self.decoder.reset()
        self._partial_since = None
        self._outstanding = None
        self._queue.clear()
        if not self.measuring:
            return []
        return [self._end(t, NibpStatus.FAILED, DriverEventKind.FAILED, None, "NIBP port lost")]

    # ------------------------------------------------------------ time and bytes

    def feed(self, data: bytes, t: float) -> list[DriverEvent]:
        """Bytes from the module that arrived by data time `t`."""
        events: list[DriverEvent] = []
        responses = self.decoder.feed(data)
        if self.decoder.pending:
            if self._partial_since is None:
                self._partial_since = t
        else:
            self._partial_since = None
        for response in responses:
            events += self._on_response(response, t)
        events += self.poll(t)
        return events

    def poll(self, t: float) -> list[DriverEvent]:
        """Data time is `t`: send what is due, notice deadlines, in stamp order."""
        events: list[DriverEvent] = []
        if self._partial_since is not None and t - self._partial_since >= PARTIAL_FRAME_EXPIRY_S:
            self._partial_since = None
            for response in self.decoder.flush():
                events += self._on_response(response, t)
        while True:
            if (
                self._outstanding is None
                and self._queue
                and t >= self._earliest_send(self._queue[0])
            ):
                self._send(self._queue.popleft())
                continue
            due = self._next_due()
            if due is None or due[0] > t:
                return events
            stamp, action = due
            self._clock = max(self._clock, stamp)
            events += action(stamp)

    def next_action_t(self) -> float:
        """The data time from which `poll` has something to do (-inf: at once)."""
        if self._outstanding is None and self._queue:
            return self._earliest_send(self._queue[0])
        due = self._next_due()
        at = math.inf if due is None else due[0]
        if self._partial_since is not None:
            at = min(at, self._partial_since + PARTIAL_FRAME_EXPIRY_S)
        return at

    # ------------------------------------------------------------ internals

    def _next_due(self) -> tuple[float, Callable[[float], list[DriverEvent]]] | None:
        candidates: list[tuple[float, int, Callable[[float], list[DriverEvent]]]] = []
        if self._outstanding is not None:
            candidates.append((self._outstanding.deadline, 0, self._timeout))
        if self.measurement_start_t is not None:
            candidates.append((self.measurement_start_t + MAX_MEASUREMENT_S, 1, self._too_long))
            candidates.append((self._next_cuff_t, 2, self._poll_cuff))
            candidates.append((self._next_bp_t, 3, self._poll_bp))
        elif not self.responding and self._outstanding is None and not self._queue:
            candidates.append((float(math.ceil(self._clock - 1e-9)), 4, self._probe))
        elif self._outstanding is None and not self._queue and math.isfinite(self._next_check_t):
            candidates.append((self._next_check_t, 5, self._status_check))
        if not candidates:
            return None
        # (stamp, rank) decide; ranks differ, so the actions themselves are never compared.
        stamp, _, action = candidates[0] if len(candidates) == 1 else min(candidates)
        return stamp, action

    def _earliest_send(self, request: _Request) -> float:
        """An abort may go out at once; anything else waits out the late-answer window."""
        return -math.inf if request.kind is CommandKind.ABORT else self._stale_until

    def _send(self, request: _Request) -> None:
        request.sent_t = max(request.due_t, self._clock, self._earliest_send(request))
        self._clock = request.sent_t
        self._outstanding = request
        self._write(encode_command(request.kind))

    def _poll_cuff(self, stamp: float) -> list[DriverEvent]:
        self._next_cuff_t = stamp + CUFF_POLL_S
        self._queue.append(_Request(CommandKind.GET_CUFF_PRESSURE, stamp))
        return []

    def _poll_bp(self, stamp: float) -> list[DriverEvent]:
        self._next_bp_t = stamp + BP_POLL_S
        self._queue.append(_Request(CommandKind.GET_BP_DATA, stamp))
        return []

    def _probe(self, stamp: float) -> list[DriverEvent]:
        """While the module is silent, ask something harmless so we notice it is back."""
        self._queue.append(_Request(CommandKind.GET_RETURN_CODE, stamp))
        return []

    def _status_check(self, stamp: float) -> list[DriverEvent]:
        """Idle: ask the module its status, so silence is noticed between measurements."""
        every = self.status_check_s
        self._next_check_t = (math.floor(max(stamp, self._clock) / every + 1e-9) + 1) * every
        self._queue.append(_Request(CommandKind.GET_RETURN_CODE, stamp))
        return []

    def _too_long(self, stamp: float) -> list[DriverEvent]:
        self._queue.appendleft(_Request(CommandKind.ABORT, stamp))
        message = f"not finished within {MAX_MEASUREMENT_S:.0f} s: aborted for safety"
        return [self._end(stamp, NibpStatus.FAILED, DriverEventKind.FAILED, None, message)]

    def _timeout(self, stamp: float) -> list[DriverEvent]:
        request = self._outstanding
        self._outstanding = None
        self._stale_until = stamp + LATE_ANSWER_WINDOW_S
        events: list[DriverEvent] = []
        if self.responding:
            self.responding = False
            what = request.kind.value if request else "a command"
            events.append(
                DriverEvent(
                    stamp,
                    DriverEventKind.NOT_RESPONDING,
                    message=f"NIBP not responding (no answer to {what} within "
                    f"{RESPONSE_TIMEOUT_S:.0f} s)",
                )
            )
        if self.measuring:
            self._drop_polls()
            self._queue.appendleft(_Request(CommandKind.ABORT, stamp))
            events.append(
                self._end(
                    stamp,
                    NibpStatus.NOT_RESPONDING,
                    DriverEventKind.FAILED,
                    None,
                    "NIBP not responding",
                )
            )
        else:
            self.status = NibpStatus.NOT_RESPONDING
        return events

    def _on_response(self, response: SuntechResponse, t: float) -> list[DriverEvent]:
        if t < self._stale_until:  # may be the late answer to the command that timed out
            self.unexpected_responses += 1
            return []
        request = self._outstanding
        busy = isinstance(response, AckResponse) and response.ack in (Ack.BUSY, Ack.SLEEP)
        if request is None or not (busy or isinstance(response, _EXPECTED[request.kind])):
            self.unexpected_responses += 1
            return []
        self._outstanding = None
        stamp = request.sent_t if t - request.sent_t <= SAME_STEP_S + 1e-9 else t
        self._clock = max(self._clock, stamp)
        events: list[DriverEvent] = []
        if not self.responding:
            self.responding = True
            if self.status is NibpStatus.NOT_RESPONDING:
                self.status = NibpStatus.IDLE
            events.append(DriverEvent(stamp, DriverEventKind.RESPONDING, message="NIBP answers"))
        if request.kind in _STARTS:
            events += self._on_start_answer(response, stamp)
        elif isinstance(response, CuffPressureResponse) and self.measuring:
            self.cuff_pressure_mmhg = response.mmhg
            events.append(DriverEvent(stamp, DriverEventKind.CUFF, cuff_mmhg=response.mmhg))
        elif isinstance(response, BpDataResponse) and self.measuring and response.finished:
            reading = response.reading()
            if reading.ok:
                events.append(self._end(stamp, NibpStatus.DONE, DriverEventKind.READING, reading))
            else:
                message = f"error {reading.error_code}: {reading.error_text}"
                events.append(
                    self._end(stamp, NibpStatus.FAILED, DriverEventKind.FAILED, reading, message)
                )
        return events

    def _on_start_answer(self, response: SuntechResponse, stamp: float) -> list[DriverEvent]:
        if isinstance(response, AckResponse) and response.ack is Ack.OK:
            return [DriverEvent(stamp, DriverEventKind.STARTED, message="measuring")]
        if not self.measuring:
            return []
        what = response.ack.name.lower() if isinstance(response, AckResponse) else "?"
        return [
            self._end(
                stamp, NibpStatus.FAILED, DriverEventKind.FAILED, None, f"start refused ({what})"
            )
        ]

    def _end(
        self,
        stamp: float,
        status: NibpStatus,
        kind: DriverEventKind,
        reading: NibpReading | None,
        message: str = "",
    ) -> DriverEvent:
        self.measurement_start_t = None
        self.cuff_pressure_mmhg = None
        self.status = status
        self._drop_polls()
        return DriverEvent(stamp, kind, reading=reading, message=message)

    def _drop_polls(self) -> None:
        polls = (CommandKind.GET_CUFF_PRESSURE, CommandKind.GET_BP_DATA)
        self._queue = deque(r for r in self._queue if r.kind not in polls)
