"""Headless command input: JSON lines (`--commands -`) onto the command bus.

So QA can script a whole session.

One command a line: `{"cmd": "acknowledge"}`, `{"cmd": "mark_event", "kind": "note",
"text": "..."}`; the arguments sit beside `cmd` (or in an `args` object). An
optional `"at": <data time s>` applies it exactly at that data time, which makes
a script give the same output at any speed. A line that cannot be parsed (not
UTF-8, not JSON, nested too deep, longer than `MAX_LINE_BYTES`) costs one stderr
line; a command with a bad `at` is an `error` record too; the run goes on. Only a
stream that cannot be read any more stops the reader, and then the run is told
(`on_fatal`) so it can say so and end non-zero (docs/reliability.md).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from drivers.errors import shown
from monitor.commands import CommandBus, CommandError

OnError = Callable[[str], None]
MAX_LINE_BYTES = 1 << 20  # no command comes near this; a longer line is refused unread
_SKIP_BYTES = 1 << 16


class BadAt(CommandError):
    """A command whose `at` is not a data time: refused as an `error` record."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def parse_command(line: str | bytes) -> tuple[float | None, str, dict[str, object]]:
    """`(at, name, args)` from one JSON line; CommandError says what is wrong."""
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CommandError(f"not JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise CommandError("not UTF-8 text") from None
    except RecursionError:
        raise CommandError("JSON nested too deep") from None
    if not isinstance(doc, dict):
        raise CommandError("a command line must be a JSON object")
    name = doc.pop("cmd", None)
    if name is None:
        raise CommandError('missing "cmd" (the command name)')
    if not isinstance(name, str) or not name:
        raise CommandError(f'"cmd" must be a command name, not {shown(repr(name))}')
    at = doc.pop("at", None)
    if at is not None and (
        isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at) or at < 0
    ):
        raise BadAt(name, f'"at" must be a finite data time in seconds >= 0, not {shown(repr(at))}')
    args = doc.pop("args", {})
    if not isinstance(args, dict):
        raise CommandError('"args" must be a JSON object')
    return (None if at is None else float(at)), name, {**args, **doc}


def submit_line(bus: CommandBus, line: str | bytes) -> None:
    try:
        at, name, args = parse_command(line)
    except BadAt as exc:
        if exc.name in bus.names():
            bus.refuse(exc.name, str(exc))
        raise
    if at is None:
        bus.submit(name, **args)
    else:
        bus.schedule(at, name, **args)


def bounded_lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """Each line as bytes, or None for one longer than MAX_LINE_BYTES (skipped without
    holding it: memory stays bounded whatever the input). Bytes, not text: a line is
    measured before it is decoded (stdin is read through `sys.stdin.buffer`)."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = stream.readline(_SKIP_BYTES)
        yield None


def read_commands(stream: BinaryIO, bus: CommandBus, on_error: OnError) -> int:
    """Submit every line of `stream` until it ends; returns how many were accepted.
    An OSError from the stream itself is left to the caller."""
    accepted = 0
    for number, line in enumerate(bounded_lines(stream), start=1):
        if line is None:
            on_error(f"commands line {number}: longer than {MAX_LINE_BYTES} bytes, skipped")
            continue
        text = line.strip()
        if not text or text.startswith(b"#"):
            continue
        try:
            submit_line(bus, text)
            accepted += 1
        except CommandError as exc:
            on_error(f"commands line {number}: {exc}")
    return accepted


def start_reader(
    stream: BinaryIO,
    bus: CommandBus,
    on_error: OnError,
    on_fatal: Callable[[str], None],
) -> threading.Thread:
    """Read commands as they come (a live run), on a daemon thread. If the stream cannot
    be read any more, `on_fatal` gets one line: the run must not go on believing its
    script is still being followed."""

    def reader() -> None:
        try:
            read_commands(stream, bus, on_error)
        except Exception as exc:  # whatever it was, the run must hear of it
            on_fatal(f"cannot read commands any more: {describe(exc)}")

    thread = threading.Thread(target=reader, name="command-input", daemon=True)
    thread.start()
    return thread


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"
