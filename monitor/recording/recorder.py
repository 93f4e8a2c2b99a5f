"""SessionRecorder: every chunk and record of a pipeline into a session file, off the
acquisition thread.

The pipeline thread only puts items on a bounded queue; a writer thread turns
them into rows and commits every half second of wall time, so a `kill -9`
loses at most the last second. When the file cannot be written (disk full,
directory gone) the recorder raises the RECORDING_FAILED technical alarm through
the command bus, drops what follows, and monitoring goes on untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from drivers.errors import VitalmonError
from drivers.registry import get_protocol, make_decoder
from monitor.commands import CommandError
from monitor.pipeline import AcquisitionPipeline
from monitor.recording.store import Record, SessionFileError, SessionWriter, WaveBlock
from monitor.sources import Chunk

COMMIT_INTERVAL_S = 0.5
QUEUE_SIZE = 50_000
WAVE_BLOCK_MAX_S = 60.0
WAVE_GAP_S = 0.25  # a jump in sample time beyond this starts a new block
_STOP = object()


def vitalmon_version() -> str:
    try:
        return metadata.version("vitalmon")
    except metadata.PackageNotFoundError:
        return "unknown"


def warn_stderr(text: str) -> None:
    print(f"vitalmon: {text}", file=sys.stderr)


def raise_recording_failed(
    pipeline: AcquisitionPipeline, message: str, warn: Callable[[str], None] = warn_stderr
) -> None:
    """The RECORDING_FAILED technical alarm, and a line on stderr; monitoring goes on."""
    warn(message)
    # Without an alarm engine wired (the recorder tested alone) the warning stands.
    with contextlib.suppress(CommandError):
        pipeline.commands.submit(
            "technical_alarm", id="RECORDING_FAILED", active=True, message=message
        )


def _limits_snapshot(pipeline: AcquisitionPipeline) -> dict[str, object] | None:
    """The alarm limits in force at the start (for the report), if an alarm engine is wired."""
    alarms = getattr(pipeline, "alarms", None)
    if alarms is None or not hasattr(alarms, "limits"):
        return None
    out: dict[str, object] = {}
    for alarm_id, setting in alarms.limits().items():
        if dataclasses.is_dataclass(setting) and not isinstance(setting, type):
            out[str(alarm_id)] = dataclasses.asdict(setting)
        else:
            out[str(alarm_id)] = {
                k: getattr(setting, k, None)
                for k in ("threshold", "unit", "priority", "delay_s", "enabled")
            }
    return out


class _WaveCollector:
    """Decodes one oximeter channel's bytes a second time, on the writer thread, into
    pleth blocks (the pipeline's ring buffer belongs to the pipeline thread)."""

    def __init__(self, channel: str, protocol: str) -> None:
        self.channel = channel
        self._decoder = make_decoder(protocol)
        self.rate_hz: float = self._decoder.sample_rate_hz
        self._t0: float | None = None
        self._parts: list[np.ndarray] = []
        self._count = 0

    def feed(self, data: bytes, t: float) -> list[WaveBlock]:
        batch = self._decoder.feed(data)
        n = len(batch)
        if n == 0:
            return []
        done: list[WaveBlock] = []
        first_t = t - (n - 1) / self.rate_hz
        expected = None if self._t0 is None else self._t0 + self._count / self.rate_hz
        if expected is not None and abs(first_t - expected) > WAVE_GAP_S:
            done.extend(self.flush())
        if self._t0 is None:
            self._t0 = first_t
        self._parts.append(np.asarray(batch.pleth, dtype=np.float32))
        self._count += n
        if self._count >= WAVE_BLOCK_MAX_S * self.rate_hz:
            done.extend(self.flush(keep_going=True))
        return done

    def reset(self) -> list[WaveBlock]:
        """The link dropped: the decoder starts afresh, the next sample starts a block."""
        self._decoder.reset()
        return self.flush()

    def flush(self, keep_going: bool = False) -> list[WaveBlock]:
        if self._t0 is None or not self._parts:
            return []
        block = WaveBlock(
            self.channel, "pleth", self._t0, self.rate_hz, np.concatenate(self._parts)
        )
        self._parts = []
        self._t0 = block.t_end if keep_going else None
        self._count = 0
        return [block]


class SessionRecorder:
    """Listens to a pipeline and writes its session file on a thread of its own."""

    def __init__(
        self,
        path: str | Path,
        pipeline: AcquisitionPipeline,
        source_meta: dict[str, object] | None = None,
        live: bool = True,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self._pipeline = pipeline
        self._live = live
        self._warn = warn or warn_stderr
        meta: dict[str, object] = {
            "session_id": str(uuid.uuid4()),
            "wall_start": pipeline.wall_start.isoformat(),
            "protocols": {name: ch.protocol for name, ch in pipeline.channels.items()},
            "vitalmon_version": vitalmon_version(),
            "source": {},
        }
        if source_meta:
            meta["source"] = source_meta
        limits = _limits_snapshot(pipeline)
        if limits is not None:
            meta["limits"] = limits
        self._writer: SessionWriter | None = SessionWriter(self.path, meta)  # raises at once
        self._waves = {
            name: _WaveCollector(name, ch.protocol)
            for name, ch in pipeline.channels.items()
            if get_protocol(ch.protocol).kind == "oximeter"
        }
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._closing = False
        self.failed: str | None = None
        self.last_t = 0.0
        pipeline.subscribe_chunks(self._on_chunk)
        pipeline.subscribe(self._on_record)
        self._thread.start()

    # -- pipeline thread: never waits on the disk (live sources) ---------------------

    def _on_chunk(self, chunk: Chunk) -> None:
        self._put(chunk)

    def _on_record(self, record: Record) -> None:
        self._put(dict(record))

    def _put(self, item: object) -> None:
        if self.failed is not None or self._closing:
            return
        if not self._live:
            # Simulated or replayed: waiting loses nothing. The timeout only guards
            # against a writer thread that died.
            while self.failed is None:
                try:
                    self._queue.put(item, timeout=0.5)
                    return
                except queue.Full:
                    continue
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._fail("the recorder cannot keep up with the data (queue full)")

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        chunk_seq = -1
        record_seq = 0
        chunks: list[tuple[int, Chunk]] = []
        records: list[tuple[int, int, Record]] = []
        waves: list[WaveBlock] = []
        last_commit = time.monotonic()
        stopping = False
        while not stopping:
            try:
                items = [self._queue.get(timeout=0.1)]
            except queue.Empty:
                items = []
            while len(items) < 5000:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for item in items:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, Chunk):
                    chunk_seq += 1
                    chunks.append((chunk_seq, item))
                    waves.extend(self._collect_wave(item))
                else:
                    records.append((record_seq, chunk_seq, item))  # type: ignore[arg-type]
                    record_seq += 1
            if self.failed is not None:
                chunks, records, waves = [], [], []
                continue
            now = time.monotonic()
            commit = stopping or now - last_commit >= COMMIT_INTERVAL_S
            if commit:
                for collector in self._waves.values():
                    waves.extend(collector.flush(keep_going=True))
            if chunks or records or waves or commit:
                self._write(chunks, records, waves, commit)
                if commit:
                    last_commit = now
                chunks, records, waves = [], [], []
        self._finish()

    def _collect_wave(self, chunk: Chunk) -> list[WaveBlock]:
        collector = self._waves.get(chunk.channel)
        if collector is None:
            return []
        if chunk.link is not None:
            return collector.reset()
        return collector.feed(chunk.data, chunk.t) if chunk.data else []

    def _write(
        self,
        chunks: list[tuple[int, Chunk]],
        records: list[tuple[int, int, Record]],
        waves: list[WaveBlock],
        commit: bool,
    ) -> None:
        writer = self._writer
        if writer is None:
            return
        try:
            if chunks:
                writer.add_chunks(chunks)
                self.last_t = chunks[-1][1].t
            if records:
                writer.add_records(records)
            for block in waves:
                writer.add_wave(block)
            if commit:
                writer.commit()
        except (sqlite3.Error, OSError, SessionFileError, ValueError) as exc:
            self._fail(str(exc))

    def _finish(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if self.failed is not None:
            writer.abandon()
            return
        try:
            writer.set_meta({"end_t": self.last_t})
            writer.close()
        except (sqlite3.Error, OSError, SessionFileError) as exc:
            self._fail(str(exc))

    def _fail(self, reason: str) -> None:
        if self.failed is not None:
            return
        self.failed = reason
        raise_recording_failed(
            self._pipeline,
            f"recording to {self.path} failed: {reason}; monitoring goes on unrecorded",
            self._warn,
        )
        if threading.current_thread() is self._thread:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.abandon()

    # -- owner -------------------------------------------------------------------------

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, commit, and leave a finished file."""
        if self._closing:
            return
        self._closing = True
        while True:
            try:
                self._queue.put(_STOP, timeout=0.5)
                break
            except queue.Full:
                if not self._thread.is_alive():
                    break
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise VitalmonError(f"recorder did not finish writing {self.path}")
