"""The acquisition pipeline: chunks in, decoded into stores, records out to listeners.

`AcquisitionPipeline.process()` is plain and synchronous, so tests drive it
directly; `PipelineRunner` runs a source through it on its own thread and never
waits on the GUI, which only reads snapshots.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

from drivers.registry import get_protocol, make_decoder
from drivers.types import LinkEvent, LinkState, OximeterBatch
from monitor.numerics import OximeterNumerics, OximeterSnapshot
from monitor.ringbuffer import RingBuffer
from monitor.sources import Chunk, Source

Record = dict[str, object]
Listener = Callable[[Record], None]
ChunkListener = Callable[[Chunk], None]

PLETH_SECONDS = 60
# A pause in samples longer than this is drawn as a gap.
GAP_TOLERANCE_S = 0.25


class AcquisitionPipeline:
    """Decodes every channel and keeps the stores the GUI, alarms and recorder read."""

    def __init__(self, protocols: dict[str, str], wall_start: datetime | None = None) -> None:
        self.protocols = {ch: get_protocol(name).name for ch, name in protocols.items()}
        self.decoders = {ch: make_decoder(name) for ch, name in self.protocols.items()}
        self.wall_start = wall_start or datetime.now(UTC)
        self.t = 0.0
        self.oximeter = OximeterNumerics()
        rate = getattr(self.decoders.get("oximeter"), "sample_rate_hz", 75.0)
        self.pleth_rate_hz: float = rate
        self.pleth = RingBuffer(int(rate * PLETH_SECONDS))
        self._pleth_last_t: float | None = None
        self._next_second = 1
        self._listeners: list[Listener] = []
        self._chunk_listeners: list[ChunkListener] = []
        self.link_states: dict[str, LinkState] = {}

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_chunks(self, listener: ChunkListener) -> None:
        """Every chunk exactly as processed (the raw layer a recorder keeps for replay)."""
        self._chunk_listeners.append(listener)

    def wall_iso(self, t: float) -> str:
        return (self.wall_start + timedelta(seconds=t)).isoformat(timespec="milliseconds")

    def emit(self, record: Record) -> None:
        record.setdefault("wall", self.wall_iso(float(record["t"])))  # type: ignore[arg-type]
        for listener in self._listeners:
            listener(record)

    def process(self, chunk: Chunk) -> None:
        for listener in self._chunk_listeners:
            listener(chunk)
        self._emit_seconds(chunk.t, inclusive=False)
        self.t = max(self.t, chunk.t)
        if chunk.link is not None:
            self._on_link(chunk.channel, chunk.link, chunk.t)
        elif chunk.data:
            decoder = self.decoders.get(chunk.channel)
            if decoder is not None:
                batch = decoder.feed(chunk.data)
                if chunk.channel == "oximeter":
                    self._on_oximeter(batch, chunk.t)
        self._pad_pleth(self.t)
        self._emit_seconds(self.t, inclusive=True)

    def oximeter_snapshot(self) -> OximeterSnapshot:
        return self.oximeter.snapshot(self.t)

    def _on_oximeter(self, batch: OximeterBatch, t: float) -> None:
        n = len(batch)
        if n == 0:
            return
        first_sample_t = t - (n - 1) / self.pleth_rate_hz
        self._pad_pleth(first_sample_t - 1.0 / self.pleth_rate_hz)
        self.pleth.extend(batch.pleth)
        self._pleth_last_t = t
        self.oximeter.update(batch, t)

    def _pad_pleth(self, until_t: float) -> None:
        """Fill silence with NaN so the sweep keeps moving and shows the gap as a gap."""
        if self._pleth_last_t is None:
            return
        silence = until_t - self._pleth_last_t
        if silence <= GAP_TOLERANCE_S:
            return
        count = min(round(silence * self.pleth_rate_hz), self.pleth.capacity)
        self.pleth.extend(np.full(count, np.nan, dtype=np.float32))
        self._pleth_last_t = until_t

    def _on_link(self, channel: str, event: LinkEvent, t: float) -> None:
        self.link_states[channel] = event.state
        if event.state is not LinkState.UP:
            decoder = self.decoders.get(channel)
            if decoder is not None:
                decoder.reset()
            if channel == "oximeter":
                self.oximeter.reset()
        self.emit(
            {
                "type": "event",
                "t": round(t, 3),
                "kind": "link",
                "channel": channel,
                "state": event.state.value,
                "detail": event.detail,
            }
        )

    def _emit_seconds(self, t: float, inclusive: bool) -> None:
        while self._next_second < t or (inclusive and self._next_second == t):
            second = float(self._next_second)
            self._next_second += 1
            snapshot = self.oximeter.snapshot(second)
            record: Record = {"type": "numerics", "t": second}
            record.update(snapshot.to_json())
            record["rr"] = None
            self.emit(record)


class PipelineRunner:
    """Runs a source through the pipeline until the duration (data time) or `stop()`."""

    def __init__(
        self, source: Source, pipeline: AcquisitionPipeline, duration_s: float | None = None
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        self.duration_s = duration_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for chunk in self.source.chunks():
                self.pipeline.process(chunk)
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
