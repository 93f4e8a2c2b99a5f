"""MLLP (HL7 v2 over TCP) without the sockets: the address, frames in, and the ACK.

`mllp://HOST:PORT[?timeout=S]` names a receiver (a clinic's interface engine);
`timeout` is how long to wait for each ACK (docs/interchange.md). Frames are
`0x0B message 0x1C 0x0D`; bytes between frames are ignored, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from drivers.errors import VitalmonError

START = b"\x0b"
END = b"\x1c\r"
ACK_TIMEOUT_S = 10.0
MAX_FRAME = 1 << 20  # an answer this long without its end is not an ACK: dropped


class Hl7AddressError(VitalmonError):
    """An `--hl7` URL the sender cannot start with."""


@dataclass(frozen=True, slots=True)
class MllpAddress:
    host: str
    port: int
    ack_timeout_s: float = ACK_TIMEOUT_S

    def __str__(self) -> str:
        return f"mllp://{self.host}:{self.port}"


def parse_mllp_url(url: str) -> MllpAddress:
    parts = urlsplit(url)
    if parts.scheme != "mllp":
        raise Hl7AddressError(f"'{url}': the HL7 receiver URL must start mllp://")
    try:
        port = parts.port
    except ValueError:
        raise Hl7AddressError(f"'{url}': the port is not a number 1-65535") from None
    if not parts.hostname:
        raise Hl7AddressError(f"'{url}': no host (mllp://HOST:PORT)")
    if port is None or port == 0:
        raise Hl7AddressError(f"'{url}': no port (mllp://HOST:PORT; MLLP has no default)")
    if parts.path not in ("", "/") or parts.username or parts.fragment:
        raise Hl7AddressError(f"'{url}': only mllp://HOST:PORT[?timeout=S] is understood")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"timeout"})
    if unknown:
        raise Hl7AddressError(f"'{url}': unknown option '{unknown[0]}' (only timeout=S)")
    timeout = ACK_TIMEOUT_S
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][-1])
        except ValueError:
            timeout = math.nan
        if not (math.isfinite(timeout) and 0.1 <= timeout <= 600):
            raise Hl7AddressError(f"'{url}': timeout must be 0.1-600 seconds")
    return MllpAddress(parts.hostname, port, timeout)


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END


class FrameReader:
    """Bytes as they come off the socket in, whole messages out."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        out: list[str] = []
        while True:
            start = self._buffer.find(START)
            if start < 0:
                self._buffer.clear()
                return out
            end = self._buffer.find(END, start + 1)
            if end < 0:
                del self._buffer[:start]
                if len(self._buffer) > MAX_FRAME:
                    self._buffer.clear()
                return out
            out.append(self._buffer[start + 1 : end].decode("utf-8", "replace"))
            del self._buffer[: end + len(END)]


@dataclass(frozen=True, slots=True)
class Ack:
    code: str  # MSA-1: AA/CA accepted, AE/CE error, AR/CR rejected
    control_id: str  # MSA-2: the MSH-10 it answers
    text: str  # MSA-3 or ERR, for the error record

    @property
    def accepted(self) -> bool:
        return self.code in ("AA", "CA")

    @property
    def rejected(self) -> bool:
        return self.code in ("AR", "CR")


def parse_ack(message: str) -> Ack | None:
    """The MSA of an answer (None if there is none): tolerant, never raises."""
    segments = [s for s in message.replace("\n", "\r").split("\r") if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 4:
        return None
    sep = segments[0][3]
    msa = next((s.split(sep) for s in segments if s.startswith("MSA" + sep)), None)
    if msa is None or len(msa) < 3:
        return None
    text = msa[3] if len(msa) > 3 else ""
    err = next((s for s in segments if s.startswith("ERR" + sep)), "")
    if not text and err:
        text = err[4:]
    return Ack(msa[1].strip(), msa[2].strip(), text.strip())
