"""`vitalmon scenarios`: the built-in scenarios, one line each."""

from __future__ import annotations

import argparse

from simulator.scenario import builtin_scenarios


def register(commands) -> argparse.ArgumentParser:
    return commands.add_parser("scenarios", help="list the built-in scenarios")


def run(_: argparse.Namespace) -> int:
    for scenario in builtin_scenarios():
        print(f"{scenario.name:<16} {scenario.description}")
    return 0
