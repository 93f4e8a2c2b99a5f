"""The `vitalmon` command line: the contract QA scripts and tests rely on (docs/architecture.md).

Each subcommand is a module here with `register(commands)` and `run(args)`.
Every user mistake ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from drivers.errors import VitalmonError
from monitor.cli.common import PROG, OneLineParser

# Subcommand modules, in the order `--help` lists them.
SUBCOMMANDS = (
    "run",
    "central",
    "clinic",
    "sim",
    "scenarios",
    "decode",
    "replay",
    "log",
    "export",
    "report",
    "alarm-sound",
)


def build_parser(only: str | None = None) -> OneLineParser:
    """Every subcommand (for `--help` and a mistyped one), or `only` the one asked for:
    each imports what it needs, and `run` need not wait for `report`'s or `central`'s
    modules (about 0.1 s of every start)."""
    parser = OneLineParser(
        prog=PROG, description="Bedside vital-signs monitor for the ketamine-infusion chair."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS if only is None else (only,):
        module = importlib.import_module(f"monitor.cli.{name.replace('-', '_')}")
        sub = module.register(commands)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    parser = build_parser(argv[0] if argv[0] in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except VitalmonError as exc:
        # A file name of bytes that are not UTF-8 comes as surrogates: escaped, as the
        # interpreter's own stderr would, whatever stream stderr is.
        line = f"{PROG}: {exc}".encode("utf-8", "backslashreplace").decode("utf-8")
        print(line, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): nothing more to say, and nothing for
        # the interpreter's own flush at exit to complain about.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
