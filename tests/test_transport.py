"""The link: quality verdicts in data time, two-way start/keep-alive, and real ports coming
and going (a pty behind a symlink that vanishes and comes back as a new pty; a TCP
socket dropped and restored). Real ptys, a real local TCP server, real pyserial."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from drivers.contec import KEEPALIVE, START_REALTIME, Contec7Decoder
from drivers.errors import PortSpecError
from drivers.linkquality import LinkQuality
from drivers.registry import PROTOCOLS, make_decoder, make_encoder, parse_port_spec
from drivers.transport import SerialTransport
from drivers.types import LinkEvent, LinkState, OximeterBatch
from monitor.channels import ChannelRun, RunShare
from monitor.channels.oximeter import OximeterChannel
from monitor.commands import CommandBus
from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.sources import SerialSource
from simulator.serve import PtyEndpoint, open_pty

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
        batch, counts = in_runs.decoder.feed_run([data for _, data in run])
        times = [t for t, _ in run]
        share = RunShare(batch, counts.tolist(), times)
        datas = [data for _, data in run]
        in_runs.take_run(ChannelRun(times, list(range(len(run))), datas, times, share))
        in_runs.tick(times[-1])  # the pipeline ticks every channel at a run's end
    assert len(sent_singly) > 3 and sent_in_runs == sent_singly
    later = chunks[-1][0] + 1.0
    assert in_runs.snapshot(later) == one_by_one.snapshot(later)


@pytest.mark.parametrize(("protocol", "fmt"), [("nonin2", 2), ("nonin7", 7), ("nonin8", 8)])
def test_nonin_selects_its_format_on_open_and_nothing_more(protocol: str, fmt: int) -> None:
    channel, _, written = make_channel(protocol)
    channel.on_link(up(0.0), 0.0)
    for step in range(100):
        channel.tick(step * 0.1)
    assert written == [bytes([0x02, 0x70, 0x02, 0x02, fmt, 0x03])]


@pytest.mark.parametrize("protocol", ["contec", "berry", "masimo"])
def test_one_way_channel_never_writes(protocol: str) -> None:
    channel, _, written = make_channel(protocol)
    channel.on_link(up(0.0), 0.0)
    for step in range(100):
        channel.tick(step * 0.1)
    assert written == []


@pytest.mark.parametrize(
    ("spec", "baud", "parity"),
    [
        ("contec:/dev/ttyUSB0", 4800, "O"),
        ("contec:/dev/ttyUSB0?baud=19200&parity=O", 19200, "O"),
        ("contec7:COM3", 115200, "N"),
        ("berry:/dev/ttyUSB1?parity=e", 9600, "E"),
        ("nonin8:/dev/ttyUSB0", 9600, "N"),
        ("masimo:socket://127.0.0.1:7000?baud=19200", 19200, "N"),
    ],
)
def test_port_spec_line_defaults_and_overrides(spec: str, baud: int, parity: str) -> None:
    parsed = parse_port_spec(spec, "oximeter")
    assert parsed.line.baudrate == baud and parsed.line.parity == parity
    assert "baud" not in parsed.url and "parity" not in parsed.url


def test_a_url_keeps_its_own_options_and_a_device_path_refuses_unknown_ones() -> None:
    parsed = parse_port_spec("nonin2:socket://127.0.0.1:7000?logging=debug&baud=4800")
    assert parsed.url == "socket://127.0.0.1:7000?logging=debug"
    assert parsed.line.baudrate == 4800
    with pytest.raises(PortSpecError, match="unknown port option 'bogus'"):
        parse_port_spec("nonin2:/dev/ttyUSB0?bogus=1")


# --- real ports ---------------------------------------------------------------


class Collector:
    """Decodes what a transport delivers; keeps link events and decoded frames, timed."""

    def __init__(self, protocol: str) -> None:
        self.decoder = make_decoder(protocol)
        self.events: list[tuple[float, LinkState]] = []
        self.frames: list[tuple[float, object]] = []
        self.lock = threading.Lock()

    def on_data(self, data: bytes, host_t: float) -> None:
        batch = self.decoder.feed(data)
        with self.lock:
            self.frames.extend((host_t, f) for f in batch)

    def on_link(self, event: LinkEvent) -> None:
        if event.state is not LinkState.UP:
            self.decoder.reset()
        with self.lock:
            self.events.append((time.monotonic(), event.state))

    def wait_for(self, test: Callable[[], bool], timeout: float) -> float:
        """Seconds it took until `test()` held; fails the test on timeout."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            with self.lock:
                if test():
                    return time.monotonic() - start
            time.sleep(0.01)
        raise AssertionError(f"not within {timeout} s; events {self.events}")


