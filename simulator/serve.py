"""Serve virtual devices on pseudo-terminals, so the monitor reads them like USB adapters."""

from __future__ import annotations

import contextlib
import errno
import os
import pty
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass

from simulator.devices import Bedside

STEP_S = 0.02


@dataclass(slots=True)
class PtyEndpoint:
    """The device side (master fd, which we write) and the path a monitor opens (slave)."""

    channel: str
    protocol: str
    master_fd: int
    slave_fd: int
    path: str
    bytes_dropped: int = 0

    def send(self, data: bytes) -> None:
        """Write without blocking: a device whose bytes nobody reads just loses them."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.master_fd, view)
            except BlockingIOError:
                self.bytes_dropped += len(view)
                return
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EAGAIN):
                    self.bytes_dropped += len(view)
                    return
                raise
            view = view[written:]

    def receive(self) -> bytes:
        """What the monitor wrote to the device, without blocking (b"" if nothing)."""
        chunks = []
        while True:
            try:
                data = os.read(self.master_fd, 4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EAGAIN):
                    break  # no client has the slave open: nothing was written
                raise
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def close(self) -> None:
        for fd in (self.master_fd, self.slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def open_pty(channel: str, protocol: str) -> PtyEndpoint:
    """A raw pty pair; the slave stays open here so the pty lives while clients come and go."""
    master_fd, slave_fd = pty.openpty()
    tty.setraw(slave_fd)
    os.set_blocking(master_fd, False)
    return PtyEndpoint(channel, protocol, master_fd, slave_fd, os.ttyname(slave_fd))


def serve_on_ptys(
    bedside: Bedside,
    on_ready: Callable[[dict[str, dict[str, str]]], None],
    stop: threading.Event,
    speed: float = 1.0,
) -> None:
    """Open one pty per device, announce them, then play the scenario in real time."""
    endpoints = {ch: open_pty(ch, protocol) for ch, protocol in bedside.protocols.items()}
    try:
        on_ready({ch: {"protocol": ep.protocol, "port": ep.path} for ch, ep in endpoints.items()})
        start = time.monotonic()
        step = 0
        while not stop.is_set():
            step += 1
            due = start + step * STEP_S
            delay = due - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            t = step * STEP_S * speed
            for channel, ep in endpoints.items():
                written = ep.receive()
                if written:
                    bedside.receive(channel, written, t)
            for channel, data in bedside.advance(t).items():
                if data:
                    endpoints[channel].send(data)
    finally:
        for ep in endpoints.values():
            ep.close()
