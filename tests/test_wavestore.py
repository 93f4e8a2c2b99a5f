from __future__ import annotations

import numpy as np

from monitor.wavestore import GappedWave


def test_back_to_back_samples_have_no_gap() -> None:
    wave = GappedWave(rate_hz=10.0, seconds=10)
    wave.append(np.ones(10), t=1.0)
    wave.append(np.ones(10), t=2.0)
    values, _ = wave.ring.snapshot()
    assert len(values) == 20 and np.all(np.isfinite(values))


def test_a_pause_becomes_nan_of_its_length() -> None:
    wave = GappedWave(rate_hz=10.0, seconds=10)
    wave.append(np.ones(10), t=1.0)
    wave.append(np.ones(10), t=3.0)  # a second of silence before these
    values, _ = wave.ring.snapshot()
    assert np.count_nonzero(np.isnan(values)) == 10
    assert np.all(np.isfinite(values[-10:]))


def test_silence_pads_the_sweep_and_forget_starts_afresh() -> None:
    wave = GappedWave(rate_hz=10.0, seconds=10)
    wave.append(np.ones(5), t=0.5)
    wave.pad_until(0.7)  # within the tolerance: nothing yet
    assert wave.ring.total_written == 5
    wave.pad_until(1.5)
    assert wave.ring.total_written == 15
    wave.forget()
    wave.append(np.ones(5), t=9.0)  # after a link drop: no gap back to 1.5 s
    assert wave.ring.total_written == 20
