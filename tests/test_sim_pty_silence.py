"""comm-loss over a real pty: the device side really sends nothing, then comes back."""

from __future__ import annotations

import os
import select
import threading
import time

import pytest

from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario
from simulator.serve import serve_on_ptys

pytestmark = pytest.mark.slow
SPEED = 10.0


def test_silent_oximeter_sends_no_bytes_on_its_pty_then_resumes(tmp_path) -> None:
    path = tmp_path / "short-loss.toml"
    path.write_text(
        'name = "short-loss"\n[[timeline]]\nat_s = 5\noximeter_fault = "silent"\n'
        '[[timeline]]\nat_s = 25\noximeter_fault = "none"\n'
    )
    ready: dict = {}
    announced = threading.Event()
    stop = threading.Event()

    def on_ready(ports):
        ready.update(ports)
        announced.set()

    bedside = SimulatedBedside(load_scenario(str(path)), seed=0)
    server = threading.Thread(target=serve_on_ptys, args=(bedside, on_ready, stop, SPEED))
    server.start()
    try:
        assert announced.wait(5)
        fd = os.open(ready["oximeter"]["port"], os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        arrivals: list[tuple[float, int]] = []
        start = time.monotonic()
        while time.monotonic() - start < 3.2:  # 32 s of data time
            if select.select([fd], [], [], 0.05)[0]:
                arrivals.append((time.monotonic() - start, len(os.read(fd, 4096))))
        os.close(fd)
    finally:
        stop.set()
        server.join(5)
    data_t = [t * SPEED for t, _ in arrivals]
    assert any(t < 4 for t in data_t)
    # Nothing between the start of the silence (second 5 covers 4..5) and its end.
    assert not [t for t in data_t if 5.5 < t < 23.5]
    assert any(t > 25 for t in data_t)
