"""Replay: a session file's raw layer fed back through the real decoders, at the recorded
timing (python-can's MessageSync is the model) or as fast as possible.

`ReplaySource` is a `Source`: it yields the recorded chunks in their recorded
order and schedules every recorded command, at its recorded data time, just
before the chunk it was applied with live, so the pipeline applies it at the same
time and the same point of the same chunk, and the records come out identical.
Writes to devices are accepted and go nowhere.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.channels.nibp_schedule import legacy_doc
from monitor.commands import Command, CommandBus, CommandError
from monitor.config import ConfigError, PipelineConfig, build_pipeline
from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.recording.store import SessionFileError, SessionReader
from monitor.records import fields_of, time_of
from monitor.sources import Chunk, Expect, QuietUntil

# Chunks a run may gather before the pipeline takes it (a bound on memory and on how
# long a pause or a seek waits for the run under way).
RUN_CHUNKS = 2000


def recorded_config(reader: SessionReader) -> PipelineConfig:
    """What the recorded pipeline was built from. A recording made before the config was
    kept has only its channels: those, with the default preset it was then run with."""
    raw = reader.meta.get("config")
    try:
        if raw is None:  # and the NIBP settings it ran with: no idle status checks
            return dataclasses.replace(PipelineConfig.of(reader.protocols), nibp=legacy_doc())
        config = PipelineConfig.from_json(raw)
        config.load_preset()
    except ConfigError as exc:
        raise SessionFileError(f"'{reader.path}' is damaged (session config: {exc})") from None
    return config


def pipeline_for(reader: SessionReader) -> AcquisitionPipeline:
    """The recorded pipeline again: same channels, same preset, same wall clock start."""
    return build_pipeline(
        recorded_config(reader),
        wall_start=datetime.fromisoformat(str(reader.meta["wall_start"])),
        replay=True,
    )


@dataclass(frozen=True, slots=True)
class TimelineMark:
    t: float
    kind: str  # "alarm" | "event"
    label: str
    priority: str | None = None  # alarms: "high" | "medium" | "low"


def timeline_marks(reader: SessionReader) -> list[TimelineMark]:
    marks = [
        TimelineMark(time_of(r), "alarm", str(r.get("id")), str(r.get("priority")))
        for r in reader.records("alarm")
        if r.get("state") == "onset"
    ]
    marks += [
        TimelineMark(time_of(r), "event", str(r.get("kind")))
        for r in reader.records("event")
        if r.get("kind") != "link"
    ]
    return sorted(marks, key=lambda m: m.t)


class ReplaySource:
    """Recorded chunks paced on recorded data time; pause, resume, speed and forward seek
    are safe from any thread (the GUI's)."""

    live = False

    def __init__(
        self, path: str | Path, speed: float | None = None, start_at_s: float = 0.0
    ) -> None:
        self.reader = SessionReader(path)
        self.path = Path(path)
        self.meta = self.reader.meta
        self.protocols = self.reader.protocols
        self.duration_s = self.reader.duration_s()
        self._commands_by_chunk = self.reader.commands_by_chunk()
        self._bus: CommandBus | None = None
        self._pipeline: AcquisitionPipeline | None = None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._speed = speed
        self._paused = False
        self._closed = False
        self._fast_until = start_at_s
        self._anchor: tuple[float, float] | None = None  # (data t, monotonic) pacing origin
        self.t = 0.0

    def attach(self, pipeline: AcquisitionPipeline) -> None:
        """Recorded commands go to this pipeline's command bus (call before running)."""
        self._bus = pipeline.commands
        self._pipeline = pipeline
        known = set(pipeline.commands.names())
        unknown = sorted(
            {str(c["name"]) for cs in self._commands_by_chunk.values() for c in cs} - known
        )
        if unknown:
            raise SessionFileError(
                f"'{self.path}' uses commands this monitor does not know: {', '.join(unknown)}"
            )

    # -- controls (any thread) --------------------------------------------------------

    @property
    def speed(self) -> float | None:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def set_speed(self, speed: float | None) -> None:
        with self._wake:
            self._speed = speed
            self._anchor = None
            self._wake.notify_all()

    def pause(self) -> None:
        with self._wake:
            self._paused = True
            self._wake.notify_all()

    def resume(self) -> None:
        with self._wake:
            self._paused = False
            self._anchor = None
            self._wake.notify_all()

    def seek_forward(self, t: float) -> None:
        """Run flat out up to data time `t`, then go on at the set speed.
        (Going back needs a fresh pipeline: see `ReplayController.seek`.)"""
        with self._wake:
            self._fast_until = max(self._fast_until, t)
            self._anchor = None
            self._wake.notify_all()

    # -- Source ----------------------------------------------------------------------------

    def runs(
        self, quiet_until: QuietUntil | None = None, expect: Expect | None = None
    ) -> Iterator[list[Chunk]]:
        """The chunks in runs for `AcquisitionPipeline.process_run`: as many as come flat
        out (no speed, or seeking) at a time, else one by one, each when due. A chunk
        that carried commands begins a run, its commands scheduled just before it, so
        they wait for the chunks before it as they did live. (A recording's runs are
        long already: nothing is said to `expect`.)"""
        if self._pipeline is not None:
            # Commands applied live before the first chunk (`--nibp-interval`): again so.
            for record in self._commands_by_chunk.get(-1, ()):
                args = fields_of(record.get("args"))
                self._pipeline.apply_command(Command(str(record["name"]), args))
        run: list[Chunk] = []
        for seq, chunk in self.reader.chunks():
            if self._closed:
                return
            if not ((self._speed is None and not self._paused) or self._seeking(chunk.t)):
                if run:
                    yield run
                    run = []
                if not self._wait_until_due(chunk.t):
                    return
            self.t = chunk.t
            commands = self._commands_by_chunk.get(seq, ())
            if commands or len(run) >= RUN_CHUNKS:
                if run:
                    yield run
                    run = []
                for record in commands:
                    self._submit(record)
            run.append(chunk)
        if run:
            yield run

    def chunks(self) -> Iterator[Chunk]:
        for run in self.runs():
            yield from run

    def _seeking(self, t: float) -> bool:
        """Chunk time `t` is before the end of a seek: no waiting for it."""
        if t <= self._fast_until:
            self._anchor = None  # pacing starts afresh where the seek ends
            return True
        return False

    def _submit(self, record: dict[str, object]) -> None:
        if self._bus is None:
            return
        args = fields_of(record.get("args"))
        try:
            # At its recorded data time: live, a scheduled command (a scenario's nurse
            # action, `--commands` with `at`) was applied at its own time, not the chunk's.
            self._bus.schedule(
                time_of(record),
                str(record["name"]),
                **args,
            )
        except CommandError as exc:
            raise SessionFileError(f"'{self.path}': {exc}") from None

    def _wait_until_due(self, t: float) -> bool:
        """Block until chunk time `t` is due at the current speed; False once closed."""
        with self._wake:
            while True:
                if self._closed:
                    return False
                if t <= self._fast_until:  # seeking: flat out, even while paused
                    self._anchor = None
                    return True
                if self._paused:
                    self._wake.wait()
                    continue
                if self._speed is None:
                    return True
                now = time.monotonic()
                if self._anchor is None:
                    self._anchor = (t, now)
                    return True
                due = self._anchor[1] + (t - self._anchor[0]) / self._speed
                if due <= now:
                    return True
                self._wake.wait(due - now)

    def write(self, channel: str, data: bytes) -> bool:
        """Accepted and dropped: nothing is connected during a replay. Accepted, because a
        live port accepted it too, and a channel must take the path it took live; the
        device's answer is already in the recorded bytes."""
        return channel in self.protocols

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def release(self) -> None:
        """Close the file (after the runner has stopped)."""
        self.close()
        self.reader.close()


class ReplayController:
    """A replay for the GUI: play, pause, speed, and seek anywhere.

    Decoders and alarms keep state, so seeking back starts a fresh pipeline that
    runs flat out from the start to the target; `on_new_pipeline` lets the GUI
    re-bind its views to it.
    """

    def __init__(
        self,
        path: str | Path,
        speed: float | None = 1.0,
        on_new_pipeline: Callable[[AcquisitionPipeline], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self._speed = speed
        self._on_new_pipeline = on_new_pipeline
        self.source, self.pipeline, self.runner = self._build(0.0)

    def _build(self, start_at_s: float) -> tuple[ReplaySource, AcquisitionPipeline, PipelineRunner]:
        source = ReplaySource(self.path, speed=self._speed, start_at_s=start_at_s)
        pipeline = pipeline_for(source.reader)
        source.attach(pipeline)
        return source, pipeline, PipelineRunner(source, pipeline)

    @property
    def duration_s(self) -> float:
        return self.source.duration_s

    def timeline_marks(self) -> list[TimelineMark]:
        """Alarm onsets and events of the whole recording, for the seek bar."""
        return timeline_marks(self.source.reader)

    def start(self) -> None:
        self.runner.start()

    def pause(self) -> None:
        self.source.pause()

    def resume(self) -> None:
        self.source.resume()

    def set_speed(self, speed: float | None) -> None:
        self._speed = speed
        self.source.set_speed(speed)

    def seek(self, t: float) -> None:
        if t >= self.pipeline.t:
            self.source.seek_forward(t)
            return
        paused = self.source.paused
        self.stop()
        self.source, self.pipeline, self.runner = self._build(t)
        if paused:
            self.source.pause()
        if self._on_new_pipeline is not None:
            self._on_new_pipeline(self.pipeline)
        self.runner.start()

    def stop(self) -> None:
        self.source.close()
        self.runner.stop()
        self.source.release()
