"""Headless command input: JSON lines (`--commands -`) onto the command bus.

So QA can script a whole session.

One command a line: `{"cmd": "acknowledge"}`, `{"cmd": "mark_event", "kind": "note",
"text": "..."}`; the arguments sit beside `cmd` (or in an `args` object). An
optional `"at": <data time s>` applies it exactly at that data time, which makes
a script give the same output at any speed. A bad line costs one stderr line;
the run goes on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TextIO

from monitor.commands import CommandBus, CommandError

OnError = Callable[[str], None]


def parse_command(line: str) -> tuple[float | None, str, dict[str, object]]:
    """`(at, name, args)` from one JSON line; CommandError says what is wrong."""
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CommandError(f"not JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise CommandError("a command line must be a JSON object")
    name = doc.pop("cmd", None)
    if not isinstance(name, str) or not name:
        raise CommandError('missing "cmd" (the command name)')
    at = doc.pop("at", None)
    if at is not None and (isinstance(at, bool) or not isinstance(at, int | float) or at < 0):
        raise CommandError('"at" must be a data time in seconds >= 0')
    args = doc.pop("args", {})
    if not isinstance(args, dict):
        raise CommandError('"args" must be a JSON object')
    return (None if at is None else float(at)), name, {**args, **doc}


def submit_line(bus: CommandBus, line: str) -> None:
    at, name, args = parse_command(line)
    if at is None:
        bus.submit(name, **args)
    else:
        bus.schedule(at, name, **args)


def read_commands(stream: TextIO, bus: CommandBus, on_error: OnError) -> int:
    """Submit every line of `stream` until it ends; returns how many were accepted."""
    accepted = 0
    for number, line in enumerate(stream, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            submit_line(bus, line)
            accepted += 1
        except CommandError as exc:
            on_error(f"commands line {number}: {exc}")
    return accepted


def start_reader(stream: TextIO, bus: CommandBus, on_error: OnError) -> threading.Thread:
    """Read commands as they come (a live run), on a daemon thread."""
    thread = threading.Thread(
        target=read_commands, args=(stream, bus, on_error), name="command-input", daemon=True
    )
    thread.start()
    return thread
