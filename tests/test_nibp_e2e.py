"""NIBP end to end: the CLI headless on the in-process simulator, and over real ptys."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import json_lines, run_vitalmon, vitalmon_cmd


def without_wall(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "wall"} for r in records]


def test_headless_interval_prints_nibp_records() -> None:
    result = run_vitalmon(
        "run", "--sim", "steady", "--headless", "--speed", "max", "--duration", "600",
        "--nibp-interval", "5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    starts = [r["t"] for r in records if r["type"] == "event" and r.get("state") == "started"]
    assert starts == [0.0, 300.0]  # the first at once, then on the 5-minute clock
    readings = [r for r in records if r["type"] == "nibp"]
    assert len(readings) == 2
    for r in readings:
        assert r["status"] == "ok" and r["error_code"] is None
        assert 110 <= r["sys"] <= 135 and 70 <= r["dia"] <= 88 and 60 <= r["pr"] <= 85
        assert r["dia"] < r["map"] < r["sys"]
        assert 20 <= r["t"] % 300 <= 42
    numerics = [r for r in records if r["type"] == "numerics"]
    assert numerics[-1]["nibp_state"] == "valid" and numerics[-1]["nibp_age_s"] > 0


@pytest.mark.slow
def test_speed_max_and_speed_10_give_the_same_records() -> None:
    args = ("run", "--sim", "steady", "--headless", "--duration", "40", "--nibp-interval", "1")
    fast = run_vitalmon(*args, "--speed", "max")
    slow = run_vitalmon(*args, "--speed", "10")
    assert fast.returncode == 0 and slow.returncode == 0, fast.stderr + slow.stderr
    fast_records = without_wall(json_lines(fast.stdout))
    assert any(r["type"] == "nibp" for r in fast_records)
    assert fast_records == without_wall(json_lines(slow.stdout))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--sim", "steady", "--nibp", "suntech:/dev/null"), "virtual NIBP"),
        (("--nibp", "nonin2:/dev/null"), "not nibp"),
        (("--nibp", "suntech:/dev/does-not-exist"), "cannot open port"),
    ],
)
def test_nibp_flag_mistakes_are_one_line(args, needle: str) -> None:
    result = run_vitalmon("run", *args, "--headless", "--duration", "1")
    assert result.returncode == 1
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("minutes", ["0", "121", "five"])
def test_bad_nibp_interval_is_a_usage_error(minutes: str) -> None:
    result = run_vitalmon("run", "--headless", "--nibp-interval", minutes)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_nibp_interval_without_an_nibp_is_refused(raw_pty) -> None:
    _, path = raw_pty
    result = run_vitalmon(
        "run", "--oximeter", f"nonin2:{path}", "--nibp-interval", "5", "--headless",
        "--duration", "1",
    )  # fmt: skip
    assert result.returncode == 1 and "needs an NIBP" in result.stderr


@pytest.mark.slow
def test_monitor_measures_through_the_simulator_pty() -> None:
    """`vitalmon sim --pty` serves the virtual module; the monitor opens it with pyserial."""
    proc = subprocess.Popen(
        vitalmon_cmd("sim", "steady", "--pty", "--speed", "20"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ports = json.loads(proc.stdout.readline())
        assert ports["nibp"]["protocol"] == "suntech"
        assert ports["oximeter"]["protocol"] == "nonin2"
        result = run_vitalmon(
            "run", "--nibp", f"suntech:{ports['nibp']['port']}", "--nibp-interval", "1",
            "--headless", "--duration", "5", timeout=30,
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    [reading] = [r for r in records if r["type"] == "nibp"]
    assert reading["status"] == "ok" and 110 <= reading["sys"] <= 135
    assert not [r for r in records if r.get("state") == "not_responding"]
