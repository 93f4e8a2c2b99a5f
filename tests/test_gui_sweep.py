"""The sweep drawn in pieces: after any run of refreshes every piece on screen holds its
part of the row, so nothing stale stays drawn."""

from __future__ import annotations

import numpy as np

from monitor.ringbuffer import RingBuffer
from monitor.ui.waveform import SweepPlot


def _stale_pieces(plot: SweepPlot) -> list[int]:
    """The pieces whose curve does not hold their columns of the row (each draws its
    own and the next one's first; one with no sample draws nothing)."""
    stale = []
    for k, curve in enumerate(plot.curves):
        first = k * 25  # 50 Hz, pieces of 0.5 s below
        want = plot.row[first : first + 26]
        x, y = curve.getData()
        if np.isnan(want).all():
            ok = x is None or len(x) == 0
        else:
            ok = len(y) == len(want) and np.array_equal(y, want, equal_nan=True)
        if not ok:
            stale.append(k)
    return stale


def test_the_pieces_on_screen_always_hold_the_row(qtbot) -> None:
    ring = RingBuffer(1000)
    plot = SweepPlot(ring, 50.0, "#00ffff", seconds=4.0)  # 200 columns, pieces of 25
    qtbot.addWidget(plot)
    plot.show()
    rng = np.random.default_rng(7)
    # Whole pieces first (each write starts a piece, where the piece before it ends),
    # then any lengths: the head goes round more than once, with gaps of silence.
    for step in range(70):
        n = 25 if step < 10 else int(rng.integers(1, 40))
        values = rng.normal(size=n).astype(np.float32)
        if step % 9 == 4:
            values[:] = np.nan
        ring.extend(values)
        plot.refresh()
        assert _stale_pieces(plot) == []
    assert 0 < plot.finite_points() < plot.width_samples  # the erase bar stays blank
