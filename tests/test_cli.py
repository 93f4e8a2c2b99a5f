"""The command line contract: numerics lines, and one clear line for every user mistake."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import weakref

import pytest

from monitor.pipeline import setup_frozen
from tests.conftest import REPO, json_lines, run_vitalmon


def test_headless_sim_prints_one_numerics_line_a_second() -> None:
    result = run_vitalmon(
        "run", "--sim", "steady", "--headless", "--duration", "10", "--speed", "max"
    )
    assert result.returncode == 0, result.stderr
    lines = [r for r in json_lines(result.stdout) if r["type"] == "numerics"]
    assert [r["t"] for r in lines] == [float(t) for t in range(1, 11)]
    for record in lines:
        assert 94 <= record["spo2"] <= 100
        assert 60 <= record["pr"] <= 85
        assert record["spo2_state"] == "valid"
        assert "wall" in record


def test_scenarios_lists_steady() -> None:
    result = run_vitalmon("scenarios")
    assert result.returncode == 0
    assert any(line.split()[0] == "steady" for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--bogus"], "unrecognized arguments"),
        (["run", "--oximeter", "nosuch:/dev/ttyUSB0", "--headless"], "unknown protocol 'nosuch'"),
        (["run", "--oximeter", "nonin2:/dev/does-not-exist", "--headless"], "cannot open port"),
        (["run", "--oximeter", "nonin2", "--headless"], "PROTO:PORT"),
        (["run", "--sim", "no-such-scenario", "--headless"], "unknown scenario"),
        (["run", "--speed", "fast", "--headless"], "not a number or 'max'"),
        (["run", "--duration", "-3", "--headless"], "duration must be above 0"),
        (["run", "--oximeter", "nonin2:/dev/null", "--speed", "max", "--headless"], "--speed"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_mistakes_get_one_line_and_nonzero_exit(args: list[str], needle: str) -> None:
    result = run_vitalmon(*args, timeout=20)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]


def test_help_lists_every_subcommand() -> None:
    from monitor.cli import SUBCOMMANDS

    result = run_vitalmon("--help")
    assert result.returncode == 0, result.stderr
    listed = {m.group(1) for m in re.finditer(r"^    (\S+)", result.stdout, re.MULTILINE)}
    assert listed == set(SUBCOMMANDS)


def test_a_subcommand_imports_no_other_subcommand() -> None:
    """`run` starts without `report`'s, `export`'s or `central`'s modules."""
    probe = (
        "import sys; from monitor.cli import main; main(['scenarios']); "
        "print(sorted(m for m in sys.modules if m.startswith('monitor.cli.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.strip().splitlines()[-1]
    assert loaded == "['monitor.cli.common', 'monitor.cli.scenarios']"


def test_malformed_scenario_file_names_the_line(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n[patient]\nhr_bpm = = 3\n')
    result = run_vitalmon("run", "--sim", str(path), "--headless", "--duration", "1")
    assert result.returncode == 1
    assert "line 3" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["run", "--sim", "steady"], ["replay", "x.vitalmon"], []])
def test_no_display_is_one_clear_line_not_a_qt_abort(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    result = run_vitalmon(*args, timeout=20, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "vitalmon: no display for the monitor window (set DISPLAY, or add --headless)"
    )


def test_replay_of_a_missing_file_fails_before_any_window(tmp_path) -> None:
    result = run_vitalmon("replay", str(tmp_path / "missing.vitalmon"), timeout=20)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"vitalmon: '{tmp_path / 'missing.vitalmon'}': no such file"
    ]


class _Cycle:
    me: object


def test_a_run_freezes_its_setup_and_hands_it_back() -> None:
    """What a run is set up with is out of the collector's sight while it runs; garbage
    from before is collected, not frozen; after the run all is collectable again."""
    was_enabled = gc.isenabled()
    gc.disable()  # no collection of its own between the lines below
    try:
        junk = _Cycle()
        junk.me = junk
        gone = weakref.ref(junk)
        del junk
        assert gone() is not None  # a cycle: only the collector frees it
        with setup_frozen():
            assert gone() is None
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0
    finally:
        if was_enabled:
            gc.enable()
