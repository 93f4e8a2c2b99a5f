"""Bad session files end in one clear line and a non-zero exit; reading a file, good or
bad, finished or killed mid-recording, never changes it."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import run_vitalmon
from tests.recording_helpers import record_session


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file in the folder: content hash and mtime."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


def _commands(path: Path, out: Path) -> list[list[str]]:
    f = str(path)
    return [
        ["log", f, "--alarms"],
        ["log", f, "--numerics", "--format", "csv"],
        ["replay", f, "--headless", "--speed", "max"],
        ["export", f, "--format", "csv", "--out", str(out / "x.csv")],
        ["export", f, "--format", "edf", "--out", str(out / "x.edf")],
        ["export", f, "--format", "wfdb", "--out", str(out / "rec")],
        ["report", f, "--out", str(out / "r.pdf")],
    ]


def _make_bad(kind: str, good: Path, folder: Path) -> Path:
    path = folder / f"{kind}.vitalmon"
    data = good.read_bytes()
    if kind == "missing":
        return path
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("time,spo2\n1,97\n")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "corrupt":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(range(256)) * 32 + data[middle + 8192 :])
    elif kind == "foreign":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE patients (name TEXT)")
        db.commit()
        db.close()
    elif kind == "newer":
        shutil.copyfile(good, path)
        db = sqlite3.connect(path)
        db.execute("UPDATE schema_version SET version = version + 1")
        db.commit()
        db.close()
    return path


NEEDLES = {
    "missing": "no such file",
    "empty": "is empty",
    "text": "not an SQLite file",
    "truncated": "damaged",
    "corrupt": "damaged",
    "foreign": "not a vitalmon session",
    "newer": "newer vitalmon",
}


@pytest.mark.parametrize("kind", list(NEEDLES))
def test_bad_file_one_line_nonzero_exit_file_untouched(
    kind: str, report_session, tmp_path, capsys
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    path = _make_bad(kind, report_session[0], folder)
    before = _fingerprint(folder)
    for argv in _commands(path, out):
        code = main(argv)
        captured = capsys.readouterr()
        assert code != 0, argv
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, (argv, captured.err)
        assert NEEDLES[kind] in lines[0], (argv, lines[0])
        assert captured.out == ""
    assert _fingerprint(folder) == before
    assert list(out.iterdir()) == []


def test_bad_file_through_the_real_cli_has_no_traceback(tmp_path) -> None:
    path = tmp_path / "x.vitalmon"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 40)
    result = run_vitalmon("log", str(path), "--alarms", timeout=30)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_reading_a_finished_file_changes_nothing(report_session, tmp_path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "s.vitalmon"
    shutil.copy2(report_session[0], path)
    # The report session carries commands no handler on this branch may know: replay a
    # plain recording too.
    plain = folder / "plain.vitalmon"
    record_session(plain, seconds=30, clinical=False)
    before = _fingerprint(folder)
    out = tmp_path / "out"
    out.mkdir()
    for argv in [*_commands(path, out), ["replay", str(plain), "--headless", "--speed", "max"]]:
        if argv[0] == "replay" and argv[1] == str(path):
            continue
        assert main(argv) == 0, argv
    capsys.readouterr()
    assert _fingerprint(folder) == before  # no -wal/-shm left behind either
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_rows_that_do_not_parse_are_damage_too(report_session, tmp_path, capsys) -> None:
    path = tmp_path / "s.vitalmon"
    shutil.copyfile(report_session[0], path)
    db = sqlite3.connect(path)
    db.execute(
        'UPDATE alarm SET record = \'{"type": "alarm", \' WHERE seq = (SELECT min(seq) FROM alarm)'
    )
    db.execute("UPDATE wave SET samples = x'0102' WHERE id = 3")
    db.commit()
    db.close()
    before = _fingerprint(tmp_path)
    for argv in (
        ["log", str(path), "--alarms"],
        ["export", str(path), "--format", "wfdb", "--out", str(tmp_path / "o" / "r")],
        ["report", str(path), "--out", str(tmp_path / "r.pdf")],
    ):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is damaged" in err[0], err
    assert _fingerprint(tmp_path) == before


def test_exports_never_overwrite_a_recording(report_session, tmp_path, capsys) -> None:
    other = tmp_path / "other.vitalmon"
    record_session(other, seconds=5, clinical=False)
    before = _fingerprint(tmp_path)
    for argv in (
        ["export", str(report_session[0]), "--format", "csv", "--out", str(other)],
        ["report", str(report_session[0]), "--out", str(other)],
        ["report", str(other), "--out", str(other)],
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and ("not overwriting" in err[0] or "itself" in err[0]), err
    assert _fingerprint(tmp_path) == before
