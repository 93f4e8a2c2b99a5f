"""Vectorised helpers shared by the decoders: sparse value updates -> per-frame columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

import numpy as np

from drivers.base import Batch, OximeterEncoder, StreamDecoder
from drivers.types import DecoderCounters, OximeterBatch

B = TypeVar("B", bound=Batch)


@dataclass(slots=True)
class HeldValue:
    """A device value that holds between updates, and expires if not re-sent.

    `age_frames` counts frames since the last update, so expiry spans `feed()` calls.
    """

    max_age_frames: int
    value: float = float("nan")
    age_frames: int = 1 << 30

    def fill(self, n: int, update_rows: np.ndarray, update_values: np.ndarray) -> np.ndarray:
        """Column of `n` rows: the latest value at each row, NaN once it is too old."""
        if n == 0:
            return np.empty(0, dtype=np.float32)
        k = len(update_rows)
        if k:
            lengths = np.empty(k + 1, dtype=np.int64)
            lengths[0] = update_rows[0]
            lengths[1:k] = update_rows[1:] - update_rows[:-1]
            lengths[k] = n - update_rows[-1]
            first = int(lengths[0])
            if (first == 0 or self.age_frames + first <= self.max_age_frames) and int(
                lengths[1:].max()
            ) <= self.max_age_frames:
                # Fast path (steady stream): every row is within max age of an update.
                values = np.empty(k + 1, dtype=np.float32)
                values[0] = self.value
                values[1:] = update_values
                self.value = float(values[-1])
                self.age_frames = int(lengths[k]) - 1
                return values.repeat(lengths)
        rows = np.arange(n, dtype=np.int64)
        if len(update_rows) == 0:
            ages = self.age_frames + 1 + rows
            col = np.full(n, self.value, dtype=np.float32)
        else:
            marker = np.full(n, -1, dtype=np.int64)
            marker[update_rows] = np.arange(len(update_rows))
            np.maximum.accumulate(marker, out=marker)
            values = np.concatenate(([self.value], update_values.astype(np.float32)))
            col = values[marker + 1].astype(np.float32)
            ages = np.where(
                marker >= 0,
                rows - update_rows[np.maximum(marker, 0)],
                self.age_frames + 1 + rows,
            )
            self.value = float(update_values[-1])
        self.age_frames = int(ages[-1])
        col[ages > self.max_age_frames] = np.nan
        return col

    def reset(self) -> None:
        self.value = float("nan")
        self.age_frames = 1 << 30


def select_frames(candidates: np.ndarray, frame_len: int) -> np.ndarray:
    """Choose non-overlapping frames from valid candidates (sorted frame starts).

    Candidates that overlap no other one are taken as they are (the common case,
    fully vectorised). Where candidates overlap, the one heading the longer
    back-to-back chain wins (earlier on a tie): real devices send frames back to
    back, so a lone window of garbage that happens to look valid loses.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if len(candidates) < 2:
        return candidates
    close = candidates[1:] - candidates[:-1] < frame_len
    if not close.any():
        return candidates
    conflict = np.zeros(len(candidates), dtype=bool)
    conflict[:-1] |= close
    conflict[1:] |= close
    contested = conflict.nonzero()[0]
    # Score: how many of the neighbouring frame slots (+-1, +-2 frames) hold a candidate.
    score = np.zeros(len(contested), dtype=np.int64)
    where = candidates[contested]
    for offset in (-2 * frame_len, -frame_len, frame_len, 2 * frame_len):
        probe = where + offset
        found = candidates.searchsorted(probe)
        found = np.minimum(found, len(candidates) - 1)
        score += candidates[found] == probe
    order = contested[np.lexsort((where, -score))]
    origin = int(candidates[0])
    occupied = np.zeros(int(candidates[-1]) - origin + frame_len, dtype=bool)
    keep = ~conflict
    for index in order.tolist():
        start = int(candidates[index]) - origin
        if occupied[start] or occupied[start + frame_len - 1]:
            continue
        occupied[start : start + frame_len] = True
        keep[index] = True
    return candidates[keep]


