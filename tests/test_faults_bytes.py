"""Faults on the byte stream, in data time through the real pipeline: garbage bursts, one
byte at a time, a backlog arriving in one burst, the wrong baud rate (bytes that never
frame), a line that goes silent. Each: the monitor goes on (a numerics record every
second), the right technical alarm at the time docs/clinical.md gives, and no value that
the device did not send (a held value greyed at most 10 s, then dashes)."""

from __future__ import annotations

import random

import pytest

from tests.faulthelp import alarms, feed_oximeter, frames, numerics, steady

PROTOCOLS = ("nonin2", "contec", "masimo")


def every_second(records: list[dict], end_t: float) -> None:
    assert [r["t"] for r in numerics(records)] == [float(t) for t in range(1, int(end_t) + 1)]


def only_device_values(records: list[dict], pr: set[int]) -> None:
    for r in numerics(records):
        assert r["pr"] in pr | {None}, r
        assert r["spo2"] in (97, None), r
        if r["spo2_state"] == "missing":
            assert r["spo2"] is None and r["pr"] is None


def held_at_most_10_s_after(records: list[dict], last_frame_t: float) -> None:
    """docs/clinical.md: a frozen value greyed at most 10 s, then dashes."""
    for r in numerics(records):
        age = r["t"] - last_frame_t
        if 2.0 < age <= 10.0:
            assert r["spo2_state"] == "stale", r
        if age > 10.0:
            assert r["spo2"] is None and r["spo2_state"] == "missing", r


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_garbage_bursts_cost_no_alarm_and_invent_nothing(protocol: str) -> None:
    rng = random.Random(7)
    clean = steady(protocol, 0.0, 30.0)
    bursts = [(t + 0.01, rng.randbytes(200)) for t in range(3, 30, 3)]
    records = feed_oximeter(protocol, clean + bursts, 30.0)
    every_second(records, 30.0)
    only_device_values(records, {72})
    assert not alarms(records, "OXIMETER_COMM_LOST")
    valid = [r for r in numerics(records) if r["spo2_state"] == "valid"]
    assert len(valid) >= 27  # a burst may cost the second it lands in, no more


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_one_byte_at_a_time_gives_the_same_numerics(protocol: str) -> None:
    data = frames(protocol, 10.0)
    per_byte = 10.0 / len(data)
    trickle = [(round((i + 1) * per_byte, 6), data[i : i + 1]) for i in range(len(data))]
    records = feed_oximeter(protocol, trickle, 10.0)
    every_second(records, 10.0)
    only_device_values(records, {72})
    assert all(r["spo2_state"] == "valid" for r in numerics(records)[1:])
    assert not [r for r in records if r["type"] == "alarm"]


def test_a_ten_second_backlog_in_one_burst() -> None:
    """A USB adapter that holds the line for 9.5 s, then hands over all of it at once."""
    held = frames("nonin2", 9.5, pr=74)
    pieces = [*steady("nonin2", 0.0, 3.0), (12.5, held), *steady("nonin2", 12.5, 20.0)]
    records = feed_oximeter("nonin2", pieces, 20.0)
    every_second(records, 20.0)
    only_device_values(records, {72, 74})
    link = [(r["t"], r["state"]) for r in records if r["type"] == "event" and r["kind"] == "link"]
    assert link[1:] == [(5.0, "silent"), (12.5, "up")]
    assert not alarms(records, "OXIMETER_COMM_LOST")  # 9.5 s < 10 s without a frame
    held_at_most_10_s_after([r for r in records if r["t"] < 12.5], 3.0)
    assert all(r["spo2_state"] == "valid" for r in numerics(records) if r["t"] >= 13)


def never_framing(protocol: str, rng: random.Random, size: int) -> bytes:
    """Bytes that arrive but do not frame in `protocol` (what a wrong baud rate gives).

    Contec frames have no checksum, only a sync bit: 1 random 5-byte window in 32
    frames. Every byte with its top bit set is a sync byte with no frame behind it."""
    data = rng.randbytes(size)
    return bytes(b | 0x80 for b in data) if protocol == "contec" else data


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_wrong_baud_rate_bytes_that_never_frame(protocol: str) -> None:
    rng = random.Random(3)
    noise = [(round(0.05 * i, 6), never_framing(protocol, rng, 48)) for i in range(1, 401)]
    records = feed_oximeter(protocol, noise, 20.0)
    every_second(records, 20.0)
    for r in numerics(records):  # never a value
        assert r["spo2"] is None and r["pr"] is None and r["spo2_state"] == "missing", r
    events = [(r["t"], r["state"]) for r in records if r["type"] == "event"]
    assert (2.0, "garbage") in events or (3.0, "garbage") in events
    onset = alarms(records, "OXIMETER_COMM_LOST")
    assert onset == [10.0]  # 10 s after the port opened (t=0)
    assert not alarms(records, "OXIMETER_COMM_LOST", "end")


def test_contec_random_noise_invents_no_value() -> None:
    rng = random.Random(3)
    noise = [(round(0.05 * i, 6), rng.randbytes(48)) for i in range(1, 201)]
    records = feed_oximeter("contec", noise, 10.0)
    assert all(r["pr"] is None for r in numerics(records))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_line_that_goes_silent_then_comes_back(protocol: str) -> None:
    pieces = steady(protocol, 0.0, 5.0) + steady(protocol, 25.0, 30.0, pr=80)
    records = feed_oximeter(protocol, pieces, 30.0)
    every_second(records, 30.0)
    only_device_values(records, {72, 80})
    last_frame = max(r["oximeter_last_frame_t"] for r in numerics(records) if r["t"] < 25)
    held_at_most_10_s_after([r for r in records if r["t"] < 25], last_frame)
    onset = alarms(records, "OXIMETER_COMM_LOST")
    assert len(onset) == 1 and onset[0] - last_frame == pytest.approx(10.0, abs=1.0)
    end = alarms(records, "OXIMETER_COMM_LOST", "end")
    assert len(end) == 1 and 25.0 <= end[0] <= 27.0
    assert numerics(records)[-1]["pr"] == 80
