"""The recording under fault, through the real CLI: a full disk (RLIMIT_FSIZE on the
`vitalmon run --record` process) raises RECORDING_FAILED and monitoring goes on with
what was committed intact; a recording killed with -9 whose write-ahead log then
loses its tail still opens, with a gap-free prefix of what was printed.

Already proven elsewhere (docs/reliability.md): kill -9 loses at most the last
second (tests/test_recording_recorder.py::test_kill_9_loses_at_most_the_last_second);
truncated, corrupt, empty, foreign and newer files end in one line
(tests/test_recording_bad_files.py)."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.recording.store import SessionReader
from tests.conftest import REPO, vitalmon_cmd

FILE_LIMIT = 150_000  # bytes: reached after about a minute of data time


def _disk_full() -> None:
    """In the child: writes past FILE_LIMIT fail with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def strip_wall(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "wall"}


@pytest.mark.slow
def test_disk_full_raises_recording_failed_and_monitoring_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "s.vitalmon"
    # At 20x the recorder commits every 10 s of data time (0.5 s of wall time).
    cmd = ("run", "--sim", "steady", "--headless", "--speed", "20", "--duration", "120")
    result = subprocess.run(
        vitalmon_cmd(*cmd, "--record", str(path)),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        preexec_fn=_disk_full,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    numerics = [r for r in records if r["type"] == "numerics"]
    assert [r["t"] for r in numerics] == [float(t) for t in range(1, 121)]  # went on
    onset = [r for r in records if r["type"] == "alarm" and r["id"] == "RECORDING_FAILED"]
    assert onset and onset[0]["state"] == "onset" and onset[0]["priority"] == "high"
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line says why
    with SessionReader(path) as reader:  # what was committed is there, intact
        kept = reader.records("numerics")
    assert 0 < len(kept) < 120
    assert [strip_wall(r) for r in kept] == [strip_wall(r) for r in numerics[: len(kept)]]
    # The alarm comes with the failed commit: at 20x a commit holds about 10 s of data
    # (0.5 s of wall time); a loaded machine may stretch that, hence the margin.
    assert kept[-1]["t"] <= onset[0]["t"] <= kept[-1]["t"] + 30
    print(f"\ndisk full: last second on file {kept[-1]['t']}, RECORDING_FAILED at {onset[0]['t']}")


@pytest.mark.slow
def test_killed_recording_with_a_torn_wal_still_opens(tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.vitalmon"
    proc = subprocess.Popen(
        vitalmon_cmd("run", "--sim", "steady", "--headless", "--record", str(path)),
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    printed: list[dict] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            record = json.loads(line)
            if record["type"] == "numerics":
                printed.append(record)
                if record["t"] >= 4.0:
                    break
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    wal = Path(f"{path}-wal")
    assert wal.exists()
    # A torn write: a frame being appended when the process died reached the disk only
    # in part (its header and the start of its page). Cutting into frames already
    # written would be no crash: the checkpoints every 16 pages copy them into the
    # database once they are on disk.
    data = wal.read_bytes()
    wal.write_bytes(data + data[32 : 32 + 1500])
    with SessionReader(path) as reader:
        kept = reader.records("numerics")
    assert [r["t"] for r in kept] == [float(t) for t in range(1, len(kept) + 1)]  # a prefix
    assert [strip_wall(r) for r in kept] == [strip_wall(r) for r in printed[: len(kept)]]
    assert main(["log", str(path), "--numerics"]) == 0  # the CLI reads it too
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(kept)


def test_replay_of_an_nibp_interval_session_equals_live(tmp_path: Path, capsys) -> None:
    """`--nibp-interval` is a command at data time 0, before the first chunk: it must be
    printed, recorded and applied again by replay, or replay has no NIBP at all."""
    path = tmp_path / "s.vitalmon"
    run = ["run", "--sim", "steady", "--headless", "--speed", "max", "--duration", "400"]
    assert main([*run, "--nibp-interval", "5", "--record", str(path)]) == 0
    live = capsys.readouterr().out.splitlines()
    assert main(["replay", str(path), "--headless", "--speed", "max"]) == 0
    replayed = capsys.readouterr().out.splitlines()
    assert replayed == live
    kinds = [json.loads(line)["type"] for line in live]
    assert kinds[0] == "command" and kinds.count("nibp") >= 2
