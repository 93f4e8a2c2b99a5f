"""Headless mode: the same pipeline with no window, every record as one JSON line."""

from __future__ import annotations

import time
from typing import TextIO

from monitor.records import Record, record_json


class JsonLinesWriter:
    """A pipeline listener that writes each record as a JSON line.

    A line is flushed at once (someone may be waiting for it), unless `flush_after_s`
    is given: a run at --speed max, which no one watches in real time, then flushes
    at most that often and at `flush()`, instead of paying a system call per line."""

    def __init__(self, stream: TextIO, flush_after_s: float = 0.0) -> None:
        self._stream = stream
        self._flush_after_s = flush_after_s
        self._flushed = time.monotonic()

    def __call__(self, record: Record) -> None:
        self._stream.write(record_json(record) + "\n")
        if self._flush_after_s <= 0.0:
            self._stream.flush()
            return
        now = time.monotonic()
        if now - self._flushed >= self._flush_after_s:
            self._stream.flush()
            self._flushed = now

    def flush(self) -> None:
        self._stream.flush()
