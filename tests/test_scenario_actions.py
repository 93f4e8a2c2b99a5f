"""Scripted nurse actions in scenarios: parsed, scheduled as commands, applied at their times."""

from __future__ import annotations

import pytest

from simulator.scenario import ScenarioError, _parse
from tests.conftest import json_lines, run_vitalmon


def test_actions_parse_sorted_with_minutes() -> None:
    scenario = _parse(
        'name = "x"\n'
        '[[actions]]\nat_min = 2\ncommand = "mark_event"\nkind = "note"\ntext = "late"\n'
        '[[actions]]\nat_s = 5\ncommand = "nibp_start"\n',
        "x.toml",
    )
    assert [(a.at_s, a.command) for a in scenario.actions] == [
        (5.0, "nibp_start"),
        (120.0, "mark_event"),
    ]
    assert scenario.actions[1].args == {"kind": "note", "text": "late"}


def test_action_without_a_command_is_refused() -> None:
    with pytest.raises(ScenarioError, match="missing 'command'"):
        _parse('name = "x"\n[[actions]]\nat_s = 1\n', "x.toml")


def test_infusion_scenario_runs_its_session_script() -> None:
    result = run_vitalmon(
        "run", "--sim", "infusion", "--headless", "--speed", "max", "--duration", "1500"
    )
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    phases = [r for r in records if r["type"] == "event" and r["kind"] == "phase"]
    assert [(p["t"], p["phase"]) for p in phases] == [(600.0, "infusion")]
    readings = [r for r in records if r["type"] == "nibp"]
    # The program: every 5 min before and during the first 30 min of the infusion.
    assert len(readings) >= 4 and all(r["status"] == "ok" for r in readings)


def test_unknown_command_in_a_scenario_is_one_clear_line(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n[[actions]]\nat_s = 1\ncommand = "make_coffee"\n')
    result = run_vitalmon("run", "--sim", str(path), "--headless", "--duration", "2")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "make_coffee" in result.stderr and "Traceback" not in result.stderr
