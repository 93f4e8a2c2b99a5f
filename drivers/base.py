"""The interfaces every protocol module implements (structural: no base class needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from drivers.types import DecoderCounters, OximeterBatch


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


class OximeterDecoder(Protocol):
    """Incremental: bytes may arrive split anywhere; never raises on bad input."""

    sample_rate_hz: float
    counters: DecoderCounters

    def feed(self, data: bytes) -> OximeterBatch: ...

    def reset(self) -> None: ...


class OximeterEncoder(Protocol):
    """Turns rows of device values into the device's bytes (simulator, tests)."""

    sample_rate_hz: float

    def encode(self, batch: OximeterBatch) -> bytes: ...


class TwoWayDecoder(OximeterDecoder, Protocol):
    """Optional hooks of a device that needs setup bytes (e.g. `contec7`, Nonin format select).

    The oximeter channel sends `startup_bytes()` whenever the link comes up (first
    open and every reopen) and, if the decoder has `keepalive_bytes()`, sends that
    every `keepalive_interval_s` of data time while it stays up. Decoders that need
    neither (contec, berry, masimo) simply lack these attributes.
    """

    keepalive_interval_s: float

    def startup_bytes(self) -> bytes: ...

    def keepalive_bytes(self) -> bytes: ...
