"""The sweep kept in pieces: after any run of refreshes every piece's path is the one
its part of the row makes, and every column that changed is repainted."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF

from monitor.ringbuffer import RingBuffer
from monitor.ui.waveform import SweepPlot, SweepTrace

RATE_HZ, PIECE = 50.0, 25  # SEGMENT_S = 0.5 s


def _stale_pieces(trace: SweepTrace) -> list[int]:
    """Pieces whose path is not the one made now from their columns of the row (each
    draws its own and the next one's first; one with no sample draws nothing)."""
    stale = []
    x = np.arange(len(trace.row)) / RATE_HZ
    for k, path in enumerate(trace.paths):
        part = slice(k * PIECE, k * PIECE + PIECE + 1)
        if np.isnan(trace.row[part]).all():
            ok = path is None
        else:
            ok = path is not None and path == pg.arrayToQPath(
                x[part], trace.row[part], connect="finite"
            )
        if not ok:
            stale.append(k)
    return stale


def test_the_pieces_always_hold_the_row_and_what_changed_is_repainted(qtbot) -> None:
    ring = RingBuffer(1000)
    plot = SweepPlot(ring, RATE_HZ, "#00ffff", seconds=4.0)  # 200 columns, 8 pieces
    qtbot.addWidget(plot)
    plot.show()
    repainted: list[QRectF] = []
    update = plot.trace.update
    plot.trace.update = lambda *rect: (repainted.extend(rect), update(*rect))  # type: ignore[method-assign]
    rng = np.random.default_rng(7)
    # Whole pieces first (each write starts a piece, where the piece before it ends),
    # then any lengths: the head goes round more than once, with gaps of silence.
    for step in range(70):
        n = PIECE if step < 10 else int(rng.integers(1, 40))
        values = rng.normal(size=n).astype(np.float32)
        if step % 9 == 4:
            values[:] = np.nan
        before = plot.row.copy()
        repainted.clear()
        ring.extend(values)
        plot.refresh()
        assert _stale_pieces(plot.trace) == []
        changed = np.flatnonzero((before != plot.row) & ~(np.isnan(before) & np.isnan(plot.row)))
        unpainted = [
            c for c in changed if not any(r.left() <= c / RATE_HZ <= r.right() for r in repainted)
        ]
        assert unpainted == []
    assert 0 < plot.finite_points() < plot.width_samples  # the erase bar stays blank


def test_a_filled_sweep_fills_each_run_down_to_zero(qtbot) -> None:
    ring = RingBuffer(1000)
    plot = SweepPlot(ring, RATE_HZ, "#ffff00", seconds=4.0, fill="#fff59d55")
    qtbot.addWidget(plot)
    ring.extend(np.array([np.nan, 30.0, 40.0, np.nan, 35.0], dtype=np.float32))
    plot.refresh()
    fill = plot.trace._fills[0]
    assert fill is not None
    # two runs, each closed along the floor: (x0, 0), the samples, (x_last, 0)
    points = [
        (round(fill.elementAt(i).x * RATE_HZ), fill.elementAt(i).y)
        for i in range(fill.elementCount())
    ]
    assert points == [(1, 0.0), (1, 30.0), (2, 40.0), (2, 0.0), (4, 0.0), (4, 35.0), (4, 0.0)]
    assert [fill.elementAt(i).isMoveTo() for i in (0, 4)] == [True, True]
