"""Where bytes come from: serial ports, the in-process simulator. All yield `Chunk`s.

One stream of time-stamped chunks feeds the pipeline whatever the source, so a
recording of that stream replays to the very same results.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from drivers.registry import PortSpec
from drivers.transport import SerialTransport
from drivers.types import LinkEvent
from simulator.devices import Bedside

TICK_S = 0.1
# Command/answer exchanges a simulator step may carry (a bound, not a budget).
MAX_ANSWER_ROUNDS = 64
SAME_STEP_EPS_S = 1e-6


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes one channel delivered by data time `t` (s since session start).

    `channel == ""` is a pure clock tick: time passed and nothing arrived.
    """

    t: float
    channel: str = ""
    data: bytes = b""
    link: LinkEvent | None = None


# How far a source may run ahead: the data time before which the monitor does nothing of
# its own accord on these channels, so writes nothing to their devices
# (`AcquisitionPipeline.quiet_until`).
# (channels whose devices answer the monitor, the data time each of them has sent bytes
# through in the run so far) -> the data time from which the monitor may write to them.
QuietUntil = Callable[[Collection[str], Mapping[str, float]], float]
# What a channel's port will bring next, feed by feed (`AcquisitionPipeline.expect`).
Expect = Callable[[str, list[bytes]], None]
# A flat-out simulation runs ahead at most this far (memory stays small).
MAX_RUN_S = 60.0
# ... and renders the devices that only stream this far ahead of its runs, so their
# bytes are decoded a stretch at a time even where the NIBP exchange cuts runs short.
STREAM_AHEAD_S = 30.0


class Source(Protocol):
    protocols: dict[str, str]  # channel -> protocol name
    live: bool  # True when the data comes from real time (no --speed)

    def chunks(self) -> Iterator[Chunk]: ...

    def runs(self, quiet_until: QuietUntil, expect: Expect | None = None) -> Iterator[list[Chunk]]:
        """The chunks in runs for `AcquisitionPipeline.process_run` (one by one, for a
        source that cannot run ahead). A source that knows a port's next bytes before
        their time may say so to `expect`; they then come in the very chunks said."""
        ...

    def write(self, channel: str, data: bytes) -> bool: ...

    def close(self) -> None: ...


