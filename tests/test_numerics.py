from __future__ import annotations

from drivers.types import OximeterBatch, OximeterFlag
from monitor.numerics import OximeterNumerics, ValueState


def batch(spo2: float | None, flags: int = 0) -> OximeterBatch:
    return OximeterBatch.constant(75.0, [100.0], spo2, 70, None, flags)


def test_valid_then_sensor_off_greys_then_dashes_after_ten_seconds() -> None:
    numerics = OximeterNumerics()
    numerics.update(batch(97), t=1.0)
    assert numerics.snapshot(1.0).spo2.state is ValueState.VALID
    numerics.update(batch(97, OximeterFlag.SENSOR_OFF), t=2.0)
    held = numerics.snapshot(11.9).spo2
    assert held.state is ValueState.STALE and held.value == 97
    gone = numerics.snapshot(12.1).spo2
    assert gone.state is ValueState.MISSING and gone.value is None


def test_quiet_line_goes_stale_then_missing() -> None:
    numerics = OximeterNumerics()
    numerics.update(batch(95), t=5.0)
    assert numerics.snapshot(6.9).spo2.state is ValueState.VALID
    assert numerics.snapshot(7.5).spo2.state is ValueState.STALE
    assert numerics.snapshot(15.5).spo2.state is ValueState.MISSING


def test_no_value_is_missing() -> None:
    numerics = OximeterNumerics()
    numerics.update(batch(None), t=1.0)
    assert numerics.snapshot(1.0).spo2.value is None
