"""The acquisition pipeline: chunks in, decoded by channel handlers, records out to listeners.

`AcquisitionPipeline.process()` is plain and synchronous, so tests drive it
directly; `PipelineRunner` runs a source through it on its own thread and never
waits on the GUI, which only reads snapshots. Everything is decided by data
time (`Chunk.t`), so a recorded chunk stream replays to the same records.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from drivers.errors import VitalmonError
from drivers.registry import get_protocol
from drivers.types import LinkEvent
from monitor.alarms import AlarmEngine, Preset, load_preset
from monitor.channels import Channel, ChannelRun, Record, RunShare, make_channel
from monitor.channels.nibp import NibpChannel
from monitor.channels.nibp_schedule import NibpSettings
from monitor.channels.oximeter import OximeterChannel
from monitor.commands import Command, CommandBus
from monitor.numerics import OximeterSnapshot
from monitor.records import command_record, error_record, link_event, numerics_record, time_of
from monitor.session import SessionModel
from monitor.sources import Chunk, Source
from monitor.trends import TrendStore

# Fewer chunks than this cost more to take in one step than one by one (a flat-out
# simulation steps whole seconds: two or three chunks a second).
STRETCH_MIN = 3

NOT_MONITORED = "not_monitored"  # `rr_state` where no breathing source is configured
Listener = Callable[[Record], None]
ChunkListener = Callable[[Sequence[Chunk]], None]
Writer = Callable[[str, bytes], bool]


def no_writer(channel: str, data: bytes) -> bool:
    """Commands to devices go nowhere (replay, tests)."""
    return False


@dataclass(frozen=True, slots=True)
class _Rows:
    """One chunk's frames in a batch its channel decoded in one pass."""

    batch: Any
    start: int
    count: int

    def part(self) -> Any:
        return self.batch[self.start : self.start + self.count]


