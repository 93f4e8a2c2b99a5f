"""`vitalmon run --capno capnostat:PORT` against `vitalmon sim SCENARIO --pty`: the host
talks to the virtual Capnostat over a real pty, headless numerics carry capnography,
and the recorded session replays line for line."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import json_lines, run_vitalmon, vitalmon_cmd


@pytest.fixture
def served_hypoventilation():
    proc = subprocess.Popen(
        vitalmon_cmd("sim", "hypoventilation", "--pty"),
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


def test_run_capno_over_a_pty_and_replay_it(served_hypoventilation, tmp_path) -> None:
    ports = served_hypoventilation
    assert ports["capno"]["protocol"] == "capnostat"
    path = tmp_path / "co2.vitalmon"
    live = run_vitalmon(
        "run", "--oximeter", f"nonin2:{ports['oximeter']['port']}",
        "--capno", f"capnostat:{ports['capno']['port']}",
        "--headless", "--duration", "10", "--record", str(path), timeout=60,
    )  # fmt: skip
    assert live.returncode == 0, live.stderr
    out = json_lines(live.stdout)
    numerics = [r for r in out if r["type"] == "numerics"]
    assert numerics and all(r["rr_source"] == "capnography" for r in numerics)
    assert {"etco2", "fico2", "etco2_state"} <= set(numerics[-1])
    valid = [r for r in numerics if r["etco2_state"] == "valid" and r["etco2"] is not None]
    assert valid, [(r["t"], r["etco2_state"], r["co2_status"]) for r in numerics]
    assert 30 <= valid[-1]["etco2"] <= 45
    capno = [r for r in out if r["type"] == "event" and r.get("kind") == "capno"]
    assert capno[0]["state"] == "set_up"
    replay = run_vitalmon("replay", str(path), "--headless", "--speed", "max")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout


def test_capno_mistakes_get_one_line() -> None:
    result = run_vitalmon("run", "--capno", "nonin2:/dev/null", "--headless")
    assert result.returncode != 0 and "not capno" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_vitalmon("run", "--sim", "steady", "--capno", "capnostat:/dev/null")
    assert result.returncode != 0 and "--capno reads a real port" in result.stderr
