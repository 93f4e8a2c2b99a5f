"""Writes that fail say so and leave nothing (docs/reliability.md): exports and reports
onto a small filesystem that fills, onto /dev/full, over an existing file, and to
stdout. Through the real `vitalmon export` / `report` in a subprocess.

The full disk is a real tmpfs of a few pages, mounted here (root); without the right
to mount, those cases are skipped and /dev/full still runs."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import json_lines, run_vitalmon


@contextlib.contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="vitalmon-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


@pytest.fixture(scope="module")
def session(report_session, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("writes") / "s.vitalmon"
    shutil.copyfile(report_session[0], path)
    return path


def _one_line_failure(out: subprocess.CompletedProcess[str], needle: str) -> None:
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vitalmon: ") and needle in lines[0], lines
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["export", "{s}", "--format", "csv", "--out"], "x.csv"),
        (["export", "{s}", "--format", "edf", "--out"], "x.edf"),
        (["export", "{s}", "--format", "wfdb", "--out"], "rec"),
        (["report", "{s}", "--out"], "r.pdf"),
    ],
    ids=["csv", "edf", "wfdb", "report"],
)
def test_a_full_disk_fails_with_one_line_and_leaves_nothing(argv, name, session) -> None:
    with tmpfs("16k") as disk:
        out = run_vitalmon(*[a.format(s=session) for a in argv], str(disk / name), timeout=120)
        _one_line_failure(out, "cannot write")
        assert os.listdir(disk) == []  # no 0-byte file, no half file, no stage folder


def test_edf_onto_dev_full_is_refused_and_dev_full_stays_a_device(session) -> None:
    out = run_vitalmon("export", str(session), "--format", "edf", "--out", "/dev/full")
    _one_line_failure(out, "not a regular file")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert not [p for p in os.listdir("/dev") if p.startswith(".vitalmon-out-")]


def test_an_existing_target_is_kept_unless_force(session, tmp_path) -> None:
    target = tmp_path / "x.csv"
    target.write_text("keep me\n")
    out = run_vitalmon("export", str(session), "--format", "csv", "--out", str(target))
    _one_line_failure(out, "already exists; not overwriting it (add --force)")
    assert target.read_text() == "keep me\n"
    report = tmp_path / "r.pdf"
    report.write_text("old report\n")
    _one_line_failure(run_vitalmon("report", str(session), "--out", str(report)), "--force")
    assert report.read_text() == "old report\n"
    forced = run_vitalmon(
        "export", str(session), "--format", "csv", "--out", str(target), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert target.read_text().startswith("type,t,spo2")
    assert sorted(os.listdir(tmp_path)) == ["r.pdf", "x.csv"]


def test_out_dash_writes_the_csv_to_stdout(session, tmp_path) -> None:
    target = tmp_path / "x.csv"
    assert (
        run_vitalmon("export", str(session), "--format", "csv", "--out", str(target)).returncode
        == 0
    )
    out = run_vitalmon("export", str(session), "--format", "csv", "--out", "-")
    assert out.returncode == 0, out.stderr
    assert out.stdout == target.read_text()
    several = run_vitalmon("export", str(session), "--format", "wfdb", "--out", "-")
    _one_line_failure(several, "give --out a path, not -")
    assert several.stdout == ""


def test_a_recording_onto_a_filesystem_that_fills_keeps_what_it_committed() -> None:
    """The real `vitalmon run --record` on a 400 KiB tmpfs: RECORDING_FAILED, monitoring
    goes on, and the rows committed before the disk filled are readable, a gap-free
    prefix of what was printed (the log is checkpointed often, so more of them fit)."""
    with tmpfs("400k") as disk:
        path = disk / "r.vitalmon"
        out = run_vitalmon(
            "run",
            "--headless",
            "--duration",
            "60",
            "--speed",
            "4",
            "--record",
            str(path),
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        printed = [r for r in json_lines(out.stdout) if r["type"] == "numerics"]
        assert len(printed) == 60  # monitoring went on to the end
        failed = [r for r in json_lines(out.stdout) if r.get("id") == "RECORDING_FAILED"]
        assert failed and failed[0]["state"] == "onset"
        log = run_vitalmon("log", str(path), "--numerics")
        assert log.returncode == 0, log.stderr
        kept = json_lines(log.stdout)
        # 12 with SQLite's default checkpointing; 30 on a quiet machine, 26 on a loaded
        # one (commits fall every half second of wall time, so where the disk fills in
        # data time moves with the load).
        assert len(kept) >= 20, len(kept)
        assert [r["t"] for r in kept] == [float(t) for t in range(1, len(kept) + 1)]
        assert [r["spo2"] for r in kept] == [r["spo2"] for r in printed[: len(kept)]]


def test_a_disk_too_full_for_the_empty_session_is_one_line_and_no_file() -> None:
    with tmpfs("100k") as disk:
        out = run_vitalmon(
            "run", "--headless", "--duration", "2", "--record", str(disk / "r.vitalmon")
        )
        _one_line_failure(out, "cannot create")
        assert os.listdir(disk) == []
