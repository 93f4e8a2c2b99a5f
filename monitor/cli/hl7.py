"""`--hl7 mllp://HOST:PORT[?timeout=S]`: the live feed to the hospital (docs/interchange.md).

The URL is checked before any port opens (a bad one is one line, exit 1); the sender
starts with the run and takes the recording's session id for its message control ids,
so the live messages are the very ones `vitalmon export --format hl7` writes.
"""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING

from monitor.hl7.mllp import MllpAddress, parse_mllp_url
from monitor.pipeline import AcquisitionPipeline

if TYPE_CHECKING:  # the sender is imported only by a run that sends
    from monitor.net.hl7_sender import Hl7Sender


def register_hl7(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hl7",
        metavar="URL",
        help="send HL7 v2 ORU^R01 vital signs to the hospital: mllp://HOST:PORT[?timeout=S]",
    )


def hl7_address(args: argparse.Namespace) -> MllpAddress | None:
    return None if args.hl7 is None else parse_mllp_url(args.hl7)


def make_hl7_sender(
    address: MllpAddress | None, pipeline: AcquisitionPipeline, session_id: str | None
) -> Hl7Sender | None:
    """The sender, subscribed to `pipeline` (not started yet)."""
    if address is None:
        return None
    from monitor.net.hl7_sender import Hl7Sender

    prefix = (session_id or str(uuid.uuid4()))[:8]
    sender = Hl7Sender(address, pipeline, prefix)
    pipeline.subscribe(sender)
    return sender
