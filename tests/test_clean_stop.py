"""A run stopped by SIGTERM (a desktop shutting down, a service manager) or SIGINT
(Ctrl-C) closes its recording as its own end would: no write-ahead log left beside the
file, the session marked closed cleanly, every record up to the stop kept. The GUI is
run for real, offscreen, in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from monitor.recording.store import SessionReader
from tests.conftest import REPO, vitalmon_cmd


def _start(tmp_path, *extra: str) -> tuple[subprocess.Popen[str], object]:
    path = tmp_path / "s.vitalmon"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        vitalmon_cmd("run", "--sim", "steady", "--record", str(path), *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    return proc, path


def _wait_for_rows(path, proc: subprocess.Popen[str], seconds: float = 30.0) -> None:
    """Until the recording holds a few seconds of numerics (the run is under way)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if path.exists():
            try:
                with SessionReader(path) as reader:
                    if len(reader.records("numerics")) >= 2:
                        return
            except Exception:
                pass
        time.sleep(0.2)
    raise AssertionError("the run recorded nothing in time")


@pytest.mark.parametrize(
    ("mode", "signum", "code"),
    [
        ("--headless", signal.SIGTERM, 0),
        ("--headless", signal.SIGINT, 130),
        ("gui", signal.SIGTERM, 0),
        ("gui", signal.SIGINT, 130),
    ],
)
def test_a_signal_closes_the_recording_cleanly(tmp_path, mode, signum, code) -> None:
    proc, path = _start(tmp_path, *([mode] if mode != "gui" else []))
    try:
        _wait_for_rows(path, proc)
        proc.send_signal(signum)
        assert proc.wait(20) == code, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in stderr
    assert not path.with_name(path.name + "-wal").exists()
    assert not path.with_name(path.name + "-shm").exists()
    with SessionReader(path) as reader:
        assert reader.meta["closed_cleanly"] is True
        assert len(reader.records("numerics")) >= 2
