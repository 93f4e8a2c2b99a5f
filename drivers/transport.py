"""Any pyserial port or URL, read on its own thread, reopened with back-off when it vanishes.

A pulled USB adapter, a closed pty master and a dropped socket all surface as
`SerialException`/`OSError` from `read()`; each one closes the port, reports the
link down and reopens the same name until it is back, without a restart.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence

import serial

from drivers.base import LineSettings
from drivers.errors import PortOpenError
from drivers.types import LinkEvent, LinkState

DataCallback = Callable[[bytes, float], None]
LinkCallback = Callable[[LinkEvent], None]

BACKOFF_S: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0)
READ_TIMEOUT_S = 0.05
# After the first bytes of a read, the rest that arrives within this long goes with
# them. A 9600-baud device otherwise comes a byte or two per read, and every hand-over
# is a chunk that the pipeline processes and the recording keeps (and a replay
# re-reads): hundreds a second instead of at most 50. The price: up to 20 ms of latency.
GATHER_S = 0.02
# A stream faster than the reads (noise on a socket, where pyserial reads a byte at a
# time) would keep the gathering going for ever: nothing handed over, so the link looked
# `silent` while bytes poured in. What gathered is handed over after this long at most.
MAX_GATHER_S = 2 * GATHER_S


def open_port(url: str, line: LineSettings) -> serial.SerialBase:
    """Open `url` with `line` settings, turning every failure into `PortOpenError`."""
    try:
        port = serial.serial_for_url(
            url,
            baudrate=line.baudrate,
            bytesize=line.bytesize,
            parity=line.parity,
            stopbits=line.stopbits,
            timeout=READ_TIMEOUT_S,
            write_timeout=1.0,
            do_not_open=True,
        )
        port.open()
        if isinstance(port, serial.Serial):
            # A real tty (or pty) may hold bytes from before we opened it (or from before
            # the adapter was pulled): they would be stamped as arriving now. Drop them.
            # (pyserial's posix open() flushes too; this keeps it true for any backend.)
            port.reset_input_buffer()
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PortOpenError(f"cannot open port '{url}': {exc}") from exc
    return port


class SerialTransport:
    """Reads one port on a daemon thread; hands bytes and link changes to callbacks."""

    def __init__(
        self,
        url: str,
        line: LineSettings,
        on_data: DataCallback,
        on_link: LinkCallback,
        backoff_s: Sequence[float] = BACKOFF_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.line = line
        self._on_data = on_data
        self._on_link = on_link
        self._backoff_s = tuple(backoff_s)
        self._clock = clock
        self._port: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_reopen: Callable[[], None] | None = None

    def open(self) -> None:
        """Open synchronously: a port missing at start-up is the user's mistake, said at once."""
        self._port = open_port(self.url, self.line)
        self._report(LinkState.UP, "opened")

    def start(self) -> None:
        if self._port is None:
            self.open()
        self._thread = threading.Thread(target=self._run, name=f"serial:{self.url}", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> bool:
        """Send bytes; False (and nothing raised) while the link is down."""
        with self._write_lock:
            port = self._port
            if port is None:
                return False
            try:
                port.write(data)
                return True
            except (serial.SerialException, OSError):
                return False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._close_port()

    def _report(self, state: LinkState, detail: str) -> None:
        self._on_link(LinkEvent(self.url, state, detail, self._clock()))

    def _close_port(self) -> None:
        with self._write_lock:
            port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            port = self._port
            if port is None:
                self._reconnect()
                continue
            gathered = bytearray()
            try:
                gathered += port.read(max(1, port.in_waiting))
                if not gathered:
                    continue
                arrived = first = self._clock()
                # Let the rest of a trickling stream gather, then take what is waiting.
                self._stop.wait(GATHER_S)
                while port.in_waiting and arrived - first < MAX_GATHER_S:
                    gathered += port.read(port.in_waiting)
                    arrived = self._clock()
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial's socket handler after a peer close.
                if gathered:  # what arrived before the loss is kept
                    self._on_data(bytes(gathered), self._clock())
                self._close_port()
                self._report(LinkState.DOWN, f"port lost: {exc}")
                continue
            self._on_data(bytes(gathered), arrived)

    def _reconnect(self) -> None:
        attempt = 0
        self._report(LinkState.RECONNECTING, "reopening")
        while not self._stop.is_set():
            delay = self._backoff_s[min(attempt, len(self._backoff_s) - 1)]
            if self._stop.wait(delay):
                return
            attempt += 1
            try:
                port = open_port(self.url, self.line)
            except PortOpenError:
                continue
            with self._write_lock:
                self._port = port
            self._report(LinkState.UP, f"reopened after {attempt} attempt(s)")
            if self.on_reopen is not None:
                self.on_reopen()
            return
