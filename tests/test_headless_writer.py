"""The headless printer: every record one JSON line, in order, whatever the flushing."""

from __future__ import annotations

import io
import json

from monitor.headless import JsonLinesWriter


class CountingStream(io.StringIO):
    """A stream that counts the writes it is asked for (each a system call when
    stdout is unbuffered, as with PYTHONUNBUFFERED)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def records(n: int) -> list[dict[str, object]]:
    return [{"type": "numerics", "t": float(k), "spo2": 97} for k in range(n)]


def test_at_speed_max_lines_go_out_together_and_all_of_them_at_flush() -> None:
    stream = CountingStream()
    printer = JsonLinesWriter(stream, flush_after_s=3600.0)  # no flush falls due here
    for record in records(500):
        printer(record)
    assert stream.getvalue() == ""  # held, not lost: flushed at the end of the run
    printer.flush()
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["t"] for line in lines] == [float(k) for k in range(500)]
    assert stream.writes == 1


def test_paced_every_line_is_out_at_once() -> None:
    stream = CountingStream()
    printer = JsonLinesWriter(stream)
    for k, record in enumerate(records(3)):
        printer(record)
        assert len(stream.getvalue().splitlines()) == k + 1
