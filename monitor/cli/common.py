"""Pieces every subcommand shares: the one-line parser, argument types, SIGTERM and SIGINT."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from drivers.errors import VitalmonError
from monitor.pipeline import PipelineRunner, setup_frozen

PROG = "vitalmon"


class UsageError(VitalmonError):
    """A flag combination that makes no sense."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


# A factor outside these ends is a typo, not a pace: 1e-300 waited past the clock's end
# (a traceback), and anything past 1000 is `max` in all but name.
MIN_SPEED = 0.01
MAX_SPEED = 1000.0
# A run of more than a year is a typo too (leave --duration out to run on).
MAX_DURATION_S = 365 * 24 * 3600.0


def speed_arg(text: str) -> float | None:
    """`N` (a factor MIN_SPEED..MAX_SPEED) or `max`; None stands for max."""
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number or 'max'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("speed must be above 0")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("speed must be finite (use 'max' for flat out)")
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(
            f"speed must be {MIN_SPEED:g} to {MAX_SPEED:g}, not {value:g} (or 'max')"
        )
    return value


def seed_arg(text: str) -> int:
    """A simulator seed: a whole number 0 .. 2**32-1 (numpy refuses a negative one)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"the seed must be 0 to {2**32 - 1}, not {value}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("duration must be above 0 seconds")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("duration must be finite (leave it out to run on)")
    if value > MAX_DURATION_S:
        raise argparse.ArgumentTypeError(
            f"duration must be at most {MAX_DURATION_S:.0f} s (a year), not {value:g}"
            " (leave it out to run on)"
        )
    return value


def require_display() -> None:
    """The window needs a screen: say so plainly instead of letting Qt abort."""
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UsageError("no display for the monitor window (set DISPLAY, or add --headless)")


def stop_on_signals(stop: Callable[[], object]) -> list[int]:
    """SIGTERM and SIGINT both stop the run cleanly (the recording is closed: no -wal
    file left); returns a list that gets the signal numbers received."""
    received: list[int] = []
    if threading.current_thread() is threading.main_thread():

        def handler(signum: int, _frame: object) -> None:
            received.append(signum)
            stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, handler)
    return received


def drive(runner: PipelineRunner, headless: bool) -> int:
    """Run to the end, headless (the caller has subscribed its JSON-lines writer before
    any command at t=0 was applied) or in the GUI. Ctrl-C ends with 130, as a shell
    expects; SIGTERM (a desktop shutting down, a service manager) with 0."""
    if headless:
        received = stop_on_signals(runner.stop)
        with setup_frozen():
            runner.run()
        return 130 if signal.SIGINT in received else 0
    from monitor.ui.app import run_gui

    return run_gui(runner)