class AcquisitionPipeline:
    """Decodes every channel and keeps the stores the GUI, alarms and recorder read."""

    def __init__(
        self,
        protocols: dict[str, str],
        wall_start: datetime | None = None,
        writer: Writer = no_writer,
        preset: Preset | None = None,
        follow_ups: bool = True,
        nibp_settings: NibpSettings | None = None,
    ) -> None:
        # Commands the monitor gives itself in answer to one (the NIBP program with the
        # infusion); a replay takes them from the recorded command log instead.
        self.follow_ups = follow_ups
        self.wall_start = wall_start or datetime.now(UTC)
        self.t = 0.0
        self._writer = writer
        self._next_second = 1
        self._listeners: list[Listener] = []
        self._chunk_listeners: list[ChunkListener] = []
        self._at_start: list[Command] = []
        self._holding: tuple[list, ChannelRun, int] | None = None
        # A port's feeds decoded before they came (`expect`): (their bytes, their rows).
        self._expected: dict[str, deque[tuple[bytes, _Rows]]] = {}
        self.link_states: dict[str, str] = {}
        self.commands = CommandBus()
        self.trends = TrendStore()  # every numeric, NIBP reading and event of the session
        self.subscribe(self.trends)
        self.channels: dict[str, Channel] = {}
        # Session and alarms see every record after the listeners, so what they
        # emit in answer follows its cause in the output.
        preset = preset or load_preset()
        self.session = SessionModel(self.emit, self.commands, baseline_rules=preset.baseline)
        self.alarms = AlarmEngine(preset, self.emit, self.commands, self.session.reference_sys)
        self._consumers: list[Listener] = [self.session.on_record, self.alarms.on_record]
        for name, protocol in protocols.items():
            info = get_protocol(protocol)
            self.channels[name] = make_channel(
                info.kind,
                name,
                info.name,
                emit=self.emit,
                write=partial(self._write, name),
                commands=self.commands,
                session_phase=self.session.phase_now,
                nibp_settings=nibp_settings,
            )
        # The numerics record's parts in order: a CO2 module's rate and apnea win over a
        # respiration stream's (docs/clinical.md).
        self._numerics_order = sorted(self.channels.values(), key=lambda c: c.name == "capno")

    @property
    def oximeter(self) -> OximeterChannel | None:
        channel = self.channels.get("oximeter")
        return channel if isinstance(channel, OximeterChannel) else None

    def _write(self, channel: str, data: bytes) -> bool:
        return self._writer(channel, data)

    def set_writer(self, writer: Writer) -> None:
        """Where commands to devices go (the source's ports; nowhere during replay)."""
        self._writer = writer

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_chunks(self, listener: ChunkListener) -> None:
        """Every chunk exactly as processed (the raw layer a recorder keeps for replay),
        in order, just before the pipeline takes them: one, or a stretch taken in one
        step (a flat-out run takes ~3 a second: one call for them, not three)."""
        self._chunk_listeners.append(listener)

    def wall_iso(self, t: float) -> str:
        return (self.wall_start + timedelta(seconds=t)).isoformat(timespec="milliseconds")

    def emit(self, record: Record) -> None:
        if self._holding is not None:  # inside a stretch: in one-by-one order afterwards
            held, run, pos = self._holding
            held.append(((run.index, run.phase, pos, len(held)), record))
            return
        record.setdefault("wall", self.wall_iso(time_of(record)))
        if record.get("kind") == "link":  # channels report silent/garbage themselves
            self.link_states[str(record["channel"])] = str(record["state"])
        for listener in self._listeners:
            listener(record)
        for consumer in self._consumers:
            consumer(record)

    def at_start(self, command: Command) -> None:
        """Apply `command` at data time 0, before the first chunk (see `start`), so its
        answer comes before the first step at every speed (`--nibp-interval`)."""
        self.commands.require_known(command.name)
        self._at_start.append(command)

    def start(self) -> None:
        """Before the first chunk, once every listener has subscribed."""
        commands, self._at_start = self._at_start, []
        for command in commands:
            self.apply_command(command)

    def process(self, chunk: Chunk) -> None:
        rows = self._expected_rows(chunk)
        self._process(chunk, None if rows is None else rows.part())

    def expect(self, channel: str, datas: list[bytes]) -> None:
        """The feeds `channel`'s port will bring next, in order (a simulator knows its
        streaming devices' bytes ahead): decoded now in one pass, as feeding them one
        by one would, and handed to the chunks that bring them."""
        handler = self.channels.get(channel)
        if handler is None or handler.run_decoder is None or not datas:
            return
        batch, counts = handler.run_decoder.feed_run(datas)
        waiting = self._expected.setdefault(channel, deque())
        row = 0
        for data, n in zip(datas, counts.tolist(), strict=True):
            waiting.append((data, _Rows(batch, row, n)))
            row += n

    def _expected_rows(self, chunk: Chunk) -> _Rows | None:
        """The rows of a chunk whose bytes were expected (None: not expected)."""
        waiting = self._expected.get(chunk.channel)
        if not waiting or not chunk.data:
            return None
        data, rows = waiting.popleft()
        if data is not chunk.data and data != chunk.data:
            raise RuntimeError(f"{chunk.channel}: bytes other than those expected came")
        return rows

    def quiet_until(
        self, channels: Collection[str], streamed: Mapping[str, float] | None = None
    ) -> float:
        """The data time before which neither a command nor any of `channels` is due, so
        nothing is written to their devices: a simulator may run ahead to it (bytes from
        those devices still end its run where they may make the monitor answer, see
        `sources.SimulatorSource.runs`). `streamed`: the data time through which a
        device has sent bytes in the run so far (a streaming one pushes back a write
        its silence would bring)."""
        t = self.t
        streamed = streamed or {}
        dues = (
            self.channels[name].next_write_due(t, streamed.get(name))
            for name in channels
            if name in self.channels
        )
        return min([self.commands.next_due(), *dues])

    def process_run(self, chunks: Sequence[Chunk]) -> None:
        """Chunks that followed one another, to the very records `process` would make of
        each in turn.

        A replay at full speed, and a simulation flat out, hand over chunks by the
        thousand. Each channel's bytes between link events are decoded in one pass.
        Then, from each chunk on, the pipeline asks every timed part when it is next
        due, and takes the chunks before that (and within the data second) in one step,
        each channel through `take_run`; anything else goes through one by one."""
        segment: list[Chunk] = []
        for chunk in chunks:
            if chunk.link is None:
                segment.append(chunk)
                continue
            self._run_segment(segment)  # a link event resets a decoder: decode afresh after
            segment = []
            self.process(chunk)
        self._run_segment(segment)

    def _run_segment(self, chunks: Sequence[Chunk]) -> None:
        if len(chunks) < 2:
            for chunk in chunks:
                self.process(chunk)
            return
        decoded = self._decode_ahead(chunks)
        i, n = 0, len(chunks)
        while i < n:
            j = i + 1
            if i + STRETCH_MIN <= n and math.ceil(chunks[i + STRETCH_MIN - 1].t) == math.ceil(
                chunks[i].t
            ):  # enough chunks in this data second to be worth a stretch
                j = self._stretch_end(chunks, i)
            if j - i >= STRETCH_MIN:
                self._take_stretch(chunks[i:j], decoded[i:j])
            else:
                j = i + 1
                rows = decoded[i]
                self._process(chunks[i], rows.part() if rows is not None else None)
            i = j

    def _decode_ahead(self, chunks: Sequence[Chunk]) -> list[_Rows | None]:
        """For each chunk, where its channel decodes runs: its rows of its channel's bytes,
        decoded in one pass (as feeding them one by one would)."""
        mine: dict[str, list[int]] = {}
        out: list[_Rows | None] = [None] * len(chunks)
        for k, chunk in enumerate(chunks):
            channel = self.channels.get(chunk.channel)
            if chunk.data and channel is not None and channel.run_decoder is not None:
                expected = self._expected_rows(chunk)
                if expected is not None:
                    out[k] = expected
                else:
                    mine.setdefault(chunk.channel, []).append(k)
        for name, ks in mine.items():
            decoder = self.channels[name].run_decoder
            batch, counts = decoder.feed_run([chunks[k].data for k in ks])
            row = 0
            for k, n in zip(ks, counts.tolist(), strict=True):
                out[k] = _Rows(batch, row, n)
                row += n
        return out

    def _stretch_end(self, chunks: Sequence[Chunk], i: int) -> int:
        """The end of the longest stretch from chunk `i` that can be taken in one step.

        Every timed part says when it is next due (`next_due`). No command may be due at
        any tick of the stretch, and before its last tick no data second may close and
        nothing may fall due in the alarm engine. A channel takes every tick of the
        stretch itself (`take_run`), in order with its bytes; at the last tick
        everything is ticked as one by one ticks it after the last chunk."""
        t = self.t
        stop = min(self.commands.next_due(), self.alarms.next_due(t))
        closes = max(self._next_second, math.ceil(chunks[i].t))
        tick = t
        j = i
        while j < len(chunks):
            at = max(tick, chunks[j].t)
            if at >= stop or at > closes:
                break
            tick = at
            j += 1
            if tick >= closes:  # chunk j-1 may end a stretch, not go on
                break
        return j

    def _take_stretch(self, chunks: Sequence[Chunk], rows: Sequence[_Rows | None]) -> None:
        ticks = list(itertools.accumulate((c.t for c in chunks), max, initial=self.t))[1:]
        for listener in self._chunk_listeners:
            listener(chunks)
        self._emit_seconds(chunks[0].t, inclusive=False)
        runs = self._channel_runs(chunks, rows, ticks)
        # A channel without bytes here ticks through the stretch only where it falls
        # due before its last tick (the tick after the stretch is everyone's).
        idle = {
            name
            for name, channel in self.channels.items()
            if name not in runs and channel.next_due(self.t) >= ticks[-1]
        }
        self.t = end = ticks[-1]
        held: list[tuple[tuple[int, int, int, int], Record]] = []
        try:
            for pos, (name, channel) in enumerate(self.channels.items()):
                if name in idle:
                    continue
                run = runs.get(name) or ChannelRun(ticks)
                self._holding = (held, run, pos)
                channel.take_run(run)
        finally:
            self._holding = None
        held.sort(key=lambda item: item[0])
        for _, record in held:
            self.emit(record)
        for channel in self.channels.values():
            channel.tick(end)
        self.alarms.tick(end)
        self._emit_seconds(end, inclusive=True)

    def _channel_runs(
        self, chunks: Sequence[Chunk], rows: Sequence[_Rows | None], ticks: list[float]
    ) -> dict[str, ChannelRun]:
        runs: dict[str, ChannelRun] = {}
        for k, chunk in enumerate(chunks):
            if chunk.data and chunk.channel in self.channels:
                run = runs.setdefault(chunk.channel, ChannelRun(ticks))
                run.at.append(k)
                run.datas.append(chunk.data)
                run.times.append(chunk.t)
        for run in runs.values():
            own = [rows[k] for k in run.at]
            if own[0] is not None:
                first, last = own[0], own[-1]
                if all(r.batch is first.batch for r in own):  # type: ignore[union-attr]
                    batch = first.batch[first.start : last.start + last.count]  # type: ignore[union-attr]
                else:  # rows decoded ahead in two passes, or ahead and now
                    parts = [r.part() for r in own]  # type: ignore[union-attr]
                    batch = parts[0].concat(parts)
                counts = [r.count for r in own]  # type: ignore[union-attr]
                run.share = RunShare(batch, counts, run.times)
        return runs

    def _process(self, chunk: Chunk, decoded: object | None) -> None:
        if self._chunk_listeners:
            one = (chunk,)
            for listener in self._chunk_listeners:
                listener(one)
        for at, command in self.commands.due(chunk.t):
            self._emit_seconds(at, inclusive=False)
            self.t = max(self.t, at)
            self.apply_command(command)
        self._alarms_due_before(chunk.t)
        self._emit_seconds(chunk.t, inclusive=False)
        self.t = max(self.t, chunk.t)
        for command in self.commands.pending():
            self.apply_command(command)
        channel = self.channels.get(chunk.channel)
        if chunk.link is not None:
            self._on_link(chunk.channel, chunk.link, chunk.t)
        elif chunk.data and channel is not None:
            channel.take(chunk.data, decoded, chunk.t)
        for each in self.channels.values():
            each.tick(self.t)
        self.alarms.tick(self.t)
        self._emit_seconds(self.t, inclusive=True)

    def _alarms_due_before(self, t: float) -> None:
        """What falls due in the alarm engine before data time `t` (a silent link's
        comm-lost, a pause ending), each at its own time and in order with the data
        seconds, before the bytes of `t` (docs/architecture.md, "When time falls due")."""
        while (due := self.alarms.next_due(self.t)) < t:
            self._emit_seconds(due, inclusive=False)
            self.t = max(self.t, due)
            self.alarms.fall_due()

    def apply_command(self, command: Command) -> None:
        """Apply at the current data time and record it (replay calls this directly).

        A command the handler refuses becomes an `error` record; the run goes on."""
        phase = self.session.phase
        try:
            self.commands.apply(command, self.t)
        except VitalmonError as exc:
            self.emit(error_record(self.t, command.name, str(exc)))
            return
        self.emit(command_record(self.t, command.name, command.args))
        if self.follow_ups and phase != "infusion" and self.session.phase == "infusion":
            nibp = self.channels.get("nibp")
            follow = nibp.infusion_started() if isinstance(nibp, NibpChannel) else None
            if follow is not None:
                self.apply_command(follow)

    def oximeter_snapshot(self) -> OximeterSnapshot | None:
        oximeter = self.oximeter
        return None if oximeter is None else oximeter.snapshot(self.t)

    def _on_link(self, name: str, event: LinkEvent, t: float) -> None:
        self._expected.pop(name, None)  # the decoder starts afresh: so do its bytes
        self.link_states[name] = event.state.value
        channel = self.channels.get(name)
        if channel is not None:
            channel.on_link(event, t)
        self.emit(link_event(t, name, event.state.value, event.detail))

    def _emit_seconds(self, t: float, inclusive: bool) -> None:
        while self._next_second < t or (inclusive and self._next_second == t):
            second = float(self._next_second)
            self._next_second += 1
            record = numerics_record(second)
            for channel in self._numerics_order:
                record.update(channel.numerics_json(second))
            if "rr" not in record:  # no breathing source: not a dropout (docs/clinical.md)
                record.update(rr=None, rr_state=NOT_MONITORED, rr_source=None)
            self.emit(record)