# Given the scanned bytes and the number m of possible frame starts, a protocol
# returns (header, valid): boolean masks over those m starts. `valid` marks whole
# frames (and only where `header` holds); a header without a valid frame counts as a
# checksum failure.
FrameTest = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


@dataclass(slots=True)
class FrameScan:
    """Frames found in one `feed()`: starts index `buf`, whose first byte is stream offset
    `buf_start` (so contiguity can be judged across feeds)."""

    buf: np.ndarray
    starts: np.ndarray
    buf_start: int
    frame_len: int
    _rows: np.ndarray | None = None

    def back_to_back(self) -> bool:
        """Is every frame right after the one before? Chosen frames never overlap, so
        that is the first and the last k - 1 frame lengths apart."""
        k = len(self.starts)
        return k > 0 and int(self.starts[-1]) - int(self.starts[0]) == (k - 1) * self.frame_len

    def rows(self) -> np.ndarray:
        """Each frame's bytes as a row (uint8), made once for the scan whoever asks (the
        follow check, then the decoding) instead of a gather per field; back to back
        (a steady stream), a view of the bytes."""
        if self._rows is None:
            starts, frame_len = self.starts, self.frame_len
            if self.back_to_back():
                first = int(starts[0])
                block = self.buf[first : first + len(starts) * frame_len]
                self._rows = block.reshape(len(starts), frame_len)
            else:
                self._rows = self.buf[starts[:, None] + np.arange(frame_len)]
        return self._rows

    def head(self, k: int) -> FrameScan:
        """The first `k` frames (the rows already gathered go along)."""
        rows = None if self._rows is None else self._rows[:k]
        return FrameScan(self.buf, self.starts[:k], self.buf_start, self.frame_len, rows)


# Given the frames chosen in the scanned bytes and whether the slot after the last one is
# still open (not all its bytes in yet), a decoder says how many of the frames to take
# now; the scanner keeps the rest (their bytes and all after) and scans them again with
# the next bytes.
Decide = Callable[[FrameScan, bool], int]


