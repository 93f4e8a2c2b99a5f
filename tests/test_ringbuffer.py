from __future__ import annotations

import numpy as np

from monitor.ringbuffer import RingBuffer


def test_snapshot_in_order_before_wrap() -> None:
    ring = RingBuffer(10)
    ring.extend(np.arange(4))
    values, total = ring.snapshot()
    assert values.tolist() == [0, 1, 2, 3]
    assert total == 4


def test_wrap_around_keeps_newest_oldest_first() -> None:
    ring = RingBuffer(5)
    for start in range(0, 12, 3):
        ring.extend(np.arange(start, start + 3))
    values, total = ring.snapshot()
    assert values.tolist() == [7, 8, 9, 10, 11]
    assert total == 12
    assert len(ring) == 5


def test_snapshot_of_last_n_across_the_seam() -> None:
    ring = RingBuffer(6)
    ring.extend(np.arange(9))  # write index now at 3
    values, _ = ring.snapshot(4)
    assert values.tolist() == [5, 6, 7, 8]


def test_capacity_bound_with_a_huge_write() -> None:
    ring = RingBuffer(8)
    ring.extend(np.arange(1000))
    values, total = ring.snapshot(100)
    assert len(values) == 8
    assert values.tolist() == list(range(992, 1000))
    assert total == 1000
    assert ring._data.nbytes == 8 * 4


def test_snapshot_is_a_copy() -> None:
    ring = RingBuffer(4)
    ring.extend(np.array([1.0, 2.0]))
    values, _ = ring.snapshot()
    values[0] = 99
    assert ring.snapshot()[0][0] == 1.0
