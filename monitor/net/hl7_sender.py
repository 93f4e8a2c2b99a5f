"""The live HL7 feed to the hospital: `vitalmon run ... --hl7 mllp://HOST:PORT`.

The pipeline listener (`Hl7Sender.__call__`, acquisition thread) feeds each record to
the same `MinuteFeed` the export uses, so the live feed sends the very messages
`vitalmon export --format hl7` writes, and puts a finished message (once a minute,
and one per NIBP reading) in a bounded queue: it never waits on the network.

A thread of its own sends them over one MLLP connection, one at a time, each only
after the ACK of the one before (docs/interchange.md):

- AA/CA: delivered, the next one goes;
- AE/CE: an error record; the same message again after the back-off, at most
  `AE_ATTEMPTS` times in all, then dropped with an error record (an answer that
  keeps saying the content is wrong will not change);
- AR/CR: an error record and the message is dropped, not sent again;
- no ACK within the URL's `timeout`, a refused or lost connection: the connection is
  closed and the same message is sent again after a back-off (0.5 s doubling to
  `RETRY_MAX_S`); the receiver may see it twice with the same MSH-10.

While messages cannot be delivered they wait, in order, up to `KEEP_S` of data time
(the oldest dropped beyond it, each with an error record), and HL7_LINK_LOST is raised
once delivery has failed for the preset's `silence_s`; it ends with the next AA.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import select
import socket
import sys
import threading
import time

from monitor.hl7.messages import Message, MinuteFeed, hl7_time
from monitor.hl7.mllp import Ack, FrameReader, MllpAddress, frame, parse_ack
from monitor.net.link_alarm import LinkAlarm
from monitor.pipeline import AcquisitionPipeline
from monitor.records import Record

ALARM_ID = "HL7_LINK_LOST"
SOURCE = "hl7"  # the `command` of the sender's error records
KEEP_S = 3600.0  # data seconds of messages kept while they cannot be delivered
QUEUE_SIZE = 4096  # finished messages waiting for the sender thread
AE_ATTEMPTS = 3
RETRY_MIN_S = 0.5
RETRY_MAX_S = 8.0
CONNECT_TIMEOUT_S = 3.0
FLUSH_S = 3.0  # at the end of a run, how long to try delivering what waits


class Hl7Sender:
    """Subscribe it to a pipeline (`pipeline.subscribe(sender)`), then `start()`."""

    def __init__(
        self, address: MllpAddress, pipeline: AcquisitionPipeline, control_prefix: str
    ) -> None:
        self.address = address
        self._pipeline = pipeline
        self._feed = MinuteFeed(pipeline.wall_start, control_prefix)
        self._incoming: queue.Queue[Message] = queue.Queue(maxsize=QUEUE_SIZE)
        self._backlog: collections.deque[Message] = collections.deque()
        self._alarm = LinkAlarm(pipeline, ALARM_ID, f"receiver {address}", 5.0)
        self._sock: socket.socket | None = None
        self._frames = FrameReader()
        self._down_since: float | None = None  # monotonic: no delivery since
        self._failing = False  # an error record has said so (once per outage)
        self._retry_at = 0.0
        self._delay = RETRY_MIN_S
        self._ae_count = 0
        self._stop = threading.Event()
        self._closing = False
        self.delivered = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="hl7-sender", daemon=True)

    # ----- the pipeline's side (acquisition thread): build and hand over -------------

    def __call__(self, record: Record) -> None:
        for message in self._feed.feed(record):
            self._put(message)

    def _put(self, message: Message) -> None:
        try:
            self._incoming.put_nowait(message)
        except queue.Full:
            self.dropped += 1
            self._say(f"message {message.control_id} dropped: the sender's queue is full")

    # ----- the sender thread --------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def waiting(self) -> int:
        return len(self._backlog) + self._incoming.qsize()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._take_incoming(0.0 if self._backlog else 0.1)
            self._alarm.watch(self._down_since)
            now = time.monotonic()
            if now < self._retry_at:
                self._stop.wait(min(0.05, self._retry_at - now))
                continue
            if self._sock is None and not self._connect():
                continue
            if self._backlog:
                self._deliver(self._backlog[0])
            else:
                self._watch_idle()
        self._close_socket()

    def _take_incoming(self, wait_s: float) -> None:
        try:
            message = self._incoming.get(timeout=wait_s) if wait_s else self._incoming.get_nowait()
        except queue.Empty:
            return
        while True:
            self._backlog.append(message)
            while message.t - self._backlog[0].t > KEEP_S:
                old = self._backlog.popleft()
                self.dropped += 1
                self._ae_count = 0  # they counted the head's answers
                self._say(
                    f"message {old.control_id} ({hl7_time(self._feed.builder.wall(old.t))}) "
                    f"dropped: undelivered for over {KEEP_S / 3600:g} h"
                )
            try:
                message = self._incoming.get_nowait()
            except queue.Empty:
                return

    def _connect(self) -> bool:
        try:
            sock = socket.create_connection(
                (self.address.host, self.address.port), timeout=CONNECT_TIMEOUT_S
            )
        except OSError as exc:
            self._failed(f"cannot connect ({_why(exc)})")
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._frames = FrameReader()
        if not self._backlog:
            self._up()  # the receiver is there: nothing is failing to arrive
        return True

    def _watch_idle(self) -> None:
        """Nothing to send: notice a receiver that goes away before the next message."""
        assert self._sock is not None
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if readable and not self._sock.recv(4096):
                raise ConnectionResetError("closed by the receiver")
        except (OSError, ValueError):
            self._close_socket()
            self._retry_at = time.monotonic()  # reconnect now: down only if that fails

    def _deliver(self, message: Message) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(frame(message.text))
            answer = self._await_ack(message.control_id)
        except OSError as exc:
            self._failed(f"connection lost ({_why(exc)})", close=True)
            return
        if answer is None:
            if not self._stop.is_set():  # (stopping is no fault of the receiver's)
                self._failed(f"no ACK within {self.address.ack_timeout_s:g} s", close=True)
            return
        if answer.accepted:
            self._backlog.popleft()
            self.delivered += 1
            self._ae_count = 0
            self._up()
        elif answer.rejected:
            self._drop_head(f"rejected ({_answer(answer)}): dropped, not sent again")
        else:
            self._ae_count += 1
            if self._ae_count >= AE_ATTEMPTS:
                self._drop_head(f"not accepted ({_answer(answer)}) {AE_ATTEMPTS} times: dropped")
            else:
                self._say(f"message {message.control_id} not accepted ({_answer(answer)}): "
                          f"sent again in {self._delay:g} s")  # fmt: skip
                self._failed(None)

    def _await_ack(self, control_id: str) -> Ack | None:
        """The answer to `control_id` (answers to anything else are stale: ignored), or
        None after the timeout. A closed connection raises OSError."""
        assert self._sock is not None
        deadline = time.monotonic() + self.address.ack_timeout_s
        while (left := deadline - time.monotonic()) > 0 and not self._stop.is_set():
            readable, _, _ = select.select([self._sock], [], [], min(left, 0.1))
            if not readable:
                continue
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionResetError("closed by the receiver")
            for text in self._frames.feed(data):
                ack = parse_ack(text)
                if ack is not None and ack.control_id == control_id:
                    return ack
        return None

    def _drop_head(self, why: str) -> None:
        message = self._backlog.popleft()
        self.dropped += 1
        self._ae_count = 0
        self._say(f"message {message.control_id} {why}")
        self._failed(None, retry=False)

    def _failed(self, why: str | None, close: bool = False, retry: bool = True) -> None:
        """A delivery (or a connection) failed: back off; say why once per outage."""
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        if close:
            self._close_socket()
        if why is not None and not self._failing:
            self._failing = True
            self._say(f"cannot deliver to {self.address}: {why}; messages wait, in order")
        if retry:
            self._retry_at = now + self._delay
            self._delay = min(self._delay * 2, RETRY_MAX_S)

    def _up(self) -> None:
        self._down_since = None
        self._failing = False
        self._delay = RETRY_MIN_S

    def _close_socket(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _say(self, text: str) -> None:
        """An error record through the pipeline (any thread); once the run is ending and
        the pipeline takes no more, a line on stderr."""
        if self._closing:
            print(f"vitalmon: HL7 {text}", file=sys.stderr, flush=True)
        else:
            self._pipeline.commands.refuse(SOURCE, f"HL7 {text}")

    # ----- the end -------------------------------------------------------------------

    def close(self, flush_s: float = FLUSH_S) -> None:
        """Send the last minute and what waits (for up to `flush_s`), then stop; what is
        left undelivered is one line on stderr."""
        self._closing = True
        for message in self._feed.flush():
            self._put(message)
        deadline = time.monotonic() + flush_s
        while self._thread.is_alive() and self.waiting() and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.address.ack_timeout_s + 1)
        left = self.waiting()
        if left:
            print(
                f"vitalmon: {left} HL7 message(s) not delivered to {self.address}",
                file=sys.stderr,
                flush=True,
            )


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _answer(ack: Ack) -> str:
    return f"{ack.code}: {ack.text}" if ack.text else ack.code
