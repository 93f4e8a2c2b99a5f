"""`vitalmon central mqtt[s]://USER@HOST:PORT/CLINIC [--headless]`: the central station.

It subscribes to the clinic's topics and never publishes (docs/central.md). Headless,
it prints every record it receives as the bedside printed it plus `chair` and
`received`, and its own CHAIR_OFFLINE onsets and ends; without `--headless` it opens
the window (monitor.ui.central_window): a tile per chair, alarms in colour and sound.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from monitor.cli.common import UsageError, require_display, stop_on_signals
from monitor.cli.link import register_credentials
from monitor.net.broker import LinkSetupError, check_ca, parse_broker_url, read_password
from monitor.net.central import CentralModel
from monitor.records import Record

FIRST_ANSWER_S = 5.0  # how long the window waits for the broker to accept or refuse


def register(commands) -> argparse.ArgumentParser:
    central = commands.add_parser("central", help="the central station for a clinic's chairs")
    central.add_argument("url", metavar="URL", help="mqtt[s]://USER@HOST:PORT/CLINIC")
    central.add_argument("--headless", action="store_true", help="no window; JSON lines")
    register_credentials(central)
    return central


def print_records(records: list[Record]) -> None:
    for record in records:
        sys.stdout.write(json.dumps(record, separators=(", ", ": ")) + "\n")
    if records:
        sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    try:
        address = parse_broker_url(args.url)
        ca_file = check_ca(address, args.ca)
        password = read_password(args.password_file)
    except LinkSetupError as exc:
        raise UsageError(str(exc)) from None
    if not args.headless:
        require_display()
    from monitor.net.subscriber import CentralSubscriber  # the MQTT client: only here

    model = CentralModel(address.clinic, time.monotonic())
    emit = print_records if args.headless else None
    link = CentralSubscriber(model, address, password, ca_file, emit)
    link.start()
    if args.headless:
        received = stop_on_signals(link.stopped.set)
        try:
            while not link.stopped.wait(0.1):
                link.tick()
        finally:
            link.stop()
        status = 130 if signal.SIGINT in received else 0
    else:
        from monitor.ui.central_window import run_central_gui

        # The broker's answer first: a refused user is one line, before a window or a
        # sound device is opened (and complains of its own).
        deadline = time.monotonic() + FIRST_ANSWER_S
        while not (link.subscribed.is_set() or link.stopped.is_set()):
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        status = 1 if link.fatal is not None else run_central_gui(link)
    if link.fatal is not None:
        print(link.refused_line(), file=sys.stderr)
        return 1
    return status
