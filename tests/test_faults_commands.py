"""Hostile and careless `--commands` input through the real `vitalmon run`: argument
names that once collided with the bus's own parameters, bad `at` times, lines that
cannot be parsed at any depth or size, and a stdin that fails (docs/reliability.md)."""

from __future__ import annotations

import os
import pty
import subprocess
import time
import tty

import pytest

from monitor.command_input import MAX_LINE_BYTES
from tests.conftest import REPO, json_lines, run_vitalmon, vitalmon_cmd

SCRIPT = "\n".join(
    [
        '{"cmd":"restore_preset","name":"ketamine-adult","at":3}',
        '{"cmd":"acknowledge","self":1}',
        '{"cmd":"nibp_start","x":1}',
        '{"cmd":"mark_event","kind":"note","text":"nan","at":NaN}',
        '{"cmd":"mark_event","kind":"note","text":"inf","at":Infinity}',
        '{"cmd":"mark_event","kind":"note","text":"word","at":"soon"}',
        '{"cmd":"pause_audio","duration_s":1e300}',
        "[" * 100_000 + "]" * 100_000,
        '{"cmd":"mark_event","kind":"note","text":"' + "x" * (MAX_LINE_BYTES + 10) + '"}',
        '{"cmd":"mark_event","kind":"note","text":"after","at":4}',
        # names of any length are echoed cut short (were: whole, 500 kB stderr lines and
        # error records); a "cmd" that is not a name says so (was: "missing")
        '{"cmd":"' + "c" * 500_000 + '"}',
        '{"cmd":"acknowledge","' + "k" * 300_000 + '":1}',
        '{"cmd":"acknowledge","at":"' + "y" * 300_000 + '"}',
        '{"cmd":5}',
        "",
    ]
)


def _check(out: subprocess.CompletedProcess[str]) -> None:
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    records = json_lines(out.stdout)
    errors = {(r["command"], r["message"].split(":")[0]) for r in records if r["type"] == "error"}
    assert ("acknowledge", "acknowledge") in errors  # unknown argument 'self'
    assert any("unknown argument 'self'" in r.get("message", "") for r in records)
    assert any("nibp_start: unknown argument 'x'" in r.get("message", "") for r in records)
    bad_at = [r for r in records if r["type"] == "error" and '"at"' in r["message"]]
    assert len(bad_at) == 4 and {r["command"] for r in bad_at} == {"mark_event", "acknowledge"}
    assert all(len(r["message"]) < 300 for r in records if r["type"] == "error")
    assert any("at most 600" in r.get("message", "") for r in records)
    commands = [(r["t"], r["name"], r["args"]) for r in records if r["type"] == "command"]
    assert (3.0, "restore_preset", {"name": "ketamine-adult"}) in commands
    assert (4.0, "mark_event", {"kind": "note", "text": "after"}) in commands  # not blocked
    notes = [r["text"] for r in records if r["type"] == "event" and r["kind"] == "note"]
    assert notes == ["after"]
    lines = out.stderr.splitlines()
    assert any("line 8: JSON nested too deep" in line for line in lines)
    assert any(f"line 9: longer than {MAX_LINE_BYTES} bytes" in line for line in lines)
    assert any("line 11: unknown command 'cccccccc" in line for line in lines)
    assert any('line 14: "cmd" must be a command name, not 5' in line for line in lines)
    assert all(len(line) < 300 for line in lines)


@pytest.mark.parametrize("speed", ["max", "20"])
def test_hostile_command_lines_cost_a_line_each_and_the_run_goes_on(speed: str) -> None:
    out = run_vitalmon(
        "run", "--headless", "--duration", "6", "--speed", speed, "--commands", "-", input=SCRIPT
    )
    _check(out)


def test_a_stdin_that_fails_stops_the_run_with_one_line_and_nonzero_exit() -> None:
    """A live reader whose stdin breaks (EIO: the terminal went away) does not die in
    silence: the run says so and ends non-zero instead of running on unscripted."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen(
        vitalmon_cmd("run", "--headless", "--duration", "60", "--commands", "-"),
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    os.close(slave)
    try:
        os.write(master, b'{"cmd":"mark_event","kind":"note","text":"hello"}\n')
        time.sleep(3)
        os.close(master)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "cannot read commands any more" in err and "stopping the run" in err
    assert any(r.get("text") == "hello" for r in json_lines(out))
