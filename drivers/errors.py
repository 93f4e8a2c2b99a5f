"""One root exception for everything vitalmon reports to a user as a clear message."""

from __future__ import annotations


class VitalmonError(Exception):
    """A problem the user can act on; the CLI prints it as one line, never a traceback."""


SHOWN_CHARS = 40


def shown(text: str) -> str:
    """A name the user gave, cut for a message: a 500 kB name stays one short line."""
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


class UnknownProtocolError(VitalmonError):
    """A protocol name that no driver answers to."""


class PortSpecError(VitalmonError):
    """A `PROTO:PORT` spec that cannot be parsed."""


class PortOpenError(VitalmonError):
    """A port that cannot be opened (missing, busy, no permission)."""
