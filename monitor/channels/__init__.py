"""One handler per device channel: decode its bytes, keep its stores, report its numerics.

The pipeline asks `make_channel` for the channel of a protocol's device kind, so adding
a device (NIBP, respiration) is a new module here plus its branch there. What a
channel needs from elsewhere it is handed when made (`emit`, `write`, the command bus,
the session's phase), never found by reaching into the pipeline.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from drivers.base import Batch, StreamDecoder
from drivers.types import LinkEvent
from monitor.commands import CommandBus
from monitor.records import Record

if TYPE_CHECKING:
    from monitor.channels.nibp_schedule import NibpSettings

Emit = Callable[[Record], None]
Write = Callable[[bytes], bool]
# The session's phase and the data time it began (None: no session model), asked when
# needed: the NIBP program follows it.
SessionPhase = Callable[[], tuple[str, float] | None]
B = TypeVar("B", bound=Batch)


def no_session() -> tuple[str, float] | None:
    """A channel made without a session model (its own tests)."""
    return None


@dataclass(frozen=True, slots=True)
class RunShare(Generic[B]):
    """A channel's bytes of a run of chunks, decoded in one pass: every frame of the run
    (`batch`), how many each chunk completed, and each chunk's arrival time."""

    batch: B
    counts: list[int]
    times: list[float]

    def per_feed(self) -> list[B]:
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
    protocol: str

    def feed(self, data: bytes, t: float) -> None:
        """Bytes that arrived by data time `t`."""

    def on_link(self, event: LinkEvent, t: float) -> None:
        """The port went up or down."""

    def tick(self, t: float) -> None:
        """Data time moved on (called after every chunk)."""

    def numerics_json(self, t: float) -> Record:
        """This channel's part of the once-a-second numerics record."""

    def can_absorb(self, share: RunShare[Any] | None, ticks: Sequence[float]) -> bool:
        """Can `absorb` take this run (its bytes `share`, decoded by its own decoder, so
        of its own batch type; a tick at each of `ticks`) and
        leave what `feed` and `tick` one chunk at a time would: the same records, in
        the same order, and the same state? (Pure: changes nothing.)"""

    def absorb(self, share: RunShare[Any] | None, ticks: Sequence[float]) -> None:
        """Take a run at once (only after `can_absorb` said yes)."""


class StreamChannel(Generic[B]):
    """A channel whose bytes go through its decoder alone (oximeter, respiration), so a
    run of its chunks can be decoded in one pass (`decoder.feed_run`) and each chunk's
    share handed to `apply`, to the same end as `feed` one chunk at a time."""

    decoder: StreamDecoder[B]

    def feed(self, data: bytes, t: float) -> None:
        self.apply(self.decoder.feed(data), len(data), t)

    def apply(self, batch: B, n_bytes: int, t: float) -> None:
        """What `n_bytes` arriving at `t` decoded to."""
        raise NotImplementedError


def make_channel(
    kind: str,
    name: str,
    protocol: str,
    emit: Emit,
    write: Write,
    commands: CommandBus,
    session_phase: SessionPhase = no_session,
    nibp_settings: NibpSettings | None = None,
) -> Channel:
    """The channel for a protocol's device kind. Channels get `emit` for records, `write`
    for device commands, and the command bus to register the commands they answer (e.g.
    `nibp_start`); the NIBP one also the session's phase, which its program follows, and
    the settings it is configured with. (Each module is imported here, when needed: they
    import this package.)"""
    if kind == "oximeter":
        from monitor.channels.oximeter import OximeterChannel

        return OximeterChannel(name, protocol, emit, write, commands)
    if kind == "nibp":
        from monitor.channels.nibp import NibpChannel

        return NibpChannel(name, protocol, emit, write, commands, session_phase, nibp_settings)
    if kind == "resp":
        from monitor.channels.resp import RespChannel

        return RespChannel(name, protocol, emit, write, commands)
    if kind == "capno":
        from monitor.channels.capno import CapnoChannel

        return CapnoChannel(name, protocol, emit, write, commands)
    raise ValueError(f"no channel for device kind '{kind}'")
