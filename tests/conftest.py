"""Shared fixtures: offscreen Qt, the CLI in a subprocess, raw ptys."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import sys
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def vitalmon_cmd(*args: str) -> list[str]:
    """The installed CLI, run as a module of this checkout's interpreter."""
    return [sys.executable, "-m", "monitor", *args]


def run_vitalmon(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        vitalmon_cmd(*args), capture_output=True, text=True, timeout=timeout, cwd=REPO, **kwargs
    )


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def raw_pty() -> Iterator[tuple[int, str]]:
    """A raw pty pair: (master fd the test writes, slave path the monitor opens)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        yield master, path
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def qtbot(qtbot):
    """pytest-qt's bot, holding every window it closes until the test is torn down.

    pytest-qt keeps weak references only: a window the test no longer names becomes
    garbage as soon as the test body returns, while pytest-qt still processes its paint
    events. A garbage collection in that paint deletes the window under it (a
    segfault that took an xdist worker down). Held here, it is closed first, then freed.
    """
    kept: list[object] = []
    add = qtbot.addWidget

    def add_and_keep(widget, **kwargs) -> None:
        kept.append(widget)
        add(widget, **kwargs)

    qtbot.addWidget = qtbot.add_widget = add_and_keep
    yield qtbot
    kept.clear()


@pytest.fixture(scope="session")
def report_session(tmp_path_factory) -> tuple[Path, list[dict]]:
    """A real 15-minute recording with alarms, NIBP, events and commands (recorded once)."""
    from tests.recording_helpers import record_session

    path = tmp_path_factory.mktemp("sessions") / "report.vitalmon"
    return path, record_session(path)


@pytest.fixture(scope="session")
def capno_session(tmp_path_factory) -> Path:
    """A real 200 s recording of `hypoventilation` (a CO2 module; recorded once)."""
    path = tmp_path_factory.mktemp("co2") / "hypo.vitalmon"
    live = run_vitalmon(
        "run", "--sim", "hypoventilation", "--headless", "--speed", "max",
        "--duration", "200", "--record", str(path),
    )  # fmt: skip
    assert live.returncode == 0, live.stderr
    return path


@pytest.fixture
def mosquitto(tmp_path):
    """A real mosquitto on a free loopback port: password file, no anonymous access."""
    from tests.mqtt_broker import MosquittoBroker

    broker = MosquittoBroker(tmp_path)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mosquitto_tls(tmp_path):
    """The same over TLS, with a CA made for the test (`broker.ca_file`)."""
    from tests.mqtt_broker import MosquittoBroker

    broker = MosquittoBroker(tmp_path, tls=True)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
