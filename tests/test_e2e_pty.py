"""End to end over real ptys: the simulator serves bytes, the monitor reads them via pyserial."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import json_lines, run_vitalmon, vitalmon_cmd

pytestmark = pytest.mark.slow


@pytest.fixture
def served_steady():
    proc = subprocess.Popen(
        vitalmon_cmd("sim", "steady", "--pty"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_sim_pty_announces_its_ports(served_steady) -> None:
    oximeter = served_steady["oximeter"]
    assert oximeter["protocol"] == "nonin2"
    assert oximeter["port"].startswith("/dev/pts/")


def test_monitor_reads_simulator_over_pty(served_steady) -> None:
    port = served_steady["oximeter"]["port"]
    result = run_vitalmon(
        "run", "--oximeter", f"nonin2:{port}", "--headless", "--duration", "5", timeout=30
    )
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    numerics = [r for r in records if r["type"] == "numerics"]
    assert len(numerics) >= 4
    last = numerics[-1]
    assert 94 <= last["spo2"] <= 100 and 60 <= last["pr"] <= 85
    assert last["spo2_state"] == "valid"
    links = [r for r in records if r["type"] == "event" and r["kind"] == "link"]
    assert links and links[0]["state"] == "up"
