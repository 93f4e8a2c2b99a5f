"""Is an open link actually delivering? `silent` (no bytes) and `garbage` (bytes, no frames).

A port can be open and useless: a cable with no device on it, a device at the
wrong baud rate. The transport cannot tell; the decoder's output can. This is
plain logic fed with (bytes, frames, t) in data time, so a test drives it without
threads and a replay reaches the very same verdicts as the live run.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.types import LinkState

# A 75/s device is "silent" after 2 s; a once-a-second device after 3 missed frames.
MIN_SILENT_S = 2.0
MIN_GARBAGE_S = 2.0
MISSED_FRAMES = 3
# Due times are given this much early, so rounding never puts one after its moment.
DUE_MARGIN_S = 1e-9


@dataclass(slots=True)
class LinkQuality:
    """Tracks one link; `observe`/`check` return the state changes to report."""

    silent_after_s: float
    garbage_after_s: float
    state: LinkState | None = None  # None: not watching (link down, or nothing seen yet)
    _last_byte_t: float = 0.0
    _last_frame_t: float = 0.0

    @classmethod
    def for_rate(cls, frames_per_s: float) -> LinkQuality:
        per_frame = MISSED_FRAMES / frames_per_s if frames_per_s > 0 else MIN_SILENT_S
        return cls(max(MIN_SILENT_S, per_frame), max(MIN_GARBAGE_S, per_frame))

    def link_up(self, t: float) -> None:
        """The port (re)opened: the clocks start now."""
        self.state = LinkState.UP
        self._last_byte_t = self._last_frame_t = t

    def link_down(self) -> None:
        """The transport reports the port itself; nothing to judge until it is back."""
        self.state = None

    def observe(self, n_bytes: int, n_frames: int, t: float) -> list[tuple[LinkState, str]]:
        if self.state is None:
            if not n_bytes:
                return []
            self.link_up(t)  # sources without link events (the simulator): bytes mean up
        if n_bytes:
            self._last_byte_t = t
        if n_frames:
            self._last_frame_t = t
        return self.check(t)

    def check(self, t: float) -> list[tuple[LinkState, str]]:
        if self.state is None:
            return []
        new, detail = self._verdict(t)
        if new is self.state:
            return []
        self.state = new
        return [(new, detail)]

    def _verdict(self, t: float) -> tuple[LinkState, str]:
        quiet = t - self._last_byte_t
        frameless = t - self._last_frame_t
        if quiet >= self.silent_after_s:
            return LinkState.SILENT, f"no bytes for {quiet:.1f} s"
        if frameless >= self.garbage_after_s:
            return LinkState.GARBAGE, f"bytes but no valid frame for {frameless:.1f} s"
        return LinkState.UP, "valid frames again"

    def next_due(self, t: float) -> float:
        """The earliest data time from which `check`, with no more bytes, changes the
        verdict (inf: never). With no news the verdict only worsens as time passes."""
        if self.state is None or self.state is LinkState.SILENT:
            return math.inf
        if self._verdict(t)[0] is not self.state:
            return t
        silent = self._last_byte_t + self.silent_after_s
        if self.state is LinkState.GARBAGE:
            return silent - DUE_MARGIN_S
        return min(silent, self._last_frame_t + self.garbage_after_s) - DUE_MARGIN_S

    def steady_through(
        self, byte_times: Sequence[float], frame_times: Sequence[float], t_end: float
    ) -> bool:
        """Would bytes at `byte_times` (frames at `frame_times`) and checks up to `t_end`
        leave the verdict as it is? Pure: a replay asks before taking a run in one step."""
        if self.state is None:
            return not byte_times  # not watching; bytes would start the watch
        if not byte_times:
            # With no news the verdict only worsens as time passes (up, garbage,
            # silent), so it holds throughout if it holds at the end.
            return self._verdict(t_end)[0] is self.state
        return (
            self.state is LinkState.UP
            and longest_gap([self._last_byte_t, *byte_times, t_end]) < self.silent_after_s
            and longest_gap([self._last_frame_t, *frame_times, t_end]) < self.garbage_after_s
        )

    def absorb(self, byte_times: Sequence[float], frame_times: Sequence[float]) -> None:
        """What `observe` of each would leave, once `steady_through` said nothing changes."""
        if byte_times:
            self._last_byte_t = byte_times[-1]
        if frame_times:
            self._last_frame_t = frame_times[-1]


def longest_gap(times: Sequence[float]) -> float:
    """The longest step between consecutive times (0 for fewer than two)."""
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)
