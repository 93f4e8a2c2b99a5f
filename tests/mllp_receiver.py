"""A hospital interface engine in miniature, for the `--hl7` tests: a real TCP listener on
loopback that reads MLLP frames (checking the framing byte for byte), parses every
message with hl7apy and answers each as the test's `answer(message)` says: "AA", "AE",
"AR", or None (no answer at all). It can go away (listener and connections closed) and
come back on the same port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

START, END = b"\x0b", b"\x1c\r"

Answer = Callable[[str], str | None]


def control_id(message: str) -> str:
    return message.split("\r", 1)[0].split("|")[9]


class MllpReceiver:
    def __init__(self, answer: Answer = lambda _m: "AA") -> None:
        self.answer = answer
        self.received: list[str] = []  # every message as it arrived, retries included
        self.accepted: list[str] = []  # those answered AA, in order
        self.problems: list[str] = []  # framing or parsing faults (a test asserts none)
        self.port = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []

    def url(self, **options: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"mllp://127.0.0.1:{self.port}" + (f"?{query}" if query else "")

    def start(self) -> MllpReceiver:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Away: no listener, every connection closed."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        for sock in [listener, *conns]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()

    def ids(self, which: str = "accepted") -> list[str]:
        with self._lock:
            return [control_id(m) for m in getattr(self, which)]

    def wait_for(self, test: Callable[[MllpReceiver], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if test(self):
                    return
            time.sleep(0.02)
        raise AssertionError(f"receiver: not within {timeout} s; accepted {self.ids()}")

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._listener is not listener:
                    conn.close()
                    return
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        from hl7apy.parser import parse_message

        buffer = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while END in buffer:
                raw, buffer = buffer.split(END, 1)
                if not raw.startswith(START) or START in raw[1:]:
                    self.problems.append(f"bad MLLP framing: {raw[:20]!r}")
                    continue
                text = raw[1:].decode("utf-8")
                try:
                    parse_message(text)
                except Exception as exc:  # any parse failure is the finding
                    self.problems.append(f"hl7apy: {exc}")
                with self._lock:
                    self.received.append(text)
                code = self.answer(text)
                if code is None:
                    continue
                ack = (
                    f"MSH|^~\\&|ENGINE||VITALMON||20260101000000||ACK^R01^ACK|A{len(self.received)}"
                    f"|P|2.6\rMSA|{code}|{control_id(text)}|test says {code}\r"
                )
                try:
                    conn.sendall(START + ack.encode() + END)
                except OSError:
                    return
                if code == "AA":  # accepted once its ACK is on the wire
                    with self._lock:
                        self.accepted.append(text)
