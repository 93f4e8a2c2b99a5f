"""Every bad command-line argument, subcommand by subcommand: one line on stderr that
says what is wrong, a non-zero exit, no traceback, nothing on stdout, no file touched.

In-process through `monitor.cli.main` (an unexpected exception fails the test, as a
traceback would); tests/test_cli.py and tests/test_recording_bad_files.py show the
same through the real process."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import run_vitalmon

# (argv with {good} = a real recording, {tmp} = a scratch folder; words the line must hold)
CASES: list[tuple[str, str]] = [
    # run: the source
    ("run --bogus", "unrecognized arguments"),
    ("run --sim no-such --headless", "unknown scenario 'no-such'"),
    ("run --sim {tmp}/nope.toml --headless", "cannot read scenario file"),
    ("run --sim {tmp}/bad.toml --headless", "line 3"),
    ("run --sim wfdb:{tmp}/norecord --headless", "cannot read WFDB record"),
    ("run --sim steady --oximeter nonin2:/dev/null --headless", "not allowed with"),
    ("run --oximeter nosuch:/dev/x --headless", "unknown protocol 'nosuch'"),
    ("run --oximeter nonin2 --headless", "PROTO:PORT"),
    ("run --oximeter nonin2:{tmp}/ttyUSB9 --headless", "cannot open port"),
    ("run --oximeter suntech:/dev/null --headless", "not oximeter"),
    ("run --oximeter nonin2:/dev/null?baud=abc --headless", "bad line setting"),
    ("run --oximeter nonin2:/dev/null?baud=-5 --headless", "baudrate"),
    ("run --oximeter nonin2:/dev/null?parity=Q --headless", "parity"),
    ("run --oximeter nonin2:/dev/null?bogus=1 --headless", "unknown port option 'bogus'"),
    ("run --oximeter nonin2:/dev/null --speed max --headless", "--speed"),
    ("run --oximeter nonin2:/dev/null --resp nonin2:/dev/null --headless", "not resp"),
    ("run --resp simresp:/dev/null --headless", "--resp goes with --oximeter"),
    ("run --nibp nonin2:/dev/null --headless", "not nibp"),
    ("run --nibp suntech:{tmp}/ttyUSB9 --headless", "cannot open port"),
    ("run --sim steady --nibp suntech:/dev/null --headless", "virtual NIBP"),
    # run: the numbers
    ("run --nibp-interval 0 --headless", "1-120 minutes"),
    ("run --nibp-interval 121 --headless", "1-120 minutes"),
    ("run --nibp-interval 2.5 --headless", "whole number of minutes"),
    ("run --nibp-interval abc --headless", "whole number of minutes"),
    ("run --duration -3 --headless", "above 0"),
    ("run --duration 0 --headless", "above 0"),
    ("run --duration nan --headless", "above 0"),
    ("run --duration inf --headless", "finite"),
    ("run --duration abc --headless", "not a number of seconds"),
    ("run --speed fast --headless", "not a number or 'max'"),
    ("run --speed 0 --headless", "above 0"),
    ("run --speed -1 --headless", "above 0"),
    ("run --speed inf --headless", "finite"),
    ("run --seed abc --headless", "not a whole number"),
    # run: the files
    ("run --preset no-such --headless", "unknown alarm preset"),
    ("run --preset {tmp}/bad.toml --headless", "line 3"),
    ("run --commands {tmp}/nope.jsonl --headless", "cannot read commands file"),
    ("run --record {tmp}/nodir/x.vitalmon --headless --speed max --duration 1", "cannot create"),
    ("run --record {good} --headless --speed max --duration 1", "never overwritten"),
    # sim, scenarios, decode
    ("sim", "--pty"),
    ("sim no-such --pty", "unknown scenario 'no-such'"),
    ("sim steady --speed 0 --pty", "above 0"),
    ("sim steady --speed fast --pty", "not a number or 'max'"),
    ("sim steady --seed abc --pty", "not a whole number"),
    ("sim --wfdb {tmp}/norecord --pty", "cannot read WFDB record"),
    ("scenarios --bogus", "unrecognized arguments"),
    ("decode nosuch {tmp}/bad.hex", "unknown protocol 'nosuch'"),
    ("decode nonin2", "FILE"),
    ("decode nonin2 {tmp}/nope.bin", "cannot read capture"),
    ("decode nonin2 {tmp}/bad.hex --hex", "not hex text"),
    # replay, log, export, report
    ("replay {tmp}/nope.vitalmon --headless", "no such file"),
    ("replay {tmp}/bad.toml --headless", "not a vitalmon session"),
    ("replay {good} --speed 0 --headless", "above 0"),
    ("replay {good} --speed fast --headless", "not a number or 'max'"),
    ("log {good}", "one of the arguments"),
    ("log {good} --alarms --numerics", "not allowed with"),
    ("log {good} --alarms --format xml", "invalid choice: 'xml'"),
    ("log {tmp}/nope.vitalmon --alarms", "no such file"),
    ("export {good} --format pdf --out {tmp}/x", "invalid choice: 'pdf'"),
    ("export {good} --format csv", "--out"),
    ("export {good} --format csv --out {tmp}/nodir/x.csv", "cannot write"),
    ("export {tmp}/nope.vitalmon --format csv --out {tmp}/x.csv", "no such file"),
    ("report {good}", "--out"),
    ("report {good} --out {tmp}/nodir/r.pdf", "cannot write"),
    ("report {tmp}/nope.vitalmon --out {tmp}/r.pdf", "no such file"),
    ("frobnicate", "invalid choice"),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, report_session) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "bad.toml").write_text('name = "bad"\n[patient]\nhr_bpm = = 3\n', encoding="utf-8")
    (tmp / "bad.hex").write_text("zz 11\n", encoding="utf-8")
    good = tmp / "good.vitalmon"
    shutil.copyfile(report_session[0], good)
    return tmp, good


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(("line", "needle"), CASES, ids=[c[0].split(" {")[0] for c in CASES])
def test_bad_argument_one_line_nonzero_no_traceback(line: str, needle: str, scratch, capsys):
    tmp, good = scratch
    argv = line.format(tmp=tmp, good=good).split()
    before = fingerprint(tmp)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2
        code = exc.code
    captured = capsys.readouterr()
    assert code not in (0, None), argv
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("vitalmon: ") and needle in lines[0], lines[0]
    assert captured.out == ""
    assert fingerprint(tmp) == before


def test_a_bad_argument_through_the_real_process() -> None:
    result = run_vitalmon("run", "--duration", "inf", "--headless", timeout=30)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
