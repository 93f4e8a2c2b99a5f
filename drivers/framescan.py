"""Vectorised framing for protocols whose frames are: start byte, a byte that sets the
length, data, and a checksum that makes the frame sum to 0 mod 256 (SunTech).

Per-frame Python cannot reach the 20 MB/s decode budget, so `FrameScanner`
finds, checks and selects frames with numpy and hands back a `FrameBatch` that
parses a frame into its typed object only when that frame is read.

Selection is the same as a byte-by-byte scanner's: left to right, a candidate
start whose frame fails (unknown length byte, bad checksum, unknown contents)
is skipped alone, so a real frame that began inside it is still found; a
candidate that is not complete yet holds back everything from it on, unless a
frame already taken covers it. `flush()` gives up such a partial frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar, overload

import numpy as np

from drivers.base import Decoder
from drivers.types import DecoderCounters

T = TypeVar("T")


class FrameBatch(Sequence[T], Generic[T]):
    """Frames found by one `feed()`: offsets into the bytes, parsed when read."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self, data: bytes, starts: np.ndarray, lengths: np.ndarray, parse: Callable[[bytes], T]
    ) -> None:
        self._data = data
        self.starts = starts
        self.lengths = lengths
        self._parse = parse

    def __len__(self) -> int:
        return len(self.starts)

    def frame_bytes(self, index: int) -> bytes:
        start = int(self.starts[index])
        return self._data[start : start + int(self.lengths[index])]

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._parse(self.frame_bytes(index))

    def __iter__(self) -> Iterator[T]:
        for i in range(len(self)):
            yield self[i]

    def __add__(self, other: Sequence[T]) -> list[T]:
        return [*self, *other]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrameBatch({list(self)!r})"


class FrameScanner(Decoder[FrameBatch[T]], Generic[T]):
    """Incremental decoder core. Subclasses set `start_byte` and `length_table` (frame
    length by the byte after the start byte, 0 = no such frame) and may check contents."""

    start_byte: int
    length_table: np.ndarray

    def __init__(self) -> None:
        self.counters = DecoderCounters()
        self._buf = bytearray()
        self._in_sync = True

    def reset(self) -> None:
        """Forget everything in flight (after a reconnect)."""
        self._buf.clear()
        self._in_sync = True

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def parse(self, frame: bytes) -> T:
        """A checked frame as its typed object."""
        raise NotImplementedError

    def contents_ok(self, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per candidate (complete, checksum good): are its contents a known frame?"""
        return np.ones(len(starts), dtype=bool)

    def feed(self, data: bytes) -> FrameBatch[T]:
        self.counters.bytes_in += len(data)
        self._buf.extend(data)
        return self._scan(final=False)

    def flush(self) -> FrameBatch[T]:
        """Give up on a partial frame (it was garbage) and decode what follows it."""
        return self._scan(final=True)

    def _scan(self, final: bool) -> FrameBatch[T]:
        data = bytes(self._buf)
        whole = self._one_whole_frame(data)
        if whole is not None:
            return whole
        buf = np.frombuffer(data, dtype=np.uint8)
        n = len(buf)
        starts = (buf == self.start_byte).nonzero()[0]
        has_len = starts + 1 < n
        lengths = np.zeros(len(starts), dtype=np.int64)
        lengths[has_len] = self.length_table[buf[starts[has_len] + 1]]
        ends = starts + lengths
        complete = has_len & (lengths > 0) & (ends <= n)
        incomplete = ~has_len | ((lengths > 0) & (ends > n))
        if final:
            incomplete[:] = False

        sums = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(buf, out=sums[1:])
        idx = complete.nonzero()[0]
        sum_ok = ((sums[ends[idx]] - sums[starts[idx]]) & 0xFF) == 0
        bad_sum = np.zeros(len(starts), dtype=bool)
        bad_sum[idx[~sum_ok]] = True
        good = complete & ~bad_sum
        idx = good.nonzero()[0]
        good[idx[~self.contents_ok(buf, starts[idx], lengths[idx])]] = False

        chosen, cut = _select(starts, ends, good, incomplete, n)
        taken_starts, taken_ends = starts[chosen], ends[chosen]
        self._count(taken_starts, taken_ends, cut, starts[bad_sum])
        del self._buf[:cut]
        return FrameBatch(data, taken_starts, taken_ends - taken_starts, self.parse)

    def _one_whole_frame(self, data: bytes) -> FrameBatch[T] | None:
        """The usual feed, a command or a response that came whole: the bytes are one
        good frame and nothing else. Taken as the scan below would take it (every other
        candidate lies inside it, so none counts) without its dozen numpy passes, the
        whole cost of a frame of a few bytes."""
        n = len(data)
        if n < 2 or data[0] != self.start_byte or self.length_table[data[1]] != n:
            return None
        if sum(data) & 0xFF:
            return None
        starts, lengths = np.zeros(1, dtype=np.int64), np.full(1, n, dtype=np.int64)
        if not self.contents_ok(np.frombuffer(data, dtype=np.uint8), starts, lengths)[0]:
            return None
        self.counters.frames += 1
        self._in_sync = True
        self._buf.clear()
        return FrameBatch(data, starts, lengths, self.parse)

    def _count(
        self, taken_starts: np.ndarray, taken_ends: np.ndarray, cut: int, bad: np.ndarray
    ) -> None:
        c = self.counters
        c.frames += len(taken_starts)
        c.bytes_dropped += cut - int(np.sum(taken_ends - taken_starts))
        # Checksum failures: bad candidates in the consumed part that no frame covers.
        bad = bad[bad < cut]
        if len(bad) and len(taken_starts):
            k = np.searchsorted(taken_starts, bad, side="right") - 1
            covered = (k >= 0) & (bad < taken_ends[np.maximum(k, 0)])
            bad = bad[~covered]
        c.checksum_failures += len(bad)
        # Resyncs: each run of dropped bytes entered from an in-sync state.
        prev_ends = np.concatenate(([0], taken_ends[:-1]))
        gaps = taken_starts != prev_ends
        if len(gaps):
            c.resyncs += int(np.count_nonzero(gaps[1:])) + int(bool(gaps[0]) and self._in_sync)
            self._in_sync = True
        last_end = int(taken_ends[-1]) if len(taken_ends) else 0
        if cut > last_end:
            c.resyncs += int(self._in_sync)
            self._in_sync = False


def _select(
    starts: np.ndarray, ends: np.ndarray, good: np.ndarray, incomplete: np.ndarray, n: int
) -> tuple[np.ndarray, int]:
    """Indices of the frames to take, left to right without overlap, and where to cut."""
    g = good.nonzero()[0]
    gs, ge = starts[g], ends[g]
    if len(g) < 2 or bool(np.all(gs[1:] >= ge[:-1])):
        # Fast path (a clean stream): no two good frames overlap.
        waiting = starts[incomplete]
        if len(waiting) and len(g):
            k = np.searchsorted(gs, waiting, side="right") - 1
            covered = (k >= 0) & (waiting < ge[np.maximum(k, 0)])
            waiting = waiting[~covered]
        cut = int(waiting[0]) if len(waiting) else n
        return g[gs < cut], cut
    # Overlapping candidates (garbage that checksums): the plain scan, in Python.
    chosen: list[int] = []
    next_free = 0
    for i in (good | incomplete).nonzero()[0]:
        start = int(starts[i])
        if start < next_free:
            continue
        if incomplete[i]:
            return np.asarray(chosen, dtype=np.int64), start
        chosen.append(int(i))
        next_free = int(ends[i])
    return np.asarray(chosen, dtype=np.int64), n
