"""The fixed-frame machinery's shortcuts give what the long way gives.

A scan's frames as rows are a view of the bytes when back to back and a gather when
not; the checksum-failure count may look at counts first only because every protocol's
frame test marks a frame valid only where it marks a header; a jump in a followed value
breaks a run unless it comes from or goes to "no value".
"""

from __future__ import annotations

import numpy as np
import pytest

from drivers import contec, nonin, nonin8, simresp
from drivers.fixedframe import FrameScan, FrameTest
from drivers.registry import make_decoder

FRAME_TESTS: dict[str, tuple[FrameTest, int]] = {
    "contec": (contec.five_byte_frames, contec.FRAME_LEN),
    "contec7": (contec.v7_packets, contec.PACKET_LEN),
    "nonin2": (nonin.format2_frames, nonin.FRAME_LEN),
    "nonin7": (nonin.format7_frames, nonin.FRAME_LEN),
    "nonin8": (nonin8.find_frames, nonin8.FRAME_LEN),
    "simresp": (simresp.resp_frames, simresp.FRAME_LEN),
}


def _gathered(buf: np.ndarray, starts: np.ndarray, frame_len: int) -> np.ndarray:
    return buf[starts[:, None] + np.arange(frame_len)]


def test_rows_of_back_to_back_frames_are_a_view_and_the_same_bytes() -> None:
    buf = np.arange(40, dtype=np.uint8)
    scan = FrameScan(buf, np.array([3, 8, 13, 18]), 0, 5)
    assert scan.back_to_back()
    rows = scan.rows()
    assert rows.base is not None and np.shares_memory(rows, buf)
    assert np.array_equal(rows, _gathered(buf, scan.starts, 5))
    head = scan.head(2)
    assert np.array_equal(head.rows(), rows[:2]) and head.starts.tolist() == [3, 8]


def test_rows_of_frames_with_a_gap_are_gathered() -> None:
    buf = np.arange(40, dtype=np.uint8)
    scan = FrameScan(buf, np.array([0, 5, 11, 16]), 0, 5)  # a byte between 2nd and 3rd
    assert not scan.back_to_back()
    assert np.array_equal(scan.rows(), _gathered(buf, scan.starts, 5))
    empty = FrameScan(buf, np.empty(0, dtype=np.int64), 0, 5)
    assert not empty.back_to_back() and empty.rows().shape == (0, 5)


@pytest.mark.parametrize("name", sorted(FRAME_TESTS))
def test_a_frame_test_marks_valid_only_where_it_marks_a_header(name: str) -> None:
    test, frame_len = FRAME_TESTS[name]
    rng = np.random.default_rng(3)
    for _ in range(20):
        buf = rng.integers(0, 256, 4000, dtype=np.uint8)
        header, valid = test(buf, len(buf) - frame_len + 1)
        assert not np.any(valid & ~header)


@pytest.mark.parametrize(
    ("protocol", "missing", "step"),
    [
        ("contec", contec.SPO2_INVALID, contec.FOLLOW_SPO2_PERCENT),
        ("nonin8", nonin8.SPO2_MISSING, nonin8.FOLLOW_SPO2_PERCENT),
    ],
)
def test_a_jump_follows_only_from_or_to_no_value(protocol: str, missing: int, step: int) -> None:
    decoder = make_decoder(protocol)
    spo2 = np.array([95, 95 + step, 95, missing, 60, missing, missing, 95 - step - 1], np.int16)
    pr = np.full(len(spo2), 70, dtype=np.int16)
    decoder._last_values = [95, 70]  # the frame before: SpO2 95, rate 70
    follows = decoder._follows([spo2, pr])
    assert follows.tolist() == [True, True, True, True, True, True, True, True]
    jumps = np.array([95, 95 + step + 1, 60, 95], np.int16)
    follows = decoder._follows([jumps, np.full(4, 70, dtype=np.int16)])
    assert follows.tolist() == [True, False, False, False]
    pr_jump = np.array([70, 70, 200, 200], np.int16)
    follows = decoder._follows([np.full(4, 95, dtype=np.int16), pr_jump])
    assert follows.tolist() == [True, True, False, True]