class FixedFrameScanner:
    """Incremental framing for fixed-length frames: keeps the bytes that could still
    begin a frame, chooses frames, and counts what it drops in `counters`."""

    def __init__(
        self,
        frame_len: int,
        test: FrameTest,
        counters: DecoderCounters,
        decide: Decide | None = None,
    ) -> None:
        self.frame_len = frame_len
        self._test = test
        self.counters = counters
        self._decide = decide
        self.reset()

    def reset(self) -> None:
        self._pending = b""
        self._stream_offset = 0

    def scan(self, data: bytes) -> FrameScan:
        raw = self._pending + bytes(data) if self._pending else bytes(data)
        buf = np.frombuffer(raw, dtype=np.uint8)
        if len(buf) < self.frame_len:
            return self._commit(raw, buf, len(data), None)
        return self._commit(raw, buf, len(data), self._test(buf, len(buf) - self.frame_len + 1))

    def scan_run(self, datas: Sequence[bytes]) -> tuple[FrameScan, np.ndarray] | int:
        """Several feeds in one scan, and where each feed ends in the scan's bytes (so
        the caller can tell which feed brought a frame, or what decided it). Where that
        could have chosen other frames: nothing consumed, and the index of the feed in
        which the first of the overlapping candidates begins (the feeds before it hold
        no overlap: they may be scanned in one pass).

        Fed one by one, a frame comes out of the feed that brings its last byte, and
        each feed chooses among the frames it can see: the same ones as a single scan
        unless candidates overlap (garbage that looks like a frame), so only then may
        the two differ. This is what lets a replay decode a second of chunks at once.
        """
        data = b"".join(datas)
        raw = self._pending + data if self._pending else data
        buf = np.frombuffer(raw, dtype=np.uint8)
        frame_len = self.frame_len
        tested = None
        ends = len(self._pending) + np.fromiter(map(len, datas), np.int64, len(datas)).cumsum()
        if len(buf) >= frame_len:
            tested = self._test(buf, len(buf) - frame_len + 1)
            starts = tested[1].nonzero()[0]
            if len(starts) > 1:
                close = (starts[1:] - starts[:-1] < frame_len).nonzero()[0]
                if len(close):
                    first = int(starts[close[0]])
                    return int(ends.searchsorted(first, side="right"))
        return self._commit(raw, buf, len(data), tested), ends

    def _commit(
        self,
        raw: bytes,
        buf: np.ndarray,
        n_new: int,
        tested: tuple[np.ndarray, np.ndarray] | None,
    ) -> FrameScan:
        """Choose the frames of `buf` (pending + `n_new` new bytes), keep what may still
        begin one, and count what is dropped."""
        self.counters.bytes_in += n_new
        buf_start = self._stream_offset - len(self._pending)
        self._stream_offset += n_new
        frame_len = self.frame_len
        if tested is None:
            self._pending = raw
            return FrameScan(buf, np.empty(0, dtype=np.int64), buf_start, frame_len)
        m = len(buf) - frame_len + 1
        header, valid = tested
        starts = select_frames(valid.nonzero()[0], frame_len)
        scan = FrameScan(buf, starts, buf_start, frame_len)
        take = len(starts)
        if self._decide is not None and take:
            # The slot after the last frame is open while its last byte is still to come.
            open_end = int(starts[-1]) + 2 * frame_len > len(buf)
            take = self._decide(scan, open_end)
        if take < len(starts):
            keep_from = int(starts[take])  # the frames not yet decided are scanned again
            scan = scan.head(take)
            starts = scan.starts
        else:
            last_end = int(starts[-1]) + frame_len if len(starts) else 0
            keep_from = max(last_end, m)
        dropped = keep_from - len(starts) * frame_len
        # `valid` implies `header`: a header without a valid frame shows in the counts.
        if header is not valid and np.count_nonzero(header[:keep_from]) > np.count_nonzero(
            valid[:keep_from]
        ):
            failures = (header[:keep_from] & ~valid[:keep_from]).nonzero()[0]
            # Only failures outside chosen frames count (inside one they are just data):
            # the frame starting at or before each, if any, must end before it.
            inside = np.zeros(len(failures), dtype=bool)
            if len(starts):
                owner = starts.searchsorted(failures, side="right") - 1
                inside = (owner >= 0) & (failures < starts[np.maximum(owner, 0)] + frame_len)
            self.counters.checksum_failures += int(np.count_nonzero(~inside))
        self.counters.bytes_dropped += dropped
        self._pending = raw[keep_from:]
        return scan


def last_index_where(mask: np.ndarray) -> np.ndarray:
    """For each row, the index of the latest row at or before it where `mask` holds (-1: none):
    where the current packet or run began, in one pass."""
    last = np.where(mask, np.arange(len(mask), dtype=np.int64), -1)
    np.maximum.accumulate(last, out=last)
    return last


@dataclass(slots=True)
class _Links:
    """What `_decide` found out about every frame of a scan, for `_take_frames`."""

    starts: np.ndarray  # every chosen frame, taken now or not (scan-relative)
    contiguous: np.ndarray  # back to back with the frame before
    link: np.ndarray  # ... and its values follow that frame's (`follow`)
    columns: list[np.ndarray]  # the values `follow` checks
    take: int  # how many are decided now
    continued: np.ndarray | None  # of those: followed by `hold_frames` linked frames
    steady: bool  # every frame linked to the one before (the usual case: fast paths)


