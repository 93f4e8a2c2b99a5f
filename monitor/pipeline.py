"""The acquisition pipeline: chunks in, decoded by channel handlers, records out to listeners.

`AcquisitionPipeline.process()` is plain and synchronous, so tests drive it
directly; `PipelineRunner` runs a source through it on its own thread and never
waits on the GUI, which only reads snapshots. Everything is decided by data
time (`Chunk.t`), so a recorded chunk stream replays to the same records.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from drivers.errors import VitalmonError
from drivers.registry import get_protocol
from drivers.types import LinkEvent
from monitor.alarms import AlarmEngine, Preset, load_preset
from monitor.channels import Channel, Record, RunShare, StreamChannel, make_channel
from monitor.channels.nibp_schedule import NibpSettings
from monitor.channels.oximeter import OximeterChannel
from monitor.commands import Command, CommandBus
from monitor.numerics import OximeterSnapshot
from monitor.records import command_record, error_record, link_event, numerics_record, time_of
from monitor.session import SessionModel
from monitor.sources import Chunk, Source
from monitor.trends import TrendStore

NOT_MONITORED = "not_monitored"  # `rr_state` where no breathing source is configured
Listener = Callable[[Record], None]
ChunkListener = Callable[[Chunk], None]
Writer = Callable[[str, bytes], bool]


def no_writer(channel: str, data: bytes) -> bool:
    """Commands to devices go nowhere (replay, tests)."""
    return False


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
        # Channels whose bytes a run may decode in one pass (see `process_run`).
        self._streams: dict[str, StreamChannel[Any]] = {
            name: channel
            for name, channel in self.channels.items()
            if isinstance(channel, StreamChannel)
        }

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
        """Every chunk exactly as processed (the raw layer a recorder keeps for replay)."""
        self._chunk_listeners.append(listener)

    def wall_iso(self, t: float) -> str:
        return (self.wall_start + timedelta(seconds=t)).isoformat(timespec="milliseconds")

    def emit(self, record: Record) -> None:
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
        self._process(chunk, None)

    def process_run(self, chunks: Sequence[Chunk]) -> None:
        """Chunks that followed one another, to the very records `process` would make of
        each in turn, in one step per channel wherever nothing can happen between them.

        A replay at full speed hands over chunks by the thousand. Within one data second
        no numerics record is due; where, besides, no command is due and each channel
        and the alarm engine confirm that no link verdict, gap, poll or timeout falls
        due, only the end state matters, and each channel reaches it from its decoded
        share in one step. Anything else goes through one by one."""
        takes_runs = self._streams
        segment: list[Chunk] = []
        second = 0
        for chunk in chunks:
            if chunk.link is None and (not chunk.data or chunk.channel in takes_runs):
                closes = math.ceil(chunk.t)  # the numerics second this chunk belongs to
                if closes != second and segment:
                    self._merge(segment)
                    segment = []
                second = closes
                segment.append(chunk)
            else:  # a link event, or a device without a one-step path
                self._merge(segment)
                segment = []
                self.process(chunk)
        self._merge(segment)

    def _merge(self, chunks: Sequence[Chunk]) -> None:
        ticks = list(itertools.accumulate((c.t for c in chunks), max, initial=self.t))[1:]
        if len(chunks) < 2 or not self._may_merge(chunks, ticks):
            for chunk in chunks:
                self.process(chunk)
            return
        shares = self._decode_shares(chunks)
        end = ticks[-1]
        if not self.alarms.idle_through(end) or not all(
            channel.can_absorb(shares.get(name), ticks) for name, channel in self.channels.items()
        ):
            self._process_decoded(chunks, shares)
            return
        for listener in self._chunk_listeners:
            for chunk in chunks:
                listener(chunk)
        self._emit_seconds(chunks[0].t, inclusive=False)
        self.t = end
        for name, channel in self.channels.items():
            channel.absorb(shares.get(name), ticks)
        self.alarms.tick(end)
        self._emit_seconds(end, inclusive=True)

    def _may_merge(self, chunks: Sequence[Chunk], ticks: list[float]) -> bool:
        """No command due among these chunks, and no data second closing before the last."""
        if not self.commands.idle_through(ticks[-1]):
            return False
        closes = max(self._next_second, math.ceil(chunks[0].t))
        return max(ticks[:-1]) < closes and ticks[-1] <= closes

    def _decode_shares(self, chunks: Sequence[Chunk]) -> dict[str, RunShare[Any]]:
        """Each channel's bytes of the run, decoded in one pass (as one by one would)."""
        mine: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            if chunk.data and chunk.channel in self._streams:
                mine.setdefault(chunk.channel, []).append(chunk)
        shares: dict[str, RunShare[Any]] = {}
        for name, own in mine.items():
            batch, counts = self._streams[name].decoder.feed_run([c.data for c in own])
            shares[name] = RunShare(batch, counts.tolist(), [c.t for c in own])
        return shares

    def _process_decoded(
        self, chunks: Sequence[Chunk], shares: dict[str, RunShare[Any]]
    ) -> None:
        """One by one, each chunk's frames taken from its channel's decoded share."""
        parts = {name: share.per_feed() for name, share in shares.items()}
        for chunk in chunks:
            part = parts[chunk.channel].pop(0) if chunk.data and chunk.channel in parts else None
            self._process(chunk, part)

    def _process(self, chunk: Chunk, decoded: Any | None) -> None:
        for listener in self._chunk_listeners:
            listener(chunk)
        for at, command in self.commands.due(chunk.t):
            self._emit_seconds(at, inclusive=False)
            self.t = max(self.t, at)
            self.apply_command(command)
        self._emit_seconds(chunk.t, inclusive=False)
        self.t = max(self.t, chunk.t)
        for command in self.commands.pending():
            self.apply_command(command)
        channel = self.channels.get(chunk.channel)
        if chunk.link is not None:
            self._on_link(chunk.channel, chunk.link, chunk.t)
        elif chunk.data and channel is not None:
            if decoded is None:
                channel.feed(chunk.data, chunk.t)
            else:
                self._streams[chunk.channel].apply(decoded, len(chunk.data), chunk.t)
        for each in self.channels.values():
            each.tick(self.t)
        self.alarms.tick(self.t)
        self._emit_seconds(self.t, inclusive=True)

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
            start = getattr(self.channels.get("nibp"), "infusion_started", None)
            follow = start() if callable(start) else None
            if follow is not None:
                self.apply_command(follow)

    def oximeter_snapshot(self) -> OximeterSnapshot | None:
        oximeter = self.oximeter
        return None if oximeter is None else oximeter.snapshot(self.t)

    def _on_link(self, name: str, event: LinkEvent, t: float) -> None:
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
            # A CO2 module's rate and apnea win over a respiration stream's (docs/clinical.md).
            for channel in sorted(self.channels.values(), key=lambda c: c.name == "capno"):
                record.update(channel.numerics_json(second))
            if "rr" not in record:  # no breathing source: not a dropout (docs/clinical.md)
                record.update(rr=None, rr_state=NOT_MONITORED, rr_source=None)
            self.emit(record)


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
        runs = getattr(self.source, "runs", None)  # a source that can hand chunks over in runs
        batches = runs() if runs is not None else ([c] for c in self.source.chunks())
        try:
            self.pipeline.start()
            for batch in batches:
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
