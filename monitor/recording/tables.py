"""Records as spreadsheet rows: one column per key, in the order keys first appear."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import TextIO

from monitor.records import Record


def columns(records: Sequence[Record]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        for key in record:
            seen.setdefault(key, None)
    return list(seen)


def cell(value: object) -> object:
    """Missing is an empty cell; lists and objects are JSON text."""
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, separators=(",", ":"))
    return value


def write_csv(records: Sequence[Record], stream: TextIO) -> None:
    names = columns(records)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([cell(record.get(name)) for name in names])
