"""A technical alarm over a real pty: the oximeter's line dies, OXIMETER_COMM_LOST at once."""

from __future__ import annotations

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


def serve_then_hang_up(master: int, seconds: float) -> None:
    """Nonin frames in real time for `seconds`, then close the master: the port vanishes."""
    encoder = make_encoder("nonin2")
    rate = encoder.sample_rate_hz
    start = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) - sent
        if due > 0:
            wave = 100 + 50 * np.sin(np.arange(sent, sent + due) / 10.0)
            os.write(master, encoder.encode(OximeterBatch.constant(rate, wave, 97, 72, 3.0)))
            sent += due
        time.sleep(0.02)
    os.close(master)


def test_port_vanishing_raises_oximeter_comm_lost_within_2_s(raw_pty) -> None:
    master, path = raw_pty
    proc = subprocess.Popen(
        vitalmon_cmd("run", "--oximeter", f"nonin2:{path}", "--headless", "--duration", "6"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = threading.Thread(target=serve_then_hang_up, args=(master, 3.0))
    server.start()
    out, err = proc.communicate(timeout=30)
    server.join()
    assert proc.returncode == 0, err
    records = json_lines(out)
    down = [r for r in records if r["type"] == "event" and r["state"] in ("down", "reconnecting")]
    assert down, out
    onsets = [r for r in records if r["type"] == "alarm" and r["state"] == "onset"]
    assert [r["id"] for r in onsets][:1] == ["OXIMETER_COMM_LOST"]
    assert onsets[0]["priority"] == "high"
    assert onsets[0]["t"] - down[0]["t"] <= 2.0
