"""The one command interface: GUI buttons, headless `--commands -` and replay all use it.

Commands may be submitted from any thread; they are applied on the pipeline
thread at the data time of the next chunk, and each applied command becomes a
`{"type": "command", ...}` record, so a recording replays them at the same time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drivers.errors import VitalmonError, shown

Handler = Callable[[dict[str, object], float], None]


class CommandError(VitalmonError):
    """An unknown command or bad arguments."""


@dataclass(frozen=True, slots=True)
class Command:
    """One command; `refused` set means it was refused before it could be queued (a bad
    `at`): applying it only makes its `error` record, at the data time it comes up."""

    name: str
    args: dict[str, object] = field(default_factory=dict)
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    handler: Handler
    help: str
    accepts: frozenset[str] | None = None  # None: the handler checks its own arguments


class CommandBus:
    def __init__(self) -> None:
        self._specs: dict[str, CommandSpec] = {}
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._scheduled: list[tuple[float, int, Command]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def register(
        self, name: str, handler: Handler, help: str, accepts: Iterable[str] | None = None
    ) -> None:
        """`accepts`: the argument names the command takes; any other is refused by name."""
        if name in self._specs:
            raise ValueError(f"command '{name}' registered twice")
        allowed = None if accepts is None else frozenset(accepts)
        self._specs[name] = CommandSpec(name, handler, help, allowed)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def require_known(self, name: str) -> None:
        if name not in self._specs:
            known = ", ".join(self.names())
            raise CommandError(f"unknown command '{shown(name)}' (known: {known})")

    def check(self, name: str, args: dict[str, object]) -> None:
        """A known command with no argument it refuses by name: what a file's scripted
        command must pass before the run starts (a live line gets its `error` record)."""
        self.require_known(name)
        accepts = self._specs[name].accepts
        unknown = sorted(set(args) - accepts) if accepts is not None else []
        if unknown:
            raise CommandError(f"{name}: unknown argument '{shown(unknown[0])}'")

    # `self`, `name` and `at` are positional-only, so an argument of any name (a preset's
    # `name`, even `self`) lands in **args instead of colliding with them.
    def submit(self, name: str, /, **args: object) -> None:
        """Queue a command (any thread). Unknown names are refused at once."""
        self.require_known(name)
        self._queue.put(Command(name, dict(args)))

    def refuse(self, name: str, reason: str) -> None:
        """Queue the `error` record of a command refused before it could be queued."""
        self._queue.put(Command(name, {}, refused=reason))

    def schedule(self, at: float, name: str, /, **args: object) -> None:
        """Queue a command for data time `at` (scripted runs: the same result at any speed)."""
        self.require_known(name)
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
            raise CommandError(f"'{name}': at must be a finite data time in seconds, not {at!r}")
        with self._lock:
            heapq.heappush(
                self._scheduled, (float(at), next(self._order), Command(name, dict(args)))
            )

    def due(self, t: float) -> list[tuple[float, Command]]:
        """Scheduled commands whose time has come by `t`, earliest first."""
        out = []
        with self._lock:
            while self._scheduled and self._scheduled[0][0] <= t:
                at, _, command = heapq.heappop(self._scheduled)
                out.append((at, command))
        return out

    def next_due(self) -> float:
        """The earliest data time a command is due (-inf: one is queued now; inf: none)."""
        if not self._queue.empty():
            return -math.inf
        with self._lock:
            return self._scheduled[0][0] if self._scheduled else math.inf

    def pending(self) -> list[Command]:
        if self._queue.empty():  # the usual case, asked after every chunk
            return []
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def apply(self, command: Command, t: float) -> None:
        """Run one command now (pipeline thread, or replay)."""
        if command.refused is not None:
            raise CommandError(command.refused)
        self.check(command.name, command.args)
        self._specs[command.name].handler(command.args, t)
