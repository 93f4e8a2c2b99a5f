from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.types import OximeterBatch, OximeterFlag
from monitor.channels import RunShare
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


@given(
    feeds=st.lists(
        st.tuples(
            st.lists(st.sampled_from([0, int(OximeterFlag.SENSOR_OFF)]), max_size=4),
            st.floats(0.01, 0.5),
        ),
        min_size=1,
        max_size=12,
    ),
    already_untrusted=st.booleans(),
)
def test_a_run_in_one_step_leaves_what_its_feeds_one_by_one_leave(
    feeds: list[tuple[list[int], float]], already_untrusted: bool
) -> None:
    one_by_one, in_one_step = OximeterNumerics(), OximeterNumerics()
    first = batch(96, OximeterFlag.SENSOR_OFF if already_untrusted else 0)
    for numerics in (one_by_one, in_one_step):
        numerics.update(first, t=0.5)
    parts, counts, times = [], [], []
    t = 1.0
    for flags, step in feeds:
        t += step
        part = OximeterBatch.constant(75.0, [1.0] * len(flags), 90 + len(parts) % 5, 70)
        part.flags[:] = flags
        one_by_one.update(part, t)
        parts.append(part)
        counts.append(len(flags))
        times.append(t)
    share = RunShare(OximeterBatch.concat(parts), counts, times)
    in_one_step.update_run(share.batch, share.last_rows(), share.frame_times())
    for later in (0.0, 0.3, 2.5, 9.9, 10.2, 12.0):
        assert in_one_step.snapshot(t + later) == one_by_one.snapshot(t + later)
    for at in times:  # a time inside the run tells when the untrusting began
        assert in_one_step.snapshot(at + 10.0) == one_by_one.snapshot(at + 10.0)
