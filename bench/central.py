"""The central station at scale: `vitalmon clinic` chairs (waves included) into the
central window (offscreen) through a real Mosquitto on loopback.

Budgets (docs/architecture.md, docs/performance.md): the central < 25 % of one core at
30 fps with 32 chairs; an alarm onset at a bedside reaches the central's record p99 <
250 ms; publishing adds < 1 % of a core to a bedside. Each figure for 1, 8 and 32 chairs.

- central CPU: this process (the window at 30 fps, the detail of chair-01 open with its
  live pleth and capnogram, paho's network thread, the model) over the measured seconds;
- alarm latency: an alarm record's line arriving from `vitalmon clinic`'s stdout (printed
  on the bedside's acquisition thread at onset) to the same record (chair, id, state, t)
  made by the central's model (what `--headless` prints), and to the end of the first
  frame after it (the screen);
- publishing: one simulated bedside in this process at speed 1, the CPU of its publisher
  thread and of paho's network thread (/proc/self/task), plus the time the pipeline
  spends handing records to it; `vitalmon clinic`'s own CPU per chair is shown too.

Usage: python bench/central.py [--chairs 1,8,32] [--seconds 30] [--warmup 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "*=false")  # offscreen and multimedia chatter

from bench.common import machine, verdict
from monitor.config import PipelineConfig, build_pipeline
from monitor.net.broker import parse_broker_url
from monitor.net.central import CentralModel
from monitor.net.publisher import CentralPublisher
from monitor.net.subscriber import CentralSubscriber
from monitor.pipeline import PipelineRunner
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario
from tests.mqtt_broker import USERS, MosquittoBroker

CPU_BUDGET_PERCENT = 25.0
LATENCY_BUDGET_MS = 250.0
PUBLISH_BUDGET_PERCENT = 1.0
FPS = 30
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu(native_id: int | None) -> float:
    """utime + stime of one thread of this process, in seconds (Linux /proc)."""
    if native_id is None:
        return 0.0
    stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def process_cpu(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def clinics_cpu(clinics: list[ClinicProcess]) -> float:
    return sum(process_cpu(c.proc.pid) for c in clinics)


def alarm_key(record: dict) -> tuple:
    return (record.get("chair"), record.get("id"), record.get("state"), record.get("t"))


class ClinicProcess:
    """`vitalmon clinic` in a subprocess; each alarm line stamped on arrival."""

    def __init__(self, url: str, chairs: int, duration: float, first: int = 1) -> None:
        env = {**os.environ, "VITALMON_MQTT_PASSWORD": USERS["bedside"]}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "clinic", "--chairs", str(chairs),
             "--first-chair", str(first), "--publish", url, "--duration", str(duration)],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.onsets: dict[tuple, float] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            arrived = time.monotonic()
            record = json.loads(line)
            if record.get("type") == "alarm":
                self.onsets.setdefault(alarm_key(record), arrived)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self._reader.join(5)


def measure_central(
    broker: MosquittoBroker, chairs: int, seconds: float, warmup: float, processes: int = 1
) -> dict:
    from monitor.ui.app import make_app
    from monitor.ui.central_window import CentralWindow
    from monitor.ui.sound import SilentSink

    app = make_app()
    address = parse_broker_url(broker.url("central", clinic=f"bench{chairs}"))
    received: list[tuple[float, float, tuple]] = []  # (off the socket, recorded, key)
    socket_time = [0.0]

    def emit(records: list[dict]) -> None:
        now = time.monotonic()
        received.extend(
            (socket_time[0], now, alarm_key(r)) for r in records if r.get("type") == "alarm"
        )

    link = CentralSubscriber(CentralModel(address.clinic, time.monotonic()), address,
                             USERS["central"], emit=emit)  # fmt: skip
    handler = link._client.on_message  # stamp each message as paho hands it over

    def stamped(client, userdata, message) -> None:
        socket_time[0] = time.monotonic()
        handler(client, userdata, message)

    link._client.on_message = stamped
    window = CentralWindow(link, sink=SilentSink())
    window.timer.stop()  # frames driven here, at the same 30 fps, and timed
    window.resize(1920, 1080)
    window.show()
    link.start()
    assert link.subscribed.wait(10), "the central did not subscribe"
    url, duration = broker.url(clinic=f"bench{chairs}"), warmup + seconds + 5
    share = -(-chairs // processes)  # chairs per clinic process, the last may have fewer
    clinics = [
        ClinicProcess(url, min(share, chairs - first + 1), duration, first)
        for first in range(1, chairs + 1, share)
    ]
    frame_ends: list[float] = []
    frames: list[float] = []
    period = 1.0 / FPS
    start = time.monotonic()
    measure_from = start + warmup
    cpu0 = clinic0 = None
    next_tick = start
    detail_open = False
    try:
        while time.monotonic() - start < warmup + seconds:
            t0 = time.monotonic()
            if cpu0 is None and t0 >= measure_from:
                cpu0, clinic0, frames = cpu_seconds(), clinics_cpu(clinics), []
                wall0 = t0
            window.refresh()
            app.processEvents()
            end = time.monotonic()
            frames.append(end - t0)
            frame_ends.append(end)
            if not detail_open and "chair-01" in window.tiles:
                window.open_detail("chair-01")  # its live pleth and capnogram too
                detail_open = True
            next_tick += period
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        wall = time.monotonic() - wall0
        cpu = cpu_seconds() - cpu0
        clinic_cpu = clinics_cpu(clinics) - clinic0
    finally:
        for clinic in clinics:
            clinic.stop()
        link.stop()
        window.close()
    record_ms, screen_ms, central_ms = [], [], []
    ends = np.array(frame_ends)
    onsets = {k: v for clinic in clinics for k, v in clinic.onsets.items()}
    for off_socket, arrived, key in received:
        onset = onsets.get(key)
        if onset is None:
            continue  # the central's own CHAIR_OFFLINE, or a record of the shutdown
        record_ms.append((arrived - onset) * 1000)
        central_ms.append((arrived - off_socket) * 1000)  # the model's lock and work
        i = int(np.searchsorted(ends, arrived))
        if i < len(ends):
            screen_ms.append((ends[i] - onset) * 1000)
    frame_ms = np.array(frames) * 1000
    return {
        "chairs": chairs,
        "processes": len(clinics),
        "central_cpu_percent": 100 * cpu / wall,
        "fps": len(frames) / wall,
        "frame_median_ms": float(np.median(frame_ms)),
        "frame_p99_ms": float(np.percentile(frame_ms, 99)),
        "alarms": len(record_ms),
        "record_p50_ms": float(np.percentile(record_ms, 50)) if record_ms else None,
        "record_p99_ms": float(np.percentile(record_ms, 99)) if record_ms else None,
        "screen_p99_ms": float(np.percentile(screen_ms, 99)) if screen_ms else None,
        "in_central_p99_ms": float(np.percentile(central_ms, 99)) if central_ms else None,
        "clinic_cpu_percent_per_chair": 100 * clinic_cpu / wall / chairs,
    }


def measure_publishing(broker: MosquittoBroker, seconds: float) -> dict:
    """One bedside at speed 1: what its publisher's two threads and its listener cost."""
    source = SimulatorSource(SimulatedBedside(load_scenario("hypoventilation")), speed=1.0)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    address = parse_broker_url(broker.url(clinic="benchpub"))
    publisher = CentralPublisher(address, USERS["bedside"], "chair-01", pipeline)
    handed = [0.0]

    def timed(record: dict) -> None:
        t0 = time.thread_time()
        publisher(record)
        handed[0] += time.thread_time() - t0

    pipeline.subscribe(timed)
    runner = PipelineRunner(source, pipeline)
    publisher.start()
    runner.start()
    time.sleep(3.0)  # connected, waves flowing
    threads = [publisher._thread.native_id, publisher._client._thread.native_id]  # type: ignore[union-attr]
    acquisition = runner._thread.native_id if runner._thread else None
    before = [thread_cpu(t) for t in threads]
    acq0, handed0, wall0 = thread_cpu(acquisition), handed[0], time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - wall0
    spent = sum(thread_cpu(t) - b for t, b in zip(threads, before, strict=True))
    hand = handed[0] - handed0
    acq = thread_cpu(acquisition) - acq0
    blocks = publisher.wave_blocks
    runner.stop()
    publisher.close()
    return {
        "publish_percent": 100 * (spent + hand) / wall,
        "publisher_threads_percent": 100 * spent / wall,
        "handing_percent": 100 * hand / wall,
        "acquisition_percent": 100 * acq / wall,
        "wave_blocks": blocks,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chairs", default="1,8,32", help="comma-separated chair counts")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured, per count")
    parser.add_argument("--warmup", type=float, default=10.0, help="before measuring")
    parser.add_argument(
        "--processes", type=int, default=1, help="vitalmon clinic processes sharing the chairs"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.chairs.split(",")]
    print(f"machine: {machine()}; load average before: {os.getloadavg()}")
    failed = False
    with tempfile.TemporaryDirectory() as where:
        broker = MosquittoBroker(Path(where))
        broker.start()
        try:
            pub = measure_publishing(broker, args.seconds)
            print(
                f"publishing, one bedside: {pub['publish_percent']:.2f} % of a core "
                f"(publisher + paho threads {pub['publisher_threads_percent']:.2f} %, handing "
                f"records {pub['handing_percent']:.3f} %; {pub['wave_blocks']} wave blocks); "
                f"the bedside's acquisition thread {pub['acquisition_percent']:.1f} % "
                f"-> {verdict(pub['publish_percent'], PUBLISH_BUDGET_PERCENT)} "
                f"(< {PUBLISH_BUDGET_PERCENT:g} %)"
            )
            failed |= pub["publish_percent"] > PUBLISH_BUDGET_PERCENT
            for n in counts:
                r = measure_central(broker, n, args.seconds, args.warmup, args.processes)
                p99 = r["record_p99_ms"]
                print(
                    f"{n:2d} chairs ({r['processes']} clinic processes): central "
                    f"{r['central_cpu_percent']:.1f} % of a core at "
                    f"{r['fps']:.1f} fps (frame median {r['frame_median_ms']:.1f} ms, p99 "
                    f"{r['frame_p99_ms']:.1f} ms) -> "
                    f"{verdict(r['central_cpu_percent'], CPU_BUDGET_PERCENT)}; "
                    f"alarm onset -> central record: {r['alarms']} records, p50 "
                    f"{_ms(r['record_p50_ms'])}, p99 {_ms(p99)} (screen p99 "
                    f"{_ms(r['screen_p99_ms'])}, of it in the central p99 "
                    f"{_ms(r['in_central_p99_ms'])}) -> "
                    + (verdict(p99, LATENCY_BUDGET_MS) if p99 is not None else "no alarms")
                    + f"; clinic {r['clinic_cpu_percent_per_chair']:.1f} % of a core per chair"
                )
                failed |= r["central_cpu_percent"] > CPU_BUDGET_PERCENT
                failed |= p99 is None or p99 > LATENCY_BUDGET_MS
        finally:
            broker.stop()
    print(f"load average after: {os.getloadavg()}")
    return 1 if failed else 0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
