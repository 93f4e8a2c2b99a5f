"""Shared by the fault-injection tests: a device the test controls, a monitor it watches.

`HeadlessMonitor` is the real `vitalmon run ... --headless` in a subprocess; every
JSON line it prints is kept with the host time it arrived, so a test can say
"OXIMETER_COMM_LOST 1.1 s after the pull" in wall time. `PacedDevice` writes a
protocol's real frames, paced like the device, to whatever the test hands it (a pty
master, a socket). `feed_oximeter` drives an in-process pipeline in data time for
the byte-level faults, where no wall clock is needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import subprocess
import threading
import time
import tty
from collections.abc import Callable, Iterable
from pathlib import Path

from drivers.registry import make_encoder
from drivers.types import LinkEvent, LinkState, OximeterBatch
from monitor.config import PipelineConfig, build_pipeline
from monitor.sources import Chunk
from tests.conftest import REPO, vitalmon_cmd

Record = dict


class HeadlessMonitor:
    """`vitalmon run ARGS --headless` in a subprocess; its records with arrival times."""

    def __init__(self, *args: str, command: str = "run") -> None:
        self.proc = subprocess.Popen(
            vitalmon_cmd(command, *args, "--headless"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self.records: list[tuple[float, Record]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            arrived = time.monotonic()
            with self._lock:
                self.records.append((arrived, json.loads(line)))

    def wait_for(self, test: Callable[[Record], bool], timeout: float, after: float = 0.0):
        """The first record arriving after host time `after` with `test(record)`: (arrival,
        record). Fails the test on timeout or if the monitor died."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            with self._lock:
                fresh = self.records[seen:]
                seen = len(self.records)
            for arrived, record in fresh:
                if arrived >= after and test(record):
                    return arrived, record
            if self.proc.poll() is not None and seen == len(self.records):
                raise AssertionError(f"monitor exited {self.proc.returncode}: {self.stderr()}")
            time.sleep(0.02)
        raise AssertionError(f"not within {timeout} s; last records {self.tail()}")

    def tail(self, n: int = 8) -> list[Record]:
        with self._lock:
            return [r for _, r in self.records[-n:]]

    def between(self, start: float, end: float = float("inf")) -> list[Record]:
        """Records that arrived in [start, end) host time."""
        with self._lock:
            return [r for t, r in self.records if start <= t < end]

    def all(self) -> list[Record]:
        with self._lock:
            return [r for _, r in self.records]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        """SIGTERM, as a QA script would: the run ends cleanly, everything flushed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        self._reader.join(5)
        return code

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read()


class PacedDevice:
    """A device on a wire: the protocol's frames for fixed values, 20 writes a second."""

    def __init__(self, send: Callable[[bytes], object], protocol: str, pr: int, spo2: int) -> None:
        self._send = send
        self._encoder = make_encoder(protocol)
        self._values = (pr, spo2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rate = self._encoder.sample_rate_hz
        rows = max(1, round(rate * 0.05))
        pr, spo2 = self._values
        next_t = time.monotonic()
        while not self._stop.is_set():
            batch = OximeterBatch.constant(rate, [40] * rows, spo2, pr, 2.5)
            try:
                self._send(self._encoder.encode(batch))
            except OSError:
                return  # the wire is gone
            next_t += rows / rate
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class PtyWire:
    """A raw pty pair standing in for a USB serial adapter: the test writes the master."""

    def __init__(self) -> None:
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def drain(self) -> None:
        """Read (and drop) what the monitor wrote, so its writes never block."""
        with contextlib.suppress(OSError):
            os.set_blocking(self.master, False)
            while os.read(self.master, 4096):
                pass

    def close(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def symlink_to(link: Path, target: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(target, link)


# --- in-process, data time ------------------------------------------------------


def frames(protocol: str, seconds: float, pr: int = 72, spo2: int = 97) -> bytes:
    """`seconds` of a device's frames for fixed values, in one piece."""
    encoder = make_encoder(protocol)
    rate = encoder.sample_rate_hz
    rows = max(1, round(rate * seconds))
    return encoder.encode(OximeterBatch.constant(rate, [40] * rows, spo2, pr, 2.5))


def feed_oximeter(
    protocol: str, pieces: Iterable[tuple[float, bytes]], end_t: float, tick_s: float = 0.1
) -> list[Record]:
    """A serial-like run in data time: the port opens at t=0, each (t, bytes) arrives at
    t, clock ticks every `tick_s` up to `end_t`. Returns every record the pipeline made."""
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": protocol}))
    records: list[Record] = []
    pipeline.subscribe(records.append)
    pipeline.process(Chunk(0.0, "oximeter", link=LinkEvent("test", LinkState.UP, "opened", 0.0)))
    pending = sorted(pieces, key=lambda p: p[0])
    t = 0.0
    i = 0
    while t <= end_t + 1e-9:
        while i < len(pending) and pending[i][0] <= t + 1e-9:
            pipeline.process(Chunk(pending[i][0], "oximeter", pending[i][1]))
            i += 1
        pipeline.process(Chunk(round(t, 6)))
        t += tick_s
    return records


def steady(protocol: str, start: float, end: float, step: float = 0.05, **values) -> list:
    """The device's bytes from `start` to `end` as one stream, cut in a piece per `step` s."""
    data = frames(protocol, end - start, **values)
    pieces = max(1, round((end - start) / step))
    size = len(data) / pieces
    return [
        (round(start + (i + 1) * step, 6), data[round(i * size) : round((i + 1) * size)])
        for i in range(pieces)
    ]


def alarms(records: list[Record], alarm_id: str, state: str = "onset") -> list[float]:
    return [
        r["t"]
        for r in records
        if r["type"] == "alarm" and r["id"] == alarm_id and r["state"] == state
    ]


def numerics(records: list[Record]) -> list[Record]:
    return [r for r in records if r["type"] == "numerics"]