class ScannedDecoder(StreamDecoder[B], Generic[B]):
    """A decoder on a `FixedFrameScanner`: its `_decode` turns a scan into a batch, and a
    run of feeds can be decoded in one pass (`feed_run`).

    A frame is believed only within a back-to-back run of at least `confirm_frames`
    frames (docs/protocols.md, "What every decoder promises"): where the framing is weak
    (no checksum, or a one-byte one), random bytes form well-shaped frames now and
    then, but almost never several in a row. It is handed on only once `hold_frames`
    more frames of its run have come (so it is at least the `confirm_frames -
    hold_frames`-th of its run): bytes of noise right after a real frame can have a
    frame's shape and continue its run, but seldom for several frames, so a frame
    followed by noise is dropped (docs/reliability.md, "Noise"). Frames not believed are
    left out of the batch altogether, so no value, no pleth sample and no "valid frame"
    for the link watch comes of them; they are counted as `unconfirmed`. `_decode`
    still sees every frame, so a protocol whose values span frames (a Nonin packet)
    keeps its place in the stream. A frame whose fate is still open (the frames after
    it are still to come) is kept, bytes and all, and decoded with the next bytes.
    """

    confirm_frames: ClassVar[int] = 1
    hold_frames: ClassVar[int] = 0
    # Where the framing is weak, a frame also belongs to the run before it only if its
    # values follow that frame's as a device's can: `follow` lists, per value the frame
    # carries (`_follow_values`), its "no value" code and how far it may move from one
    # frame to the next. Bytes of noise right after a real frame can have a frame's
    # shape; this keeps them from continuing (and so inheriting) a believed run.
    follow: ClassVar[tuple[tuple[int, int], ...]] = ()
    # Whether a frame back to back with the one before but not following it counts as a
    # resync (a lost frame on a line that stayed in step: `simresp`).
    count_follow_breaks: ClassVar[bool] = False

    def __init__(self, frame_len: int, test: FrameTest) -> None:
        self.counters = DecoderCounters()
        self._scanner = FixedFrameScanner(frame_len, test, self.counters, self._decide)
        self._prev_end = -1  # stream offset just past the last accepted frame
        self._run = 0  # length of the back-to-back run the last frame ended
        self._believed: np.ndarray | None = None  # of the last scan's frames; None = all
        self._last_values: list[int] = [missing for missing, _ in self.follow]
        self._links: _Links | None = None
        # `_follow_values` of the frames `_take_frames` took last (a `_decode` reuses them).
        self._taken_values: list[np.ndarray] = []

    def reset(self) -> None:
        """Forget everything in flight (after a reconnect)."""
        self._scanner.reset()
        self._prev_end = -1
        self._run = 0
        self._last_values = [missing for missing, _ in self.follow]
        self._links = None

    def _decide(self, scan: FrameScan, open_end: bool) -> int:
        """How many of the scan's frames are decided: all but the last `hold_frames` of
        a run that may still go on (see `Decide`)."""
        frame_len, starts, buf_start = scan.frame_len, scan.starts, scan.buf_start
        k = len(starts)
        if int(starts[0]) + buf_start == self._prev_end and scan.back_to_back():
            contiguous = np.ones(k, dtype=bool)  # the steady stream, without an array op
        else:
            global_starts = starts + buf_start
            prev_ends = np.empty(k, dtype=np.int64)
            prev_ends[0] = self._prev_end
            prev_ends[1:] = global_starts[:-1] + frame_len
            contiguous = global_starts == prev_ends
        columns = self._follow_values(scan)
        link = contiguous & self._follows(columns) if columns else contiguous
        hold = self.hold_frames
        take = k
        continued: np.ndarray | None = None  # None: every frame taken is continued
        steady = bool(link.all())
        if hold and steady:  # one run throughout: only its last `hold` frames are open
            if open_end:
                take = max(0, k - hold)
            else:
                continued = np.ones(k, dtype=bool)
                continued[max(0, k - hold) :] = False
        elif hold:
            # Index of the first break after each frame (k: none in this scan).
            breaks = np.where(link, k, np.arange(k, dtype=np.int64))
            next_break = np.empty(k, dtype=np.int64)
            next_break[-1] = k
            next_break[:-1] = np.minimum.accumulate(breaks[::-1])[::-1][1:]
            if open_end:  # the last run may go on: its last `hold` frames wait
                take = max(self._tail_start(link), k - hold)
            continued = (next_break - np.arange(k) - 1 >= hold)[:take]
        self._links = _Links(starts, contiguous, link, columns, take, continued, steady)
        return take

    @staticmethod
    def _tail_start(link: np.ndarray) -> int:
        """Where the run that ends the scan begins (0: it came from the feed before)."""
        breaks = (~link).nonzero()[0]
        return int(breaks[-1]) if len(breaks) else 0

    def _take_frames(self, scan: FrameScan) -> np.ndarray | None:
        """Count the scan's frames and their resyncs; which of them follow the previous
        frame back to back (None: the scan holds no frame). Notes which are believed."""
        self._believed = None
        links, self._links = self._links, None
        k = len(scan.starts)
        if k == 0 or links is None:
            return None
        contiguous, link = links.contiguous[:k], links.link[:k]
        breaks = ~contiguous if self._prev_end >= 0 else ~contiguous[1:]
        self.counters.resyncs += int(np.count_nonzero(breaks))
        if self.count_follow_breaks:
            self.counters.resyncs += int(np.count_nonzero(contiguous & ~link))
        self._prev_end = int(scan.starts[-1] + scan.buf_start) + self._scanner.frame_len
        if links.columns:
            self._taken_values = [column[:k] for column in links.columns]
            followed = links.columns[: len(self._last_values)]  # not what rides along
            self._last_values = [int(column[k - 1]) for column in followed]
        believed = links.continued
        first = self.confirm_frames - self.hold_frames  # the first frame of a run shown
        if links.steady and self._run + 1 >= first:  # a believed run goes on
            self._run += k
        else:
            runs = self._run_lengths(link)
            if self.confirm_frames > 1:
                shown = runs >= first
                believed = shown if believed is None else believed & shown
        if believed is not None and not believed.all():
            self._believed = believed
            n = int(np.count_nonzero(believed))
            self.counters.unconfirmed += k - n
            self.counters.bytes_dropped += (k - n) * self._scanner.frame_len
            self.counters.frames += n
        else:
            self.counters.frames += k
        return link

    def _follows(self, columns: list[np.ndarray]) -> np.ndarray:
        """Do each frame's values follow the frame before it (see `follow`)?"""
        agree: np.ndarray | None = None
        # `columns` may go on with values only `_decode` wants (see `_follow_values`).
        follow = len(self.follow)
        for (missing, step), values, last in zip(
            self.follow, columns[:follow], self._last_values, strict=True
        ):
            previous = np.empty_like(values)
            previous[0] = last
            previous[1:] = values[:-1]
            near = np.abs(values - previous) <= step
            if not near.all():  # a jump: from or to "no value", it still follows
                near |= (values == missing) | (previous == missing)
            agree = near if agree is None else agree & near
        assert agree is not None  # `follow` names at least one value
        return agree

    def _follow_values(self, scan: FrameScan) -> list[np.ndarray]:
        """The raw values `_follows` checks, one signed integer column each (int16 holds
        every protocol's), in the order of `follow`; none: only contiguity links frames.
        After them may come anything else of each frame's (first axis: frames) that
        `_decode` wants: it gets all of them, for the frames taken, as `_taken_values`."""
        return []

    def _run_lengths(self, contiguous: np.ndarray) -> np.ndarray:
        """Length of the back-to-back run each frame ends, counting across feeds."""
        idx = np.arange(len(contiguous), dtype=np.int64)
        last_break = last_index_where(~contiguous)
        runs = np.where(last_break >= 0, idx - last_break + 1, self._run + idx + 1)
        self._run = int(runs[-1])
        return runs

    def _decode(self, scan: FrameScan) -> B:
        raise NotImplementedError

    def _believed_only(self, batch: B) -> B:
        believed, self._believed = self._believed, None
        return batch if believed is None else batch[believed]

    def feed(self, data: bytes) -> B:
        return self._believed_only(self._decode(self._scanner.scan(data)))

    def feed_run(self, datas: Sequence[bytes]) -> tuple[B, np.ndarray]:
        """The same as `feed` on each of `datas` in turn: (their batches joined, the frame
        count of each), in one pass unless overlapping candidates forbid it."""
        parts: list[tuple[B, np.ndarray]] = []
        while True:
            found = self._scanner.scan_run(datas)
            if not isinstance(found, int):
                break
            # Candidates overlap from feed `found` on: the feeds before it in one pass,
            # that one by itself (as one by one chooses), the rest again.
            if found:
                parts.append(self.feed_run(datas[:found]))
            parts.append(super().feed_run(datas[found : found + 1]))
            datas = datas[found + 1 :]
            if not datas:
                return self._joined(parts)
        scan, ends = found
        links = self._links
        decided_at = self._decided_at(links)
        batch = self._decode(scan)
        if self._believed is not None:
            decided_at = decided_at[self._believed]
        completed_by = ends.searchsorted(decided_at, side="left")
        whole = self._believed_only(batch), np.bincount(completed_by, minlength=len(datas))
        return self._joined([*parts, whole]) if parts else whole

    @staticmethod
    def _joined(parts: list[tuple[B, np.ndarray]]) -> tuple[B, np.ndarray]:
        if len(parts) == 1:
            return parts[0]
        batches = [batch for batch, _ in parts]
        return batches[0].concat(batches), np.concatenate([counts for _, counts in parts])

    def _decided_at(self, links: _Links | None) -> np.ndarray:
        """For each frame taken from a scan, the scan offset whose arrival decided it: fed
        one by one, it comes out of the feed that brings that byte. A frame is decided
        once its `hold_frames`-th follower is in, or once the slot after the last frame
        of its run could be tested (all of it in), whichever tells first."""
        if links is None:
            return np.empty(0, dtype=np.int64)
        frame_len = self._scanner.frame_len
        starts, take, hold = links.starts, links.take, self.hold_frames
        if hold == 0:
            return starts[:take] + frame_len
        k = len(starts)
        breaks = np.where(links.link, k, np.arange(k, dtype=np.int64))
        next_break = np.empty(k, dtype=np.int64)
        next_break[-1] = k
        next_break[:-1] = np.minimum.accumulate(breaks[::-1])[::-1][1:]
        idx = np.arange(take, dtype=np.int64)
        last = np.minimum(next_break[:take] - 1, idx + hold)  # the run's last frame seen
        at = starts[last] + frame_len
        ended = last < idx + hold  # the run ended before `hold` more frames came
        at[ended] += frame_len  # ... known once the next slot is whole
        return at


def whole_or_missing(values: np.ndarray, missing: int, top: int) -> np.ndarray:
    """Values as whole numbers for a byte field: NaN, and anything outside 0..top (which
    the field cannot carry), become the protocol's `missing` code."""
    out = np.nan_to_num(values, nan=missing).round().astype(np.int64)
    out[(out < 0) | (out > top)] = missing
    return out


def pleth_field(pleth: np.ndarray, low: int, high: int) -> np.ndarray:
    """Pleth samples rounded and clipped to the field's range; no sample (NaN) as 0."""
    return np.clip(np.nan_to_num(pleth, nan=0.0).round(), low, high).astype(np.int64)


class RowEncoder(OximeterEncoder):
    """Base of the oximeter encoders: an empty batch is no bytes; a subclass turns the
    rows (their flags already as int64) into its frames."""

    pleth_max: ClassVar[int]

    def encode(self, batch: OximeterBatch) -> bytes:
        if len(batch) == 0:
            return b""
        return self._encode_rows(batch, batch.flags.astype(np.int64))

    def _encode_rows(self, batch: OximeterBatch, flags: np.ndarray) -> bytes:
        raise NotImplementedError
