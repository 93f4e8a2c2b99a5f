"""`--publish URL --chair NAME [--ca FILE] [--password-file FILE]`: the central-station link.

Shared by `vitalmon run` and `vitalmon clinic`; everything wrong with the address, the
password or the CA is one line before any port opens (docs/central.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from monitor.cli.common import UsageError
from monitor.net.broker import LinkSetupError, check_ca, check_name, parse_broker_url, read_password
from monitor.net.publisher import CentralPublisher
from monitor.pipeline import AcquisitionPipeline


def register_publish(parser: argparse.ArgumentParser, chair: bool = True) -> None:
    parser.add_argument(
        "--publish", metavar="URL", help="central station: mqtt[s]://USER@HOST:PORT/CLINIC"
    )
    if chair:
        parser.add_argument("--chair", metavar="NAME", help="this chair's name at the central")
    register_credentials(parser)


def register_credentials(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca", metavar="FILE", help="CA certificate of an mqtts:// broker")
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="broker password (first line); else VITALMON_MQTT_PASSWORD",
    )


def make_publisher(
    args: argparse.Namespace, pipeline: AcquisitionPipeline, on_fatal: Callable[[str], object]
) -> CentralPublisher | None:
    """The publisher `--publish` asks for, subscribed to `pipeline` (not started yet)."""
    if args.publish is None:
        if getattr(args, "chair", None) is not None:
            raise UsageError("--chair goes with --publish URL")
        return None
    if not getattr(args, "chair", None):
        raise UsageError("--publish needs --chair NAME (this chair's name at the central)")
    try:
        address = parse_broker_url(args.publish)
        chair = check_name(args.chair, "chair")
        ca_file = check_ca(address, args.ca)
        password = read_password(args.password_file)
    except LinkSetupError as exc:
        raise UsageError(str(exc)) from None
    publisher = CentralPublisher(address, password, chair, pipeline, ca_file, on_fatal)
    pipeline.subscribe(publisher)
    return publisher
