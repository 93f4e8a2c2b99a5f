"""One handler per device channel: decode its bytes, keep its stores, report its numerics.

The pipeline looks a channel's class up by the protocol's device kind, so adding
a device (NIBP, respiration) is a new module here plus one line in the table.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from drivers.types import LinkEvent
from monitor.commands import CommandBus
from monitor.records import Record

Emit = Callable[[Record], None]
Write = Callable[[bytes], bool]

# device kind -> "module:Class"
CHANNEL_CLASSES: dict[str, str] = {
    "oximeter": "monitor.channels.oximeter:OximeterChannel",
    "nibp": "monitor.channels.nibp:NibpChannel",
    "resp": "monitor.channels.resp:RespChannel",
    "capno": "monitor.channels.capno:CapnoChannel",
}


@dataclass(frozen=True, slots=True)
class RunShare:
    """A channel's bytes of a run of chunks, decoded in one pass: every frame of the run
    (`batch`), how many each chunk completed, and each chunk's arrival time."""

    batch: Any
    counts: list[int]
    times: list[float]

    def per_feed(self) -> list[Any]:
        """The batch each chunk alone would have decoded to."""
        ends = list(itertools.accumulate(self.counts))
        return [self.batch[end - n : end] for n, end in zip(self.counts, ends, strict=True)]

    def fed(self) -> list[int]:
        """Which chunks completed at least one frame."""
        return [i for i, n in enumerate(self.counts) if n]

    def frame_times(self) -> list[float]:
        """Arrival times of the chunks that completed at least one frame."""
        return [self.times[i] for i in self.fed()]

    def last_rows(self) -> np.ndarray:
        """The batch row of the last frame each of those chunks completed."""
        return np.cumsum(self.counts)[self.fed()] - 1


class Channel(Protocol):
    name: str

    def feed(self, data: bytes, t: float) -> None:
        """Bytes that arrived by data time `t`."""

    def on_link(self, event: LinkEvent, t: float) -> None:
        """The port went up or down."""

    def tick(self, t: float) -> None:
        """Data time moved on (called after every chunk)."""

    def numerics_json(self, t: float) -> Record:
        """This channel's part of the once-a-second numerics record."""

    def can_absorb(self, share: RunShare | None, ticks: Sequence[float]) -> bool:
        """Can `absorb` take this run (its bytes `share`, a tick at each of `ticks`) and
        leave what `feed` and `tick` one chunk at a time would: the same records, in
        the same order, and the same state? (Pure: changes nothing.)"""

    def absorb(self, share: RunShare | None, ticks: Sequence[float]) -> None:
        """Take a run at once (only after `can_absorb` said yes)."""


def make_channel(
    kind: str,
    name: str,
    protocol: str,
    emit: Emit,
    write: Write,
    commands: CommandBus,
    **options: Any,
) -> Channel:
    """Channels get `emit` for records, `write` for device commands, and the command bus
    to register the commands they answer (e.g. `nibp_start`); `options` what their kind
    is configured with (the NIBP's `settings`)."""
    module_name, _, class_name = CHANNEL_CLASSES[kind].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(name=name, protocol=protocol, emit=emit, write=write, commands=commands, **options)