class Feeder:
    """A device: writes the encoder's frames for fixed values, paced, until stopped."""

    def __init__(self, send: Callable[[bytes], object], protocol: str, pr: int) -> None:
        self._send = send
        self._encoder = make_encoder(protocol)
        self._pr = pr
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rate = self._encoder.sample_rate_hz
        rows = max(1, int(rate * 0.05))
        while not self._stop.is_set():
            batch = OximeterBatch.constant(rate, [20] * rows, 96, self._pr, 2.0)
            with contextlib.suppress(OSError):
                self._send(self._encoder.encode(batch))
            self._stop.wait(0.05 if rate > 10 else 0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def pty_sender(endpoint: PtyEndpoint) -> Callable[[bytes], None]:
    return endpoint.send


@pytest.mark.slow
@pytest.mark.parametrize(
    "protocol", sorted(name for name, info in PROTOCOLS.items() if info.kind == "oximeter")
)
def test_each_protocol_end_to_end_over_a_pty(protocol: str) -> None:
    endpoint = open_pty("oximeter", protocol)
    spec = parse_port_spec(f"{protocol}:{endpoint.path}")
    collector = Collector(protocol)
    transport = SerialTransport(spec.url, spec.line, collector.on_data, collector.on_link)
    transport.start()
    feeder = Feeder(pty_sender(endpoint), protocol, pr=77)
    try:
        collector.wait_for(
            lambda: any(f.pulse_rate_bpm == 77 for _, f in collector.frames), timeout=5
        )
    finally:
        feeder.stop()
        transport.close()
        endpoint.close()
    values = {(f.pulse_rate_bpm, f.spo2_percent) for _, f in collector.frames}
    assert values <= {(77.0, 96.0), (None, None), (None, 96.0)}
    assert collector.decoder.counters.frames > 0


@pytest.mark.slow
def test_usb_pull_symlink_vanishes_and_comes_back_as_a_new_pty(tmp_path: Path) -> None:
    link = tmp_path / "ttyUSB0"
    first = open_pty("oximeter", "nonin2")
    os.symlink(first.path, link)
    collector = Collector("nonin2")
    transport = SerialTransport(
        str(link), PROTOCOLS["nonin2"].line, collector.on_data, collector.on_link
    )
    transport.start()
    feeder = Feeder(pty_sender(first), "nonin2", pr=71)
    second: PtyEndpoint | None = None
    try:
        collector.wait_for(lambda: any(f.pulse_rate_bpm == 71 for _, f in collector.frames), 5)
        # Pull: the device file disappears and the device with it.
        feeder.stop()
        link.unlink()
        first.close()
        pulled = time.monotonic()
        took = collector.wait_for(
            lambda: any(s is LinkState.DOWN for _, s in collector.events), 2.0
        )
        assert took <= 2.0
        time.sleep(0.8)  # reconnect attempts fail meanwhile: nothing must appear
        with collector.lock:
            assert all(t < pulled for t, _ in collector.frames)
            assert collector.events[-1][1] is LinkState.RECONNECTING
        # Plug back in: the same name now points at a NEW pty.
        second = open_pty("oximeter", "nonin2")
        os.symlink(second.path, link)
        feeder = Feeder(pty_sender(second), "nonin2", pr=88)
        replugged = time.monotonic()
        took = collector.wait_for(
            lambda: any(f.pulse_rate_bpm == 88 for _, f in collector.frames), 5.0
        )
        assert took <= 5.0
    finally:
        feeder.stop()
        transport.close()
        if second is not None:
            second.close()
    states = [s for _, s in collector.events]
    assert states[:3] == [LinkState.UP, LinkState.DOWN, LinkState.RECONNECTING]
    assert LinkState.UP in states[3:]
    # Nothing invented: before the pull only 71, after the replug only 88, nothing between.
    for t, frame in collector.frames:
        if frame.pulse_rate_bpm is None:
            continue
        assert frame.pulse_rate_bpm == (71 if t < pulled else 88)
        assert not pulled <= t < replugged


class FlakyServer:
    """A TCP device on 127.0.0.1: serves frames to one client; can vanish and come back."""

    def __init__(self) -> None:
        self.port = self._listen(0)

    def _listen(self, port: int) -> int:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(1)
        self._sock.settimeout(5)
        return self._sock.getsockname()[1]

    def serve(self, pr: int) -> tuple[socket.socket, Feeder]:
        conn, _ = self._sock.accept()
        return conn, Feeder(conn.sendall, "nonin2", pr)

    def vanish(self, conn: socket.socket, feeder: Feeder) -> None:
        feeder.stop()
        conn.close()
        self._sock.close()

    def come_back(self) -> None:
        self._listen(self.port)

    def close(self) -> None:
        self._sock.close()


@pytest.mark.slow
def test_socket_link_dropped_and_restored() -> None:
    server = FlakyServer()
    collector = Collector("nonin2")
    url = f"socket://127.0.0.1:{server.port}"
    transport = SerialTransport(url, PROTOCOLS["nonin2"].line, collector.on_data, collector.on_link)
    accepted: list[tuple[socket.socket, Feeder]] = []
    threading.Thread(target=lambda: accepted.append(server.serve(61)), daemon=True).start()
    transport.start()
    try:
        collector.wait_for(lambda: any(f.pulse_rate_bpm == 61 for _, f in collector.frames), 5)
        server.vanish(*accepted[0])
        dropped = time.monotonic()
        collector.wait_for(lambda: any(s is LinkState.DOWN for _, s in collector.events), 2.0)
        time.sleep(0.5)
        server.come_back()
        threading.Thread(target=lambda: accepted.append(server.serve(62)), daemon=True).start()
        collector.wait_for(lambda: any(f.pulse_rate_bpm == 62 for _, f in collector.frames), 5)
    finally:
        transport.close()
        for conn, feeder in accepted:
            feeder.stop()
            conn.close()
        server.close()
    for t, frame in collector.frames:
        if frame.pulse_rate_bpm is not None:
            assert frame.pulse_rate_bpm == (61 if t < dropped else 62)


@pytest.mark.slow
def test_contec7_peer_sees_start_then_keepalives_over_a_pty(monkeypatch) -> None:
    monkeypatch.setattr(Contec7Decoder, "keepalive_interval_s", 0.3)
    endpoint = open_pty("oximeter", "contec7")
    source = SerialSource({"oximeter": parse_port_spec(f"contec7:{endpoint.path}")})
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    runner = PipelineRunner(source, pipeline)
    runner.start()
    received = b""
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and received.count(KEEPALIVE) < 2:
            with contextlib.suppress(BlockingIOError, OSError):
                received += os.read(endpoint.master_fd, 4096)
            time.sleep(0.02)
        # The device answers with data, which flows through the pipeline.
        packets = make_encoder("contec7").encode(
            OximeterBatch.constant(60, [30] * 120, 95, 66, 1.5)
        )
        endpoint.send(packets)
        deadline = time.monotonic() + 5
        while (
            time.monotonic() < deadline
            and pipeline.oximeter.snapshot(pipeline.t).pulse_rate.value != 66
        ):
            time.sleep(0.02)
    finally:
        runner.stop()
        endpoint.close()
    assert received.startswith(START_REALTIME)
    assert received[len(START_REALTIME) :].startswith(KEEPALIVE * 2)
    snap = pipeline.oximeter.snapshot(pipeline.t)
    assert snap.pulse_rate.value == 66 and snap.perfusion_index.value == pytest.approx(1.5)


@pytest.mark.slow
def test_bytes_queued_before_open_are_not_stamped_as_new() -> None:
    endpoint = open_pty("oximeter", "nonin2")
    stale = make_encoder("nonin2").encode(OximeterBatch.constant(75, [5] * 75, 90, 55))
    endpoint.send(stale)  # waiting in the tty since before we opened it
    collector = Collector("nonin2")
    transport = SerialTransport(
        endpoint.path, PROTOCOLS["nonin2"].line, collector.on_data, collector.on_link
    )
    transport.start()
    feeder = Feeder(pty_sender(endpoint), "nonin2", pr=99)
    try:
        collector.wait_for(lambda: any(f.pulse_rate_bpm == 99 for _, f in collector.frames), 5)
    finally:
        feeder.stop()
        transport.close()
        endpoint.close()
    assert all(f.pulse_rate_bpm != 55 for _, f in collector.frames)


def test_a_trickling_line_is_handed_on_in_gathered_pieces_with_nothing_lost() -> None:
    """A real 9600-baud device delivers a byte or so per read; each hand-over becomes a
    chunk the pipeline and the recording carry, so the transport gathers ~20 ms."""
    endpoint = open_pty("oximeter", "nonin2")
    pieces: list[tuple[bytes, float]] = []
    transport = SerialTransport(
        endpoint.path, PROTOCOLS["nonin2"].line, lambda d, t: pieces.append((d, t)), lambda e: None
    )
    transport.start()
    sent = bytes(range(256)) * 2
    try:
        start = time.monotonic()
        for i in range(0, len(sent), 2):  # two bytes a millisecond, as 9600 baud would
            endpoint.send(sent[i : i + 2])
            time.sleep(0.001)
        took = time.monotonic() - start
        deadline = time.monotonic() + 2
        while sum(len(d) for d, _ in pieces) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        transport.close()
        endpoint.close()
    assert b"".join(d for d, _ in pieces) == sent
    assert len(pieces) <= took / 0.02 + 3, (len(pieces), took)
    times = [t for _, t in pieces]
    assert times == sorted(times)


@pytest.mark.slow
def test_a_flood_faster_than_the_reads_is_still_handed_over_in_time() -> None:
    """Noise at 96 000 B/s on a socket (pyserial reads a socket a byte at a time): the
    gathering once never ended, nothing was handed over, and the link said `silent` while
    bytes poured in. Now what gathered goes on at least every MAX_GATHER_S (plus a read)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def flood() -> None:
        conn, _ = listener.accept()
        rng = np.random.default_rng(3)
        with conn:
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    conn.sendall(rng.integers(0, 256, 4800, dtype=np.uint8).tobytes())
                time.sleep(0.05)

    threading.Thread(target=flood, daemon=True).start()
    times: list[float] = []
    url = f"socket://127.0.0.1:{listener.getsockname()[1]}"
    transport = SerialTransport(
        url, PROTOCOLS["nonin2"].line, lambda d, t: times.append(time.monotonic()), lambda e: None
    )
    transport.start()
    try:
        time.sleep(2.0)
    finally:
        stop.set()
        transport.close()
        listener.close()
    assert len(times) >= 10, times
    assert max(np.diff(times)) < 0.5, np.diff(times)  # the link watch's 2 s is far off
