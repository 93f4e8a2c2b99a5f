"""The bedside's side of the central-station link: records out to an MQTT broker.

A pipeline listener (`CentralPublisher.__call__`, on the acquisition thread) only
copies each record into a queue and returns: it never waits on the network, so the
bedside monitors and alarms whatever the broker does. A thread of its own sends them
(paho-mqtt 2.x, its network loop on a second thread). Topics, QoS and retained flags
follow docs/central.md:

- numerics (QoS 0, retained) are the latest value only: dropped while the link is
  down and when the bounded queue is full;
- wave blocks (pleth and CO2, QoS 0, not retained) are read from the channels' ring
  buffers by the sender thread itself every 0.25 s of data time (`WaveBlocks`), and
  dropped while the link is down;
- alarm, active-alarm, NIBP, event and status records (QoS 1) are kept, in order,
  while the link is down (up to `KEEP_S`) and sent when it returns, each raised
  while it was down marked `"late": true`. Alarm records carry the chair's own
  sequence number `seq`, so the central can tell a resent record from a new one.
- `recent` (QoS 1, retained) holds the chair's last `RECENT_MAX` alarm records as sent,
  with this run's id: a central that (re)subscribes after the bedside delivered its
  outage backlog (a broker restarted without persistence keeps nothing for it) reads
  them there and fills its gaps by `seq`. `status` carries the same `run`, so a central
  knows a restarted bedside numbering from 1 again.

The broker unreachable for the preset's `silence_s` raises CENTRAL_LINK_LOST at the
bedside (a technical alarm, through the command bus); a broker that refuses the user
is fatal: `fatal` says why and `on_fatal` is called once.
"""

from __future__ import annotations

import collections
import contextlib
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from monitor.net.broker import BrokerAddress
from monitor.net.link_alarm import LinkAlarm
from monitor.net.waves import WaveBlocks
from monitor.pipeline import AcquisitionPipeline
from monitor.records import Record

ALARM_ID = "CENTRAL_LINK_LOST"
KEEP_S = 3600.0  # a record kept for the central this long while the link is down
LOSSY_QUEUE = 512  # numerics and waves waiting for the sender; more are dropped
UNACKED_WAIT_S = 5.0  # after a reconnect, wait this long for paho's resends to be acknowledged
KEEPALIVE_S = 2  # paho pings this often; a silent broker is noticed in 1.5x this
RECENT_MAX = 200  # alarm records kept in the retained `recent` message
RELIABLE = {"alarm": "alarms", "nibp": "nibp", "event": "events"}
REFUSED = {4: "bad user name or password", 5: "not authorised"}  # MQTT 3.1.1 CONNACK codes
# MQTT 5's: bad user name or password, not authorized (paho words them itself).
REFUSED_V5 = frozenset({0x86, 0x87})


def package_version() -> str:
    with contextlib.suppress(PackageNotFoundError):
        return version("vitalmon")
    return "unknown"


@dataclass(slots=True)
class Outgoing:
    leaf: str
    payload: object
    qos: int
    retain: bool
    made: float = field(default_factory=time.monotonic)


