"""Virtual devices on real ptys: comm-loss really sends nothing, respiration reaches
the monitor over its own pty."""

from __future__ import annotations

import json
import os
import select
import subprocess
import threading
import time

import pytest

from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario
from simulator.serve import serve_on_ptys
from tests.conftest import json_lines, run_vitalmon, vitalmon_cmd

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


def test_monitor_reads_oximeter_and_respiration_from_sim_ptys() -> None:
    proc = subprocess.Popen(
        vitalmon_cmd("sim", "steady", "--pty"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ports = json.loads(proc.stdout.readline())
        assert ports["resp"]["protocol"] == "simresp"
        result = run_vitalmon(
            "run",
            "--oximeter",
            f"nonin2:{ports['oximeter']['port']}",
            "--resp",
            f"simresp:{ports['resp']['port']}",
            "--headless",
            "--duration",
            "5",
            timeout=30,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    assert result.returncode == 0, result.stderr
    last = [r for r in json_lines(result.stdout) if r["type"] == "numerics"][-1]
    assert 10 <= last["rr"] <= 18 and last["rr_state"] == "valid"
    assert 94 <= last["spo2"] <= 100
