"""Files and arguments a careless user or a hostile one gives (docs/reliability.md): a
FIFO or a device where a file belongs, presets and scenarios that are binary, nested
too deep, of the wrong types, NaN or out of range, values outside their domain. Each
is one `vitalmon: ` line on stderr, a non-zero exit, nothing on stdout, no file touched.

In-process through `monitor.cli.main` (an unexpected exception fails the test, as a
traceback would); a FIFO open never blocks, so a hang fails by the timeout below."""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import REPO, vitalmon_cmd
from tests.test_faults_cli import fingerprint

BASE = 'base = "ketamine-adult"\nname = "mine"\n'
STEADY = 'name = "mine"\n'
FILES: dict[str, bytes] = {
    "binary.toml": b"\xff\xfe\x00\x01name = 1\n\x80\x81",
    "deep.toml": ("a = " + "[" * 5000 + "]" * 5000 + "\n").encode(),
    "deep_tables.toml": ("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n").encode(),
    "alarm5.toml": (BASE + "alarm = 5\n").encode(),
    "alarm_list.toml": (BASE + "alarm = [5]\n").encode(),
    "pause_nan.toml": (BASE + "[behaviour]\naudio_pause_s = nan\n").encode(),
    "pause_inf.toml": (BASE + "[behaviour]\nalarm_pause_s = inf\n").encode(),
    "enabled.toml": (BASE + '[[alarm]]\nid = "PR_HIGH"\nenabled = "no"\n').encode(),
    "choices.toml": (BASE + "[satseconds]\nchoices = 5\n").encode(),
    "at_nan.toml": (STEADY + "[[timeline]]\nat_s = nan\nhr_bpm = 80\n").encode(),
    "ramp_inf.toml": (STEADY + "[[timeline]]\nat_s = 1\nramp_s = inf\nhr_bpm = 80\n").encode(),
    "nibp_error.toml": (STEADY + "[[timeline]]\nat_s = 1\nnibp_error = 99999\n").encode(),
    "suntech.toml": (STEADY + '[devices]\noximeter = "suntech"\n').encode(),
    "nosuch.toml": (STEADY + '[devices]\nresp = "nosuch"\n').encode(),
    "action_nan.toml": (STEADY + '[[actions]]\nat_s = nan\ncommand = "nibp_start"\n').encode(),
    "message.toml": (BASE + '[[alarm]]\nid = "PR_HIGH"\nmessage = nan\n').encode(),
    "description.toml": (STEADY + "description = 5\n").encode(),
    "action_arg.toml": (STEADY + '[[actions]]\nat_s = 1\ncommand = "nibp_start"\nx = 1\n').encode(),
}
LONG = "x" * 260
FIFO_TOO = "fifo.vitalmon"
# (argv, words the line must hold)
CASES: list[tuple[str, str]] = [
    # not a regular file: refused at once, never a hang
    ("replay {tmp}/fifo.vitalmon --headless", "FIFO (named pipe), not a regular session file"),
    ("log {tmp}/fifo.vitalmon --alarms", "FIFO"),
    ("export {tmp}/fifo.vitalmon --format csv --out {tmp}/x.csv", "FIFO"),
    ("report {tmp}/fifo.vitalmon --out {tmp}/r.pdf", "FIFO"),
    ("decode nonin2 {tmp}/fifo.vitalmon", "FIFO (named pipe), not a regular capture file"),
    ("decode nonin2 /dev/zero", "character device, not a regular capture file"),
    ("decode nonin2 {tmp}", "directory"),
    ("replay /dev/zero --headless", "character device"),
    ("run --headless --sim {tmp}/fifo.toml", "FIFO (named pipe), not a regular scenario file"),
    ("run --headless --preset {tmp}/fifo.toml", "FIFO (named pipe), not a regular preset file"),
    ("run --headless --commands {tmp}/fifo.toml", "FIFO (named pipe), not a regular commands"),
    ("run --headless --sim /dev/zero.toml", "cannot read scenario file"),
    # presets: one line naming the file and the key
    ("run --headless --preset {tmp}/binary.toml", "binary.toml': not UTF-8 text"),
    ("run --headless --preset {tmp}/deep.toml", "deep.toml: nested too deep"),
    ("run --headless --preset {tmp}/deep_tables.toml", "deep_tables.toml: nested too deep"),
    ("run --headless --preset {tmp}/alarm5.toml", "alarm5.toml: 'alarm' must be an array"),
    ("run --headless --preset {tmp}/alarm_list.toml", "[[alarm]] #1 must be a table"),
    ("run --headless --preset {tmp}/pause_nan.toml", "'audio_pause_s' must be a finite number"),
    ("run --headless --preset {tmp}/pause_inf.toml", "'alarm_pause_s' must be a finite number"),
    ("run --headless --preset {tmp}/enabled.toml", "(PR_HIGH): 'enabled' must be true or false"),
    ("run --headless --preset {tmp}/choices.toml", "'choices' must be an array"),
    ("run --headless --preset {tmp}/message.toml", "(PR_HIGH): 'message' must be text, not float"),
    (f"run --headless --preset {LONG}", "unknown alarm preset 'xxxxxxxx"),
    # scenarios
    ("run --headless --sim {tmp}/binary.toml", "binary.toml': not UTF-8 text"),
    ("run --headless --sim {tmp}/deep.toml", "deep.toml: nested too deep"),
    ("run --headless --sim {tmp}/at_nan.toml", "step 1 (line 2): 'at_s' must be a finite"),
    ("run --headless --sim {tmp}/ramp_inf.toml", "'ramp_s' must be a finite number"),
    ("run --headless --sim {tmp}/nibp_error.toml", "'nibp_error' must be 0 or a SunTech code"),
    ("run --headless --sim {tmp}/suntech.toml", "'oximeter' = 'suntech' is a nibp protocol"),
    ("run --headless --sim {tmp}/nosuch.toml", "[devices] 'resp': unknown protocol 'nosuch'"),
    ("run --headless --sim {tmp}/action_nan.toml", "[[actions]] #1: 'at_s' must be a finite"),
    (
        "run --headless --sim {tmp}/action_arg.toml",
        "action_arg.toml: [[actions]]: the command at 1 s: nibp_start: unknown argument 'x'",
    ),
    ("run --headless --sim {tmp}/description.toml", "description.toml: 'description' must be text"),
    (f"run --headless --sim {LONG}", "unknown scenario 'xxxxxxxx"),
    (f"sim {LONG} --pty", "unknown scenario 'xxxxxxxx"),
    ("run --headless --sim ''", "empty scenario name"),
    ("sim '' --pty", "empty scenario name"),
    # arguments outside their domain
    ("run --headless --seed -1", "the seed must be 0 to 4294967295, not -1"),
    ("run --headless --seed 4294967296", "the seed must be 0 to"),
    ("sim steady --pty --seed -1", "the seed must be 0 to"),
    ("run --headless --oximeter nonin2:socket://127.0.0.1:99999", "PORT 1-65535"),
    ("run --headless --oximeter nonin2:socket://127.0.0.1:0", "PORT 1-65535"),
    ("run --headless --oximeter nonin2:socket://127.0.0.1", "PORT 1-65535"),
    ("run --headless --oximeter nonin2:socket://:7000", "PORT 1-65535"),
    ("export {good} --format wfdb --out {tmp}/rëcord", "WFDB record names"),
    # a file name of bytes that are not UTF-8 (as the shell passes them): pyedflib's was
    # a UnicodeEncodeError traceback
    ("export {good} --format edf --out {tmp}/\udcfa.edf", "EDF file paths must be UTF-8"),
    # speeds and durations: 1e-300 waited past the clock's end (a traceback)
    ("run --headless --speed 1e-300 --duration 2", "speed must be 0.01 to 1000, not 1e-300"),
    ("run --headless --speed 1e300 --duration 2", "speed must be 0.01 to 1000"),
    ("replay {good} --headless --speed 0.001", "speed must be 0.01 to 1000"),
    ("sim steady --pty --speed 5000", "speed must be 0.01 to 1000"),
    ("run --headless --duration 1e300", "duration must be at most 31536000 s"),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, report_session) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("inputs")
    for name, data in FILES.items():
        (tmp / name).write_bytes(data)
    os.mkfifo(tmp / "fifo.vitalmon")
    os.mkfifo(tmp / "fifo.toml")
    good = tmp / "good.vitalmon"
    shutil.copyfile(report_session[0], good)
    return tmp, good


@pytest.mark.parametrize(("line", "needle"), CASES, ids=[c[0][:60] for c in CASES])
def test_bad_file_or_value_is_one_line(line: str, needle: str, scratch, capsys) -> None:
    tmp, good = scratch
    argv = shlex.split(line.format(tmp=tmp, good=good))
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
    assert len(lines[0]) < 400
    assert captured.out == ""
    assert fingerprint(tmp) == before


def test_decode_streams_a_large_capture_in_bounded_memory(tmp_path) -> None:
    """512 MiB (sparse: zeros) through `decode --summary` in the real process: memory
    stays near the interpreter's own (it was read whole, and /dev/zero to MemoryError)."""
    capture = tmp_path / "big.bin"
    with open(capture, "wb") as f:
        f.truncate(512 << 20)

    def limit() -> None:  # a copy of the whole capture would not fit
        resource.setrlimit(resource.RLIMIT_AS, (400 << 20, 400 << 20))

    out = subprocess.run(
        [*vitalmon_cmd("decode", "nonin2", str(capture), "--summary")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        preexec_fn=limit,
    )
    assert out.returncode == 0, out.stderr[-500:]
    assert '"dropped_bytes": 536870912' in out.stdout or "536870912" in out.stdout, out.stdout
