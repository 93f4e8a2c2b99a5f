from __future__ import annotations

import numpy as np

from monitor.numerics import NumericReading, ValueState
from monitor.present.display import (
    DASHES,
    changed_columns,
    changed_segments,
    changed_spans,
    format_reading,
    reading_from_record,
    sweep_layout,
    sweep_scale,
)


def test_sweep_places_samples_by_absolute_index_with_erase_bar() -> None:
    samples = np.arange(1, 8, dtype=np.float32)  # absolute indices 5..11 of 12 written
    row, head = sweep_layout(samples, total_written=12, width=5, erase=1)
    # columns: 7->2, 8->3, 9->4, 10->0, 11->1 ; head 1, erase column 2
    assert head == 1
    assert row[0] == 6 and row[1] == 7 and row[3] == 4 and row[4] == 5
    assert np.isnan(row[2])


def test_sweep_keeps_gaps_as_nan() -> None:
    samples = np.array([1, np.nan, 3], dtype=np.float32)
    row, _ = sweep_layout(samples, total_written=3, width=10, erase=0)
    assert row[0] == 1 and np.isnan(row[1]) and row[2] == 3


def test_changed_segments_are_the_pieces_a_change_touches() -> None:
    before = np.array([1, 2, 3, 4, np.nan, np.nan, 7, 8, 9], dtype=np.float32)

    def pieces(after: np.ndarray) -> list[int]:
        return changed_segments(changed_columns(before, after), 3).tolist()

    assert pieces(before.copy()) == []  # NaN = NaN: no change
    after = before.copy()
    after[4] = 5  # inside piece 1
    assert pieces(after) == [1]
    after = before.copy()
    after[6] = np.nan  # piece 2's first column, which piece 1 draws too
    assert pieces(after) == [1, 2]
    after = before.copy()
    after[0] = 0  # the first column belongs to piece 0 alone
    assert pieces(after) == [0]


def test_changed_spans_reach_the_neighbours_of_each_run() -> None:
    assert changed_spans(np.array([], dtype=np.int64), 10) == []
    assert changed_spans(np.array([0, 1, 2, 6, 9]), 10) == [(0, 3), (5, 7), (8, 9)]


def test_missing_reading_is_dashes_and_stale_keeps_number() -> None:
    assert format_reading(NumericReading(None, ValueState.MISSING)).text == DASHES
    stale = format_reading(NumericReading(96.0, ValueState.STALE))
    assert stale.text == "96" and stale.state is ValueState.STALE


def test_sweep_scale_changes_only_when_the_wave_leaves_or_shrinks() -> None:
    row = np.array([0.0, np.nan, 10.0], dtype=np.float32)
    first = sweep_scale(row, None)
    assert first is not None and first[0] < 0 and first[1] > 10
    assert sweep_scale(np.array([1.0, 9.0]), first) is None  # inside: keep
    assert sweep_scale(np.array([0.0, 20.0]), first) is not None  # out of range
    assert sweep_scale(np.array([4.0, 5.0]), first) is not None  # fills under half
    assert sweep_scale(np.full(3, np.nan), first) is None  # a gap: keep


def test_reading_from_a_numerics_record() -> None:
    assert reading_from_record({"rr": None}, "rr").state is ValueState.MISSING
    stale = reading_from_record({"rr": 12, "rr_state": "stale"}, "rr")
    assert stale == NumericReading(12.0, ValueState.STALE)
    assert reading_from_record({"rr": 12}, "rr").state is ValueState.VALID