class SimulatorSource:
    """The virtual bedside, stepped in data time, paced to `speed` (None = flat out)."""

    live = False

    def __init__(
        self,
        bedside: Bedside,
        speed: float | None = 1.0,
        step_s: float | None = None,
        ahead: bool = False,
    ) -> None:
        """`ahead`: flat out, run ahead of the monitor to its next due time (`runs`); only
        for runs where no command comes in meanwhile from outside (headless at --speed
        max reads its commands whole first; a window's buttons could come at any step)."""
        self._bedside = bedside
        self._speed = speed
        self._ahead = ahead and speed is None
        # Steps divide a second exactly, so every speed yields the same per-second numerics.
        if step_s is None:
            step_s = 0.04 if speed is not None and speed <= 20 else 1.0
        self.step_s = step_s
        self.protocols = dict(bedside.protocols)
        self._closed = threading.Event()
        self._t = 0.0
        # Bytes of the devices that only stream, rendered ahead: (step time, bytes).
        self._streamed: dict[str, deque[tuple[float, bytes]]] = {}
        self._streamed_through = 0  # the last step rendered ahead

    @property
    def bedside(self) -> Bedside:
        return self._bedside

    def chunks(self) -> Iterator[Chunk]:
        start = time.monotonic()
        step = 0
        # Answers to commands given before the first step (e.g. `--nibp-interval`).
        yield from self._drain(0.0)
        while not self._closed.is_set():
            step += 1
            t = round(step * self.step_s, 6)
            if self._speed is not None:
                delay = start + t / self._speed - time.monotonic()
                if delay > 0 and self._closed.wait(delay):
                    return
            self._t = t
            yield from self._step(t)

    def runs(self, quiet_until: QuietUntil, expect: Expect | None = None) -> Iterator[list[Chunk]]:
        """Flat out, the steps up to the monitor's next due time on the channels whose
        devices answer it (`quiet_until`) in one run, and no further than a step in which
        such a device sent bytes (the monitor may answer at once): whatever the monitor
        writes reaches the device at the very step it would one step at a time. Paced, or
        not `ahead`, one chunk at a time.

        The devices that only stream send what they would whatever the monitor writes:
        they are rendered up to STREAM_AHEAD_S ahead of the runs, and `expect` told
        their bytes, so the monitor decodes them in one pass however short the runs."""
        if not self._ahead:
            for chunk in self.chunks():
                yield [chunk]
            return
        answers = {ch for ch in self.protocols if self._bedside.takes_commands(ch)}
        streaming = [ch for ch in self.protocols if ch not in answers] if expect else []
        yield from ([c] for c in self._drain(0.0))
        step = 0
        while not self._closed.is_set():
            if streaming and expect is not None:
                self._stream_ahead(streaming, step, expect)
            run: list[Chunk] = []
            longest = self._t + MAX_RUN_S
            streamed: dict[str, float] = {}  # what the answering devices sent, through when
            until = min(quiet_until(answers, streamed), longest)
            while True:
                step += 1
                t = round(step * self.step_s, 6)
                self._t = t
                first = self._first(t)
                run += first
                sent = {c.channel for c in first if c.channel in answers}
                prompted = [self._bedside.prompted(channel) for channel in sorted(sent)]
                if t >= until or any(prompted):
                    break
                if sent:  # a device streaming on may push the monitor's next write back
                    streamed.update((c.channel, c.t) for c in first if c.channel in sent)
                    until = min(quiet_until(answers, streamed), longest)
            yield run
            yield from ([c] for c in self._drain(t))

    def _step(self, t: float) -> Iterator[Chunk]:
        """Everything due at `t`, then, at the same `t`, the answers to commands the
        monitor wrote meanwhile: a device answers within the step, whatever its size.

        Every device's bytes of the step are in before the step's time closes a data
        second: earlier chunks of a step are stamped a hair before it, so the numerics
        of second k never miss a device's bytes of second k, whatever the step."""
        yield from self._first(t)
        yield from self._drain(t)

    def _first(self, t: float) -> list[Chunk]:
        """What the devices send by `t`, the last chunk stamped `t` (see `_step`)."""
        first = self._due(t)
        if not first:
            return [Chunk(t)]  # a clock tick: the monitor may send commands on it
        return [
            Chunk(t if i == len(first) - 1 else t - SAME_STEP_EPS_S, channel, data)
            for i, (channel, data) in enumerate(first)
        ]

    def _drain(self, t: float) -> Iterator[Chunk]:
        """Whatever the devices answer at the same `t`, until quiet."""
        for _ in range(MAX_ANSWER_ROUNDS):
            out = self._due(t)
            if not out:
                return
            for channel, data in out:
                yield Chunk(t, channel, data)

    def _due(self, t: float) -> list[tuple[str, bytes]]:
        due = self._bedside.advance(t)  # a device rendered ahead has nothing new here
        for channel, ahead in self._streamed.items():
            if ahead and ahead[0][0] == t:
                due[channel] = ahead.popleft()[1]
        return [(channel, data) for channel, data in due.items() if data]

    def _stream_ahead(self, channels: list[str], step: int, expect: Expect) -> None:
        """Render the streaming devices' steps ahead when fewer than half of
        STREAM_AHEAD_S are left, and tell `expect` the bytes each will bring."""
        steps = max(1, round(STREAM_AHEAD_S / self.step_s))
        if self._streamed_through - step > steps // 2:
            return
        first = max(step, self._streamed_through) + 1
        times = [round(k * self.step_s, 6) for k in range(first, step + steps + 1)]
        for channel in channels:
            device = self._bedside.devices[channel]
            ahead = self._streamed.setdefault(channel, deque())
            datas = []
            for t in times:
                data = device.generate_until(t)
                ahead.append((t, data))
                if data:
                    datas.append(data)
            expect(channel, datas)
        self._streamed_through = step + steps

    def write(self, channel: str, data: bytes) -> bool:
        """Commands from the monitor reach the virtual device at the current data time."""
        if channel not in self.protocols:
            return False
        self._bedside.receive(channel, data, self._t)
        return True

    def close(self) -> None:
        self._closed.set()


class SerialSource:
    """Real ports: bytes stamped with the host's monotonic clock on arrival."""

    live = True

    def __init__(self, ports: dict[str, PortSpec]) -> None:
        self.protocols = {ch: spec.protocol.name for ch, spec in ports.items()}
        self._queue: queue.Queue[Chunk] = queue.Queue()
        self.started_monotonic = time.monotonic()  # chunk t = host arrival - this
        self._closed = threading.Event()
        self._transports: dict[str, SerialTransport] = {}
        for channel, spec in ports.items():
            transport = SerialTransport(
                spec.url,
                spec.line,
                on_data=partial(self._on_data, channel),
                on_link=partial(self._on_link, channel),
            )
            self._transports[channel] = transport
        try:
            for transport in self._transports.values():
                transport.open()
        except Exception:
            self.close()
            raise

    def _on_data(self, channel: str, data: bytes, host_t: float) -> None:
        self._queue.put(Chunk(host_t - self.started_monotonic, channel, data))

    def _on_link(self, channel: str, event: LinkEvent) -> None:
        self._queue.put(Chunk(event.host_time_s - self.started_monotonic, channel, link=event))

    def chunks(self) -> Iterator[Chunk]:
        for transport in self._transports.values():
            transport.start()
        while not self._closed.is_set():
            try:
                chunk = self._queue.get(timeout=TICK_S)
            except queue.Empty:
                chunk = Chunk(time.monotonic() - self.started_monotonic)
            yield chunk

    def runs(self, quiet_until: QuietUntil, expect: Expect | None = None) -> Iterator[list[Chunk]]:
        for chunk in self.chunks():
            yield [chunk]

    def write(self, channel: str, data: bytes) -> bool:
        transport = self._transports.get(channel)
        return transport.write(data) if transport else False

    def close(self) -> None:
        self._closed.set()
        for transport in self._transports.values():
            transport.close()
