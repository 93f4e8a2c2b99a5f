"""Headless mode: the same pipeline with no window, every record as one JSON line."""

from __future__ import annotations

import json
from typing import TextIO

from monitor.pipeline import Record


class JsonLinesWriter:
    """A pipeline listener that writes each record as a JSON line, flushed at once."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, record: Record) -> None:
        self._stream.write(json.dumps(record, separators=(", ", ": ")) + "\n")
        self._stream.flush()
