"""`vitalmon decode PROTO FILE [--hex] [--summary]`: a raw capture to JSON lines.

QA runs it on captures from real devices: one line per decoded frame (`null`
for a value the device did not send), or with `--summary` the decoder's
counters (frames, bytes dropped, resyncs, checksum failures) instead.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

from drivers.base import Decoder
from drivers.capnostat import CapnoBatch, frame_json
from drivers.errors import VitalmonError
from drivers.files import open_regular
from drivers.registry import capno_decoder, get_protocol, oximeter_decoder
from drivers.types import OximeterBatch, OximeterFlag

READ_BYTES = 1 << 16
_HEX_NOISE = re.compile(r"0x|[\s,:;-]", re.IGNORECASE)


class CaptureError(VitalmonError):
    """A capture file that cannot be read as asked."""


def register(commands) -> argparse.ArgumentParser:
    decode = commands.add_parser("decode", help="decode a raw capture to JSON lines")
    decode.add_argument("protocol", metavar="PROTO", help="e.g. nonin2, contec7, masimo, capnostat")
    decode.add_argument("file", metavar="FILE", help="raw bytes (or hex text with --hex)")
    decode.add_argument("--hex", action="store_true", help="FILE is hex text (spaces ok)")
    decode.add_argument(
        "--summary", action="store_true", help="print the decoder's counters instead"
    )
    return decode


def capture_chunks(path: str, as_hex: bool) -> Iterator[bytes]:
    """The capture's bytes, READ_BYTES at a time: memory stays bounded for any size
    (`/dev/zero` is refused as a device; a huge regular file streams)."""
    try:
        stream = open_regular(path, "capture file")
    except OSError as exc:
        raise CaptureError(f"cannot read capture '{path}': {exc.strerror or exc}") from None
    with stream:
        carry = ""
        while True:
            try:
                raw = stream.read(READ_BYTES)
            except OSError as exc:
                raise CaptureError(f"cannot read capture '{path}': {exc.strerror}") from None
            if not as_hex:
                if not raw:
                    return
                yield raw
                continue
            text, carry = _hex_piece(carry + raw.decode("ascii", errors="replace"), bool(raw))
            try:
                data = bytes.fromhex(text)
            except ValueError as exc:
                raise CaptureError(f"'{path}' is not hex text: {exc}") from None
            if data:
                yield data
            if not raw:
                return


def _hex_piece(text: str, more: bool) -> tuple[str, str]:
    """(hex digits to decode now, text to carry on): a token cut by the read, or the odd
    digit of a pair, waits for the next read."""
    if not more:
        return _HEX_NOISE.sub("", text), ""
    cut = max(text.rfind(c) for c in " \t\r\n,:;-")
    text, tail = (text[: cut + 1], text[cut + 1 :]) if cut >= 0 else (text, "")
    digits = _HEX_NOISE.sub("", text)
    if len(digits) % 2:
        digits, tail = digits[:-1], digits[-1] + tail
    return digits, tail


def _number(value: float | None) -> float | int | None:
    if value is None or math.isnan(value):
        return None
    return int(value) if float(value).is_integer() else round(float(value), 3)


def frame_records(batch: OximeterBatch) -> Iterator[dict[str, object]]:
    columns = zip(
        batch.pleth.tolist(),
        batch.spo2_percent.tolist(),
        batch.pulse_rate_bpm.tolist(),
        batch.perfusion_index_percent.tolist(),
        batch.flags.tolist(),
        strict=True,
    )
    for pleth, spo2, pr, pi, flags in columns:
        yield {
            "pleth": _number(pleth),
            "spo2": _number(spo2),
            "pr": _number(pr),
            "pi": _number(pi),
            "status": OximeterFlag.names(flags),
        }


def capno_records(batch: CapnoBatch) -> Iterator[dict[str, object]]:
    """Stream frames and the module's other frames, in the order they came."""
    messages = iter(batch.messages)
    pending = next(messages, None)
    columns = zip(
        batch.co2_mmhg.tolist(),
        batch.etco2_mmhg.tolist(),
        batch.fico2_mmhg.tolist(),
        batch.rr_bpm.tolist(),
        batch.status.tolist(),
        strict=True,
    )
    for row, (co2, etco2, fico2, rr, status) in enumerate(columns):
        while pending is not None and pending[0] <= row:
            yield pending[1].to_json()
            pending = next(messages, None)
        yield frame_json(co2, etco2, fico2, rr, status)
    while pending is not None:
        yield pending[1].to_json()
        pending = next(messages, None)


B = TypeVar("B")


def run(args: argparse.Namespace) -> int:
    info = get_protocol(args.protocol)
    if info.kind == "oximeter":
        return _decode(args, info.name, oximeter_decoder(info.name), frame_records)
    if info.kind == "capno":
        return _decode(args, info.name, capno_decoder(info.name), capno_records)
    raise CaptureError(
        f"decode supports oximeter and capnography protocols; '{info.name}' is {info.kind}"
    )


def _decode(
    args: argparse.Namespace,
    name: str,
    decoder: Decoder[B],
    records: Callable[[B], Iterator[dict[str, object]]],
) -> int:
    out = sys.stdout
    for data in capture_chunks(args.file, args.hex):
        batch = decoder.feed(data)
        if not args.summary:
            out.writelines(json.dumps(r) + "\n" for r in records(batch))
    if args.summary:
        summary = {"protocol": name, **decoder.counters.to_json()}
        out.write(json.dumps(summary) + "\n")
    out.flush()
    return 0
