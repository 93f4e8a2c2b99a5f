"""Headless mode: the same pipeline with no window, every record as one JSON line."""

from __future__ import annotations

import time
from typing import TextIO

from monitor.records import Record, record_json


class JsonLinesWriter:
    """A pipeline listener that writes each record as a JSON line.

    A line is flushed at once (someone may be waiting for it), unless `flush_after_s`
    is given: a run at --speed max, which no one watches in real time, then writes its
    lines at most that often and at `flush()`, in one write each time, instead of
    paying a system call per line (which an unbuffered stdout, PYTHONUNBUFFERED, would
    make of every `write`)."""

    def __init__(self, stream: TextIO, flush_after_s: float = 0.0) -> None:
        self._stream = stream
        self._flush_after_s = flush_after_s
        self._flushed = time.monotonic()
        self._lines: list[str] = []

    def __call__(self, record: Record) -> None:
        if self._flush_after_s <= 0.0:
            self._stream.write(record_json(record) + "\n")
            self._stream.flush()
            return
        self._lines.append(record_json(record))
        now = time.monotonic()
        if now - self._flushed >= self._flush_after_s:
            self.flush()
            self._flushed = now

    def flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()
