"""One handler per device channel: decode its bytes, keep its stores, report its numerics.

The pipeline asks `make_channel` for the channel of a protocol's device kind, so adding
a device (NIBP, respiration) is a new module here plus its branch there. What a
channel needs from elsewhere it is handed when made (`emit`, `write`, the command bus,
the session's phase), never found by reaching into the pipeline.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


def no_session() -> tuple[str, float] | None:
    """A channel made without a session model (its own tests)."""
    return None


@dataclass(frozen=True, slots=True)
class RunShare:
    """A channel's bytes of a run of chunks, decoded in one pass: every frame of the run
    (`batch`), how many each chunk completed, and each chunk's arrival time."""

    batch: Any
    counts: list[int]
    times: list[float]

    def per_feed(self) -> list[Any]:
        """The batch each chunk alone would have decoded to."""
        if len(self.counts) == 1:  # the usual stretch: a chunk a channel (no copy)
            return [self.batch]
        ends = list(itertools.accumulate(self.counts))
        return [self.batch[end - n : end] for n, end in zip(self.counts, ends, strict=True)]

    def fed(self) -> list[int]:
        """Which chunks completed at least one frame."""
        return [i for i, n in enumerate(self.counts) if n]

    def frame_times(self) -> list[float]:
        """Arrival times of the chunks that completed at least one frame."""
        return [self.times[i] for i in self.fed()]

    def last_rows(self) -> list[int]:
        """The batch row of the last frame each of those chunks completed."""
        ends = itertools.accumulate(self.counts)
        return [end - 1 for end, n in zip(ends, self.counts, strict=True) if n]


@dataclass(slots=True)
class ChannelRun:
    """A run of chunks as one channel sees it, taken in one step where nothing else falls
    due (the pipeline asked every timed part its `next_due`): the pipeline's clock after
    each chunk (`ticks`), which of them brought this channel's bytes (`at`, with the
    bytes and their arrival times), and those bytes decoded in one pass (`share`, for
    channels with a `run_decoder`).

    `index` and `phase` say where a channel taking the run one by one is (the chunk, and
    0 while it takes the chunk's bytes, 1 while it ticks): the pipeline puts the records
    of a run in the order one by one would have made them."""

    ticks: Sequence[float]
    at: list[int] = field(default_factory=list)
    datas: list[bytes] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    share: RunShare | None = None
    index: int = 0
    phase: int = 0

    def parts(self) -> list[Any] | list[None]:
        """Each of this channel's chunks decoded (None: the channel decodes it itself)."""
        return self.share.per_feed() if self.share is not None else [None] * len(self.at)


class Channel:
    """What every channel does for the pipeline; one-by-one defaults for the run method.

    A channel with a `run_decoder` (a decoder with `feed_run` whose output `apply`
    takes) gets its bytes of a run decoded in one pass; one without decodes in `feed`."""

    name: str
    protocol: str
    run_decoder: Any = None

    def feed(self, data: bytes, t: float) -> None:
        """Bytes that arrived by data time `t`."""
        self.apply(self.run_decoder.feed(data), len(data), t)

    def apply(self, decoded: Any, n_bytes: int, t: float) -> None:
        """What `n_bytes` arriving at `t` decoded to (channels with a `run_decoder`)."""
        raise NotImplementedError

    def take(self, data: bytes, decoded: Any | None, t: float) -> None:
        """One chunk's bytes, already decoded where `decoded` is given."""
        if decoded is None:
            self.feed(data, t)
        else:
            self.apply(decoded, len(data), t)

    def on_link(self, event: LinkEvent, t: float) -> None:
        """The port went up or down."""

    def tick(self, t: float) -> None:
        """Data time moved on (called after every chunk)."""

    def next_due(self, t: float) -> float:
        """The earliest data time from which `tick`, with no more bytes, would do anything
        (emit, write, pad a wave, change a verdict); inf: never. The pipeline and the
        simulator take everything before it in one step."""
        return math.inf

    def next_write_due(self, t: float, streamed_through: float | None = None) -> float:
        """The earliest data time from which `tick` may write to the device (a simulator
        may run ahead of the monitor until then), given the device has sent bytes through
        `streamed_through` meanwhile (None: nothing since `t`); by default `next_due`."""
        return self.next_due(t)

    def numerics_json(self, t: float) -> Record:
        """This channel's part of the once-a-second numerics record."""
        raise NotImplementedError

    def take_run(self, run: ChannelRun) -> None:
        """A run of chunks in one step, leaving the records and state one by one leaves:
        its bytes, if any, and every tick but the last (the pipeline ticks every channel
        at the run's last tick afterwards, as one by one does after the last chunk).
        This default is one by one."""
        parts = run.parts()
        last = len(run.ticks) - 1
        mine = 0
        for i, tick in enumerate(run.ticks):
            run.index = i
            while mine < len(run.at) and run.at[mine] == i:
                run.phase = 0
                self.take(run.datas[mine], parts[mine], run.times[mine])
                mine += 1
            if i < last:
                run.phase = 1
                self.tick(tick)


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
