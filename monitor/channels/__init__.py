"""One handler per device channel: decode its bytes, keep its stores, report its numerics.

The pipeline looks a channel's class up by the protocol's device kind, so adding
a device (NIBP, respiration) is a new module here plus one line in the table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from drivers.types import LinkEvent
from monitor.commands import CommandBus

Record = dict[str, object]
Emit = Callable[[Record], None]
Write = Callable[[bytes], bool]

# device kind -> "module:Class"
CHANNEL_CLASSES: dict[str, str] = {
    "oximeter": "monitor.channels.oximeter:OximeterChannel",
    "resp": "monitor.channels.resp:RespChannel",
    "nibp": "monitor.channels.nibp:NibpChannel",
}


class Channel(Protocol):
    name: str

    def feed(self, data: bytes, t: float) -> None:
        """Bytes that arrived by data time `t`."""

    def on_link(self, event: LinkEvent, t: float) -> None:
        """The port went up or down."""

    def tick(self, t: float) -> None:
        """Data time moved on (called after every chunk)."""

    def numerics_json(self, t: float) -> Record:
        """This channel's part of the once-a-second numerics record."""


def make_channel(
    kind: str, name: str, protocol: str, emit: Emit, write: Write, commands: CommandBus
) -> Channel:
    """Channels get `emit` for records, `write` for device commands, and the command bus
    to register the commands they answer (e.g. `nibp_start`)."""
    module_name, _, class_name = CHANNEL_CLASSES[kind].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(name=name, protocol=protocol, emit=emit, write=write, commands=commands)
