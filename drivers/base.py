"""The interfaces every protocol module implements, and what the registry's factories return.

Each decoder and encoder class inherits the interface it implements, so mypy checks it
against that interface, and the monitor and the simulator rely on nothing else. What a
device may lack is declared with a default (no start command: `startup_bytes()` is
empty; no keep-alive: `keepalive_interval_s` is None), never found by probing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self, TypeVar, runtime_checkable

import numpy as np

from drivers.capnostat_types import CapnoBatch
from drivers.types import DecoderCounters, OximeterBatch, RespBatch


@dataclass(frozen=True, slots=True)
class LineSettings:
    """Serial line defaults of a protocol; a port spec's query string may override them."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1

    def override(self, options: dict[str, str]) -> LineSettings:
        from drivers.errors import PortSpecError

        try:
            return LineSettings(
                baudrate=int(options.get("baud", self.baudrate)),
                bytesize=int(options.get("bytesize", self.bytesize)),
                parity=options.get("parity", self.parity).upper()[:1],
                stopbits=float(options.get("stopbits", self.stopbits)),
            )
        except ValueError as exc:
            raise PortSpecError(f"bad line setting in port options {options}: {exc}") from exc


class Batch(Protocol):
    """Frames decoded from a run of bytes as columns: rows can be counted, picked (a
    slice, a mask or index array) and joined."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice | np.ndarray, /) -> Self: ...

    def concat(self, batches: Sequence[Self], /) -> Self:
        """`batches` (this one's kind) as one; a batch class may define it static."""


Out = TypeVar("Out", covariant=True)
Rows = TypeVar("Rows", bound=Batch, covariant=True)
In = TypeVar("In", contravariant=True)


@runtime_checkable
class Decoder(Protocol[Out]):
    """Incremental: bytes may arrive split anywhere; never raises on bad input; counts
    what it dropped."""

    counters: DecoderCounters

    def feed(self, data: bytes) -> Out: ...

    def reset(self) -> None:
        """Forget everything in flight (after a reconnect)."""


class StreamDecoder(Decoder[Rows], Protocol[Rows]):
    """A sampled stream (oximeter, respiration) whose bytes a channel may take a run at a
    time: `feed_run` decodes several feeds in one pass."""

    sample_rate_hz: float

    def feed_run(self, datas: Sequence[bytes]) -> tuple[Rows, np.ndarray]:
        """The same as `feed` on each of `datas` in turn: (their batches joined, the frame
        count of each). This default feeds one at a time; a decoder may do better."""
        batches = [self.feed(data) for data in datas]
        counts = np.fromiter((len(b) for b in batches), dtype=np.int64, count=len(batches))
        return batches[0].concat(batches), counts


@runtime_checkable
class OximeterDecoder(StreamDecoder[OximeterBatch], Protocol):
    """A pulse oximeter. A two-way one (e.g. `contec7`, Nonin's format select) says what
    the oximeter channel sends: `startup_bytes()` whenever the link comes up (first open
    and every reopen), and `keepalive_bytes()` every `keepalive_interval_s` of data time
    while it stays up. The defaults are a device that streams unasked."""

    keepalive_interval_s: float | None = None

    def startup_bytes(self) -> bytes:
        return b""

    def keepalive_bytes(self) -> bytes:
        return b""


@runtime_checkable
class RespDecoder(StreamDecoder[RespBatch], Protocol):
    """A respiration stream."""


@runtime_checkable
class CapnoDecoder(Decoder[CapnoBatch], Protocol):
    """A CO2 module's stream (its two-way host is `capnostat_host`)."""


@runtime_checkable
class Encoder(Protocol[In]):
    """Turns device values into the device's bytes (simulator, tests)."""

    def encode(self, batch: In) -> bytes: ...


@runtime_checkable
class OximeterEncoder(Encoder[OximeterBatch], Protocol):
    sample_rate_hz: float


@runtime_checkable
class RespEncoder(Encoder[RespBatch], Protocol):
    sample_rate_hz: float