class CentralPublisher:
    """Subscribe it to a pipeline (`pipeline.subscribe(publisher)`), then `start()`."""

    def __init__(
        self,
        address: BrokerAddress,
        password: str,
        chair: str,
        pipeline: AcquisitionPipeline,
        ca_file: str | None = None,
        on_fatal: Callable[[str], object] | None = None,
    ) -> None:
        self.address = address
        self.chair = chair
        self._pipeline = pipeline
        self._on_fatal = on_fatal
        self.fatal: str | None = None
        self._alarm = LinkAlarm(pipeline, ALARM_ID, f"broker {address.host}:{address.port}", 3.0)
        self.after_s = self._alarm.after_s
        # None only wakes the sender for a reliable record (it waits on this queue)
        self._lossy: queue.Queue[Outgoing | None] = queue.Queue(maxsize=LOSSY_QUEUE)
        self._reliable: collections.deque[Outgoing] = collections.deque()
        self._late = False  # the link is down: what is raised now is late
        self._seq = 0
        self.run_id = uuid.uuid4().hex[:12]  # tells this run's seq 1.. from a previous run's
        self._recent: collections.deque[dict] = collections.deque(maxlen=RECENT_MAX)
        self._recent_due = False  # the sender republishes `recent` (after a connect or alarms)
        self.dropped_lossy = 0
        self.dropped_reliable = 0
        self._connected = threading.Event()
        self._down_since: float | None = time.monotonic()
        self._stop = threading.Event()
        self._ack_lock = threading.Lock()
        self._unacked: set[int] = set()  # QoS 1 messages the broker has not acknowledged
        self._acked_early: set[int] = set()
        self._lossy_mids: set[int] = set()  # QoS 0 ones paho has yet to write
        self._waiting_since: float | None = None
        self.waves = WaveBlocks(pipeline)
        self.wave_blocks = 0  # published
        self._thread = threading.Thread(target=self._run, name="central-publisher", daemon=True)
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"vitalmon-{address.clinic}-{chair}",
            # MQTT 5: a publish the broker's ACL refuses comes back as a PUBACK with
            # "Not authorized" (3.1.1 acknowledges it as if it had been taken).
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(address.user, password)
        if address.tls:
            client.tls_set(ca_certs=ca_file)
        client.will_set(self._topic("status"), self._status("offline"), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client

    # ----- the pipeline's side (acquisition thread): copy and return -------------

    def __call__(self, record: Record) -> None:
        kind = record.get("type")
        if kind == "numerics":
            try:
                self._lossy.put_nowait(Outgoing("numerics", dict(record), 0, True))
            except queue.Full:
                self.dropped_lossy += 1
            return
        leaf = RELIABLE.get(str(kind))
        if leaf is None:
            return  # commands and refusals stay at the bedside
        payload = dict(record)
        if kind == "alarm":
            self._seq += 1
            payload["seq"] = self._seq
        if self._late:
            payload["late"] = True
        self._reliable.append(Outgoing(leaf, payload, 1, False))
        if kind == "alarm":
            self._reliable.append(Outgoing("active", self._active(record), 1, True))
        elif kind == "event" and record.get("kind") in ("phase", "session_setup", "set_phase"):
            self._reliable.append(Outgoing("status", self._status("online"), 1, True))
        with contextlib.suppress(queue.Full):  # a full queue: the sender is awake anyway
            self._lossy.put_nowait(None)

    def _active(self, record: Record) -> list[Record]:
        """What this chair's alarm bar holds once `record` is applied: the engine has
        applied an onset or acknowledgement, but lets an ended alarm go only after its
        `end` record (which would leave it in the list until the next alarm record)."""
        state = self._pipeline.alarms.display_state()
        gone = record.get("state") == "end" and not record.get("latched")
        return [
            {
                "id": a.id,
                "priority": a.priority,
                "kind": a.kind,
                "message": a.message,
                "onset_t": a.onset_t,
                "condition_active": a.condition_active,
                "acknowledged": a.acknowledged,
                "sounding": a.sounding,
            }
            for a in state.alarms
            if not (gone and a.id == record.get("id"))
        ]

    def _status(self, state: str) -> str:
        session = self._pipeline.session
        return json.dumps(
            {
                "state": state,
                "run": self.run_id,
                "patient_id": getattr(session, "patient_id", None),
                "phase": session.phase,
                "phase_t": session.phase_started_t,
                "since": self._pipeline.wall_iso(session.phase_started_t),
                "version": package_version(),
            }
        )

    # ----- the sender thread ------------------------------------------------------

    def start(self) -> None:
        self._client.connect_async(
            self.address.host, self.address.port, keepalive=KEEPALIVE_S, clean_start=True
        )
        self._client.loop_start()
        self._thread.start()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def backlog(self) -> int:
        return len(self._reliable)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._watch_link()
            self._send_reliable()
            self._send_waves()
            try:
                item = self._lossy.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is None:
                continue  # a reliable record is waiting: send it now, not after 50 ms
            if self.connected:
                self._publish(item)
            else:
                self.dropped_lossy += 1

    def _send_reliable(self) -> None:
        if not self.connected:
            self._forget_old()
            return
        with self._ack_lock:
            if self._unacked:  # paho resends what a lost connection left unacknowledged: first
                now = time.monotonic()
                self._waiting_since = self._waiting_since or now
                if now - self._waiting_since < UNACKED_WAIT_S:
                    return
                self._unacked.clear()  # never acknowledged: go on rather than hold the rest
            self._waiting_since = None
        while self._reliable and self.connected:
            item = self._reliable.popleft()
            self._publish(item)
            if item.leaf == "alarms" and isinstance(item.payload, dict):
                self._recent.append(item.payload)
                self._recent_due = True
        if self._recent_due and self.connected:
            self._recent_due = False
            recent = {"run": self.run_id, "alarms": list(self._recent)}
            self._publish(Outgoing("recent", recent, 1, True))

    def _send_waves(self) -> None:
        for block in self.waves.take():  # taken even while down: the next block starts now
            if self.connected:
                self._publish(Outgoing("wave", block, 0, False))
                self.wave_blocks += 1
            else:
                self.dropped_lossy += 1

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - KEEP_S
        while self._reliable and self._reliable[0].made < cutoff:
            self._reliable.popleft()
            self.dropped_reliable += 1

    def _publish(self, item: Outgoing) -> None:
        payload = item.payload if isinstance(item.payload, str) else json.dumps(item.payload)
        info = self._client.publish(self._topic(item.leaf), payload, item.qos, item.retain)
        with self._ack_lock:
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
            elif item.qos:
                self._unacked.add(info.mid)
            else:
                self._lossy_mids.add(info.mid)

    def _watch_link(self) -> None:
        if self._alarm.watch(self._down_since):
            self._late = True

    def _topic(self, leaf: str) -> str:
        return self.address.topic(self.chair, leaf)

    # ----- paho's network thread --------------------------------------------------

    def _on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            code = getattr(reason, "value", None)
            why = REFUSED.get(code, str(reason)) if isinstance(code, int) else str(reason)
            if code in REFUSED or code in REFUSED_V5 or "authori" in str(reason).lower():
                self._fail(f"broker {self.address} refused user '{self.address.user}': {why}")
            return
        self._publish(Outgoing("status", self._status("online"), 1, True))
        self._down_since = None
        self._late = False
        self._recent_due = True  # a restarted broker without persistence lost it
        self._connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, _reason, _properties) -> None:
        self._connected.clear()
        self._late = True
        if self._down_since is None:
            self._down_since = time.monotonic()

    def _on_publish(self, _client, _userdata, mid, reason, _properties) -> None:
        if getattr(reason, "is_failure", False):
            self._fail(
                f"broker {self.address} refuses what chair '{self.chair}' publishes as user "
                f"'{self.address.user}': {reason} (see the broker's ACL, docs/central.md)"
            )
        with self._ack_lock:
            if mid in self._unacked:
                self._unacked.discard(mid)
            elif mid in self._lossy_mids:
                self._lossy_mids.discard(mid)
            else:
                self._acked_early.add(mid)

    def _fail(self, message: str) -> None:
        if self.fatal is not None:
            return
        self.fatal = message
        self._stop.set()
        threading.Thread(target=self._client.disconnect, daemon=True).start()
        if self._on_fatal is not None:
            self._on_fatal(message)

    # ----- the end -------------------------------------------------------------------

    def close(self, flush_s: float = 2.0) -> None:
        """Deliver what is queued (for up to `flush_s`), say the session closed, disconnect."""
        deadline = time.monotonic() + flush_s
        while self.fatal is None and self.connected and time.monotonic() < deadline:
            with self._ack_lock:
                idle = not self._unacked
            if idle and not self._reliable:
                break
            time.sleep(0.02)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        if self.connected:
            # "closed", not the will's "offline": the session ended here, the desk is not
            # to alarm for it (docs/central.md)
            info = self._client.publish(self._topic("status"), self._status("closed"), 1, True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=1.0)
        self._client.disconnect()
        self._client.loop_stop()
