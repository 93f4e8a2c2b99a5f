"""`--publish URL --chair NAME [--ca FILE] [--password-file FILE]`: the central-station link.

Shared by `vitalmon run` and `vitalmon clinic`; everything wrong with the address, the
password or the CA is one line before any port opens (docs/central.md).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor.cli.common import UsageError
from monitor.commands import CommandError
from monitor.net.broker import LinkSetupError, check_ca, check_name, parse_broker_url, read_password
from monitor.net.settings import load_link_settings, settings_path
from monitor.pipeline import AcquisitionPipeline

if TYPE_CHECKING:  # the MQTT client is imported only by a run that publishes
    from monitor.net.publisher import CentralPublisher


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
    from monitor.net.publisher import CentralPublisher

    publisher = CentralPublisher(address, password, chair, pipeline, ca_file, on_fatal)
    pipeline.subscribe(publisher)
    settings = getattr(args, "link_settings", None)
    if settings is not None:
        print(f"vitalmon: publishing to {address} as {chair} ({settings})", file=sys.stderr)
    return publisher


def apply_gui_settings(args: argparse.Namespace) -> None:
    """The GUI without `--publish` publishes as its settings file says, if there is one."""
    if args.headless or args.publish is not None or args.chair is not None:
        return
    try:
        settings = load_link_settings()
    except LinkSetupError as exc:
        raise UsageError(str(exc)) from None
    if settings is None:
        return
    args.publish, args.chair = settings.url, settings.chair
    args.ca = args.ca or settings.ca_file
    args.password_file = args.password_file or settings.password_file
    args.link_settings = settings_path()


def link_refused_alarm(message: str, pipeline: AcquisitionPipeline) -> None:
    """In the window a refused user does not stop monitoring: one line on stderr, and
    CENTRAL_LINK_LOST on the alarm bar saying why (it stays: the link will not return)."""
    from monitor.net.publisher import ALARM_ID as LINK_ALARM

    print(f"vitalmon: {message}", file=sys.stderr, flush=True)
    with contextlib.suppress(CommandError):
        pipeline.commands.submit("technical_alarm", id=LINK_ALARM, active=True, message=message)
