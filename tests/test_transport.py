"""The link: quality verdicts in data time, two-way start/keep-alive, and real ports coming
and going (a pty behind a symlink that vanishes and comes back as a new pty; a TCP
socket dropped and restored). Real ptys, a real local TCP server, real pyserial."""

from __future__ import annotations

import numpy as np

from drivers.columns import feed_run
from drivers.contec import KEEPALIVE, START_REALTIME, Contec7Decoder
from drivers.linkquality import LinkQuality
from drivers.registry import make_encoder
from drivers.types import LinkEvent, LinkState, OximeterBatch
from monitor.channels import RunShare
from monitor.channels.oximeter import OximeterChannel
from monitor.commands import CommandBus

# --- link quality, no threads ------------------------------------------------


def test_link_quality_silent_garbage_and_back() -> None:
    quality = LinkQuality(silent_after_s=2.0, garbage_after_s=2.0)
    assert quality.check(100.0) == []  # not watching before the link is up
    quality.link_up(0.0)
    assert quality.observe(50, 10, 0.5) == []
    assert quality.check(2.4) == []
    assert quality.check(2.6) == [(LinkState.SILENT, "no bytes for 2.1 s")]
    assert quality.check(5.0) == []  # reported once
    assert quality.observe(40, 8, 5.1) == [(LinkState.UP, "valid frames again")]
    assert quality.observe(40, 0, 6.0) == []
    changes = quality.observe(40, 0, 7.2)
    assert [state for state, _ in changes] == [LinkState.GARBAGE]
    assert quality.observe(40, 3, 7.3) == [(LinkState.UP, "valid frames again")]
    quality.link_down()
    assert quality.check(60.0) == []  # the transport already said "down"


def test_link_quality_thresholds_follow_the_frame_rate() -> None:
    assert LinkQuality.for_rate(75.0).silent_after_s == 2.0
    assert LinkQuality.for_rate(1.0).silent_after_s == 3.0  # three missed 1 s frames


def make_channel(protocol: str) -> tuple[OximeterChannel, list[dict], list[bytes]]:
    records: list[dict] = []
    written: list[bytes] = []

    def write(data: bytes) -> bool:
        written.append(data)
        return True

    channel = OximeterChannel("oximeter", protocol, records.append, write, CommandBus())
    return channel, records, written


def up(t: float) -> LinkEvent:
    return LinkEvent("/dev/x", LinkState.UP, "opened", t)


def test_channel_reports_garbage_then_silence_in_data_time() -> None:
    channel, records, _ = make_channel("nonin2")
    channel.on_link(up(0.0), 0.0)
    good = make_encoder("nonin2").encode(OximeterBatch.constant(75, [9] * 75, 97, 70))
    channel.feed(good, 1.0)
    noise = bytes(range(0x02, 0x80)) * 2  # never a Nonin frame
    for step in range(1, 31):
        channel.feed(noise, 1.0 + step * 0.1)
        channel.tick(1.0 + step * 0.1)
    for step in range(1, 31):
        channel.tick(4.0 + step * 0.1)
    states = [(r["state"], r["t"]) for r in records if r["kind"] == "link"]
    assert states == [("garbage", 3.0), ("silent", 6.0)]
    assert all(r["channel"] == "oximeter" and r["detail"] for r in records)


def test_two_way_channel_starts_the_device_and_keeps_it_alive() -> None:
    channel, _, written = make_channel("contec7")
    interval = Contec7Decoder.keepalive_interval_s
    assert 0 < interval <= 5.0
    channel.on_link(up(10.0), 10.0)
    assert written == [START_REALTIME]
    t = 10.0
    sent_at = []
    while t < 30.0:
        t = round(t + 0.1, 3)
        count = len(written)
        channel.tick(t)
        if len(written) > count:
            sent_at.append(t)
    assert written[1:] == [KEEPALIVE] * len(sent_at)
    gaps = np.diff([10.0, *sent_at])
    assert len(sent_at) >= 4 and gaps.max() <= 5.0
    channel.on_link(LinkEvent("/dev/x", LinkState.DOWN, "lost", 30.0), 30.0)
    channel.tick(40.0)
    assert written[-1] == KEEPALIVE and len(written) == 1 + len(sent_at)  # none while down
    channel.on_link(up(41.0), 41.0)
    assert written[-1] == START_REALTIME  # re-sent on every reopen


def test_a_run_sends_the_keepalives_that_one_chunk_at_a_time_sends() -> None:
    encoder = make_encoder("contec7")
    chunks = [
        (round(10.0 + 0.04 * i, 3), encoder.encode(OximeterBatch.constant(60, [50] * 2, 97, 70)))
        for i in range(1, 400)
    ]
    one_by_one, _, sent_singly = make_channel("contec7")
    in_runs, _, sent_in_runs = make_channel("contec7")
    for channel in (one_by_one, in_runs):
        channel.on_link(up(10.0), 10.0)
    for t, data in chunks:
        one_by_one.feed(data, t)
        one_by_one.tick(t)
    for at in range(0, len(chunks), 25):
        run = chunks[at : at + 25]
        batch, counts = feed_run(in_runs.decoder, [data for _, data in run])
        times = [t for t, _ in run]
        share = RunShare(batch, counts.tolist(), [len(d) for _, d in run], times)
        assert in_runs.can_absorb(share, times)
        in_runs.absorb(share, times)
    assert len(sent_singly) > 3 and sent_in_runs == sent_singly
    later = chunks[-1][0] + 1.0
    assert in_runs.snapshot(later) == one_by_one.snapshot(later)
