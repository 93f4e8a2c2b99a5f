"""A technical alarm over a real pty: the oximeter's line dies, OXIMETER_COMM_LOST at once."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest

from drivers.registry import make_encoder
from drivers.types import OximeterBatch
from tests.conftest import json_lines, vitalmon_cmd

pytestmark = pytest.mark.slow


def serve_until(master: int, hang_up: threading.Event) -> None:
    """Nonin frames in real time until `hang_up`, then close the master: the port vanishes."""
    encoder = make_encoder("nonin2")
    rate = encoder.sample_rate_hz
    start = time.monotonic()
    sent = 0
    while not hang_up.wait(0.02):
        due = int((time.monotonic() - start) * rate) - sent
        if due > 0:
            wave = 100 + 50 * np.sin(np.arange(sent, sent + due) / 10.0)
            os.write(master, encoder.encode(OximeterBatch.constant(rate, wave, 97, 72, 3.0)))
            sent += due
    os.close(master)


def test_port_vanishing_raises_oximeter_comm_lost_within_2_s(raw_pty) -> None:
    master, path = raw_pty
    hang_up = threading.Event()
    server = threading.Thread(target=serve_until, args=(master, hang_up))
    server.start()
    proc = subprocess.Popen(
        vitalmon_cmd("run", "--oximeter", f"nonin2:{path}", "--headless", "--duration", "30"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        lines = []
        valid = 0
        for line in proc.stdout:  # the live line, until it has read valid values twice
            lines.append(line)
            record = json.loads(line)
            valid += record["type"] == "numerics" and record["spo2_state"] == "valid"
            if valid >= 2:
                break
        hang_up.set()
        for line in proc.stdout:
            lines.append(line)
            if '"OXIMETER_COMM_LOST"' in line:
                break
    finally:
        hang_up.set()
        proc.terminate()
        proc.wait(timeout=10)
        server.join()
    records = json_lines("".join(lines))
    down = [r for r in records if r["type"] == "event" and r["state"] in ("down", "reconnecting")]
    assert down, lines
    onsets = [r for r in records if r["type"] == "alarm" and r["state"] == "onset"]
    assert [r["id"] for r in onsets] == ["OXIMETER_COMM_LOST"]
    assert onsets[0]["priority"] == "high"
    assert onsets[0]["t"] - down[0]["t"] <= 2.0