def _through(batch: Sequence[Chunk], t: float, end: float) -> Sequence[Chunk]:
    """The chunks of `batch` one by one would process before the clock reaches `end`."""
    for k, chunk in enumerate(batch):
        t = max(t, chunk.t)
        if t >= end:
            return batch[: k + 1]
    return batch


@contextlib.contextmanager
def setup_frozen() -> Iterator[None]:
    """For one run of a process: what it was set up with (modules, the pipeline, its
    buffers, a window) lives as long as the run, so the cyclic collector need not scan
    it again at each collection of its older generations (docs/performance.md: ~1 % of
    a flat-out run's CPU). Garbage so far is collected first, and all of it is handed
    back to the collector after the run (a test process runs many)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class PipelineRunner:
    """Runs a source through the pipeline until the duration (data time) or `stop()`."""

    def __init__(
        self, source: Source, pipeline: AcquisitionPipeline, duration_s: float | None = None
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        pipeline.set_writer(source.write)
        self.duration_s = duration_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.pipeline.start()
            for run in self.source.runs(self._quiet_until, self.pipeline.expect):
                batch: Sequence[Chunk] = run
                if self.duration_s is not None:
                    batch = _through(batch, self.pipeline.t, self.duration_s)
                if len(batch) == 1:
                    self.pipeline.process(batch[0])
                else:
                    self.pipeline.process_run(batch)
                if self._stop.is_set():
                    break
                if self.duration_s is not None and self.pipeline.t >= self.duration_s:
                    break
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.source.close()

    def _quiet_until(self, channels: Collection[str], streamed: Mapping[str, float]) -> float:
        """How far a source may run ahead: to the pipeline's next due time on `channels`,
        and no further than the end of the run."""
        until = self.pipeline.quiet_until(channels, streamed)
        return until if self.duration_s is None else min(until, self.duration_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_quietly, name="acquisition", daemon=True)
        self._thread.start()

    def _run_quietly(self) -> None:
        # The error stays in self.error for the owner (the GUI shows it).
        with contextlib.suppress(BaseException):
            self.run()

    def stop(self) -> None:
        self._stop.set()
        self.source.close()
        if self._thread is not None:
            self._thread.join(timeout=3.0)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
