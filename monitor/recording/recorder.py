"""SessionRecorder: every chunk and record of a pipeline into a session file.

A live source must never wait on the disk: its pipeline thread only puts items on
a bounded queue, and a writer thread turns them into rows. A simulated or replayed
source loses nothing by waiting, so its pipeline thread writes them itself (a thread
there only added hand-overs of the GIL and the queue: a flat-out 2-hour `infusion`
run took 7.3 s of CPU with it, 6.1 s without). Either way rows are committed every
half second of wall time, so a `kill -9` loses at most the last second. When the
file cannot be written (disk full, directory gone) the recorder raises the
RECORDING_FAILED technical alarm through the command bus, drops what follows, and
monitoring goes on untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import queue
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

from drivers.errors import VitalmonError
from monitor.commands import CommandError
from monitor.config import PipelineConfig
from monitor.pipeline import AcquisitionPipeline
from monitor.recording.store import SessionFileError, SessionWriter, WaveBlock
from monitor.recording.waves import taps_for
from monitor.records import Record, record_json
from monitor.sources import Chunk

COMMIT_INTERVAL_S = 0.5
QUEUE_SIZE = 50_000
# Rows held at most before they go to SQLite uncommitted. At --speed max a commit (every
# 0.5 s of wall time) spans ~1000 simulated seconds, ~5000 rows: handed over every 500,
# their objects are freed early (peak RSS 59 -> 54 MB for 4 hours).
WRITE_ROWS = 500
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


def _limits_snapshot(pipeline: AcquisitionPipeline) -> dict[str, object]:
    """The alarm limits in force at the start (for the report)."""
    limits = pipeline.alarms.limits()
    return {alarm_id: dataclasses.asdict(setting) for alarm_id, setting in limits.items()}


@dataclasses.dataclass
class _Pending:
    """Rows taken but not yet written, and the sequence numbers they carry."""

    chunk_seq: int = -1
    record_seq: int = 0
    chunks: list[tuple[int, Chunk]] = dataclasses.field(default_factory=list)
    records: list[tuple[int, int, Record, str]] = dataclasses.field(default_factory=list)
    waves: list[WaveBlock] = dataclasses.field(default_factory=list)
    last_commit: float = dataclasses.field(default_factory=time.monotonic)
    stopping: bool = False

    def clear(self) -> None:
        self.chunks, self.records, self.waves = [], [], []


class SessionRecorder:
    """Listens to a pipeline and writes its session file on a thread of its own."""

    def __init__(
        self,
        path: str | Path,
        pipeline: AcquisitionPipeline,
        source_meta: dict[str, object] | None = None,
        live: bool = True,
        warn: Callable[[str], None] | None = None,
        config: PipelineConfig | None = None,
        bulk: bool = False,
    ) -> None:
        """`config`, what the pipeline was built from, is kept whole so replay rebuilds
        the same pipeline; its `source` is the session's source unless `source_meta`.
        `bulk`: a run flat out, written as such (`store.SessionWriter`)."""
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
        self.session_id = str(meta["session_id"])  # also the HL7 feed's control ids
        if config is not None:
            meta["config"] = config.to_json()
            meta["source"] = dict(config.source)
        if source_meta:
            meta["source"] = source_meta
        meta["limits"] = _limits_snapshot(pipeline)
        self._writer: SessionWriter | None = SessionWriter(self.path, meta, bulk)  # raises now
        self._taps = taps_for(dict(pipeline.channels))
        self._waves_flushed = time.monotonic()
        # Live: at most QUEUE_SIZE items wait for the writer thread.
        self._queue: queue.Queue[list[object]] = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._pending = _Pending()
        self._closing = False
        self.failed: str | None = None
        self.last_t = 0.0
        pipeline.subscribe_chunks(self._on_chunks)
        pipeline.subscribe(self._on_record)
        if live:
            self._thread.start()

    # -- pipeline thread ------------------------------------------------------------------

    def _on_chunks(self, chunks: Sequence[Chunk]) -> None:
        """The chunks the pipeline takes next (one, or a stretch), before it takes them."""
        self._take_waves()
        self._put(list(chunks))  # a list: nothing else put is one

    def _take_waves(self, flush: bool = False) -> None:
        """Blocks of the samples the previous chunks added (on the pipeline thread, where
        the taps live). The open blocks are cut at each commit: by `_write_if_due` when
        it runs here, else (live) every COMMIT_INTERVAL_S for the writer thread."""
        t = self._pipeline.t
        for tap in self._taps:
            for block in tap.look(t):
                self._put(block)
        if not self._live and not flush:
            return
        now = time.monotonic()
        if flush or now - self._waves_flushed >= COMMIT_INTERVAL_S:
            self._waves_flushed = now
            for block in self._open_waves():
                self._put(block)

    def _open_waves(self) -> list[WaveBlock]:
        """Every tap's open block so far (pipeline thread)."""
        return [block for tap in self._taps for block in tap.flush()]

    def _on_record(self, record: Record) -> None:
        """The record with its JSON text, made now: the printer has just asked for the
        same (`record_json` encodes it once)."""
        if self.failed is not None or self._closing:
            return
        try:
            text = record_json(record)
        except (TypeError, ValueError) as exc:  # not JSON: still never stop monitoring
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        self._put((record, text))

    def _put(self, item: object) -> None:
        """Live: each item goes to the writer thread at once. Simulated or replayed
        (waiting loses nothing): taken here, on the pipeline thread; a thread would only
        add hand-overs of the GIL and of the queue to the same work."""
        if self.failed is not None or self._closing:
            return
        if self._live:
            try:
                self._queue.put_nowait([item])
            except queue.Full:
                self._fail("the recorder cannot keep up with the data (queue full)")
            return
        self._take_item(item)
        self._write_if_due()

    # -- the writing: on the writer thread (live), else on the pipeline thread ---------

    def _run(self) -> None:
        while not self._pending.stopping:
            try:
                batches = [self._queue.get(timeout=0.1)]
            except queue.Empty:
                batches = []
            while len(batches) < 5000:
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for batch in batches:
                for item in batch:
                    self._take_item(item)
            self._write_if_due()
        self._finish()

    def _take_item(self, item: object) -> None:
        """An item into its row (or its wave block)."""
        pending = self._pending
        if isinstance(item, list):  # chunks, in order
            first = pending.chunk_seq + 1
            pending.chunk_seq += len(item)
            pending.chunks += zip(itertools.count(first), item)
        elif isinstance(item, WaveBlock):
            pending.waves.append(item)
        elif isinstance(item, tuple):
            record, text = item
            pending.records.append((pending.record_seq, pending.chunk_seq, record, text))
            pending.record_seq += 1
        elif item is _STOP:
            pending.stopping = True

    def _write_if_due(self) -> None:
        """To SQLite when due for a commit (every COMMIT_INTERVAL_S of wall time) or when
        many rows are held."""
        pending = self._pending
        if self.failed is not None:
            pending.clear()
            return
        now = time.monotonic()
        commit = pending.stopping or now - pending.last_commit >= COMMIT_INTERVAL_S
        if not commit and len(pending.chunks) + len(pending.records) < WRITE_ROWS:
            return
        if commit and not self._live:  # on the pipeline thread: the waves up to now too
            pending.waves.extend(self._open_waves())
        # Rows go to SQLite when they are committed (a crash keeps only committed
        # rows anyway), in a few large statements instead of many small ones.
        self._write(pending.chunks, pending.records, pending.waves, commit)
        if commit:
            pending.last_commit = now
        pending.clear()

    def _write(
        self,
        chunks: list[tuple[int, Chunk]],
        records: list[tuple[int, int, Record, str]],
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
        except (sqlite3.Error, OSError, SessionFileError) as exc:
            self._fail(str(exc))
        except Exception as exc:  # e.g. a record that is not JSON: still never stop monitoring
            self._fail(f"{type(exc).__name__}: {exc}")

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
        if not self._live or threading.current_thread() is self._thread:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.abandon()

    # -- owner -------------------------------------------------------------------------

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, commit, and leave a finished file."""
        if self._closing:
            return
        self._take_waves(flush=True)  # what the last chunks added (the pipeline has stopped)
        if not self._live:
            self._take_item(_STOP)
            self._write_if_due()
            self._closing = True
            self._finish()
            return
        self._closing = True
        while True:
            try:
                self._queue.put([_STOP], timeout=0.5)
                break
            except queue.Full:
                if not self._thread.is_alive():
                    break
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise VitalmonError(f"recorder did not finish writing {self.path}")
