"""The bedside window live at 30 fps: frame time, CPU of the process, sample-to-screen latency.

Budgets (docs/architecture.md): < 15 % of one core, each frame < 10 ms, latency < 100 ms,
with every waveform and tile live. By default the simulator serves its devices (pleth,
resp, NIBP in interval mode) on ptys from its own process and this process reads them as
real serial ports, as at the bedside; `--in-process` puts the simulator in this process.

Frame time = the window's refresh plus the event processing that paints what changed.
Latency = from a chunk's arrival at the serial port (at the pipeline, in-process) to the
end of the first frame that drew its samples (pleth sweep). A serial chunk is stamped
when its last bytes were read; its first bytes were read up to the transport's gathering
before (`MAX_GATHER_S`, ~`GATHER_S` in a steady stream), so the verdict is on the
largest latency plus MAX_GATHER_S: the worst any sample can have waited.

Usage: QT_QPA_PLATFORM=offscreen python bench/gui.py [--seconds 20] [--scenario steady]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.common import machine, verdict
from drivers.registry import parse_port_spec
from drivers.transport import MAX_GATHER_S
from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner, setup_frozen
from monitor.sources import SerialSource, SimulatorSource, Source
from monitor.ui.app import make_app
from monitor.ui.main_window import DISPLAY_RATE_HZ, MonitorWindow
from monitor.ui.sound import SilentSink
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

FRAME_BUDGET_MS = 10.0
CPU_BUDGET_PERCENT = 15.0
LATENCY_BUDGET_MS = 100.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def pty_devices(scenario: str) -> Iterator[Source]:
    """The simulator in its own process serving ptys; this process reads them as real ports."""
    server = subprocess.Popen(
        [sys.executable, "-m", "monitor", "sim", scenario, "--pty"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ports = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        specs = {
            ch: parse_port_spec(f"{p['protocol']}:{p['port']}", None) for ch, p in ports.items()
        }
        source = SerialSource(specs)
        yield source
    finally:
        server.terminate()
        server.wait(timeout=5)


def measure(source: Source, seconds: float, width: int, height: int) -> dict[str, object]:
    app = make_app()  # as `vitalmon` starts it
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    pipeline.commands.submit("nibp_interval", minutes=1)  # the cuff and NIBP tile live too
    pipeline.commands.submit("nibp_start")
    arrivals: list[tuple[float, int]] = []  # (arrival, pleth samples written before it)
    oximeter = pipeline.oximeter
    assert oximeter is not None

    # Serial ports stamp each chunk with the arrival of its last bytes at the port
    # (monotonic clock): latency counts from there (the gathering before it: see `main`).
    port_clock_start = getattr(source, "started_monotonic", None)

    def on_chunks(chunks) -> None:
        for chunk in chunks:
            if chunk.channel == "oximeter" and chunk.data:
                now = time.perf_counter()
                if port_clock_start is not None:
                    now -= time.monotonic() - (port_clock_start + chunk.t)
                arrivals.append((now, oximeter.pleth.total_written))

    pipeline.subscribe_chunks(on_chunks)
    window = MonitorWindow(pipeline, sink=SilentSink())
    window.timer.stop()  # the bench drives frames itself, at the same 30 fps
    window.resize(width, height)
    window.show()
    runner = PipelineRunner(source, pipeline)
    runner.start()
    period = 1.0 / DISPLAY_RATE_HZ
    warmup_end = time.perf_counter() + 2.0
    while time.perf_counter() < warmup_end:  # let the pipeline fill the sweep first
        window.refresh()
        app.processEvents()
        time.sleep(period)
    with setup_frozen():  # as `vitalmon run` runs its window (monitor/ui/app.py)
        frames: list[float] = []
        frames_cpu: list[float] = []  # the GUI thread's own CPU per frame (no GIL waits)
        latencies: list[float] = []
        next_arrival = len(arrivals)
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        next_tick = wall0
        while time.perf_counter() - wall0 < seconds:
            start, start_cpu = time.perf_counter(), time.thread_time()
            window.refresh()
            app.processEvents()
            end = time.perf_counter()
            frames.append(end - start)
            frames_cpu.append(time.thread_time() - start_cpu)
            shown = window.pleth.drawn_total
            while next_arrival < len(arrivals) and arrivals[next_arrival][1] < shown:
                latencies.append(end - arrivals[next_arrival][0])
                next_arrival += 1
            next_tick += period
            delay = next_tick - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        wall = time.perf_counter() - wall0
        cpu = cpu_seconds() - cpu0
    runner.stop()
    window.close()
    frame_ms = np.array(frames) * 1000
    frame_cpu_ms = np.array(frames_cpu) * 1000
    latency_ms = np.array(latencies) * 1000
    return {
        "frames": len(frames),
        "fps": len(frames) / wall,
        "frame_median_ms": float(np.median(frame_ms)),
        "frame_p99_ms": float(np.percentile(frame_ms, 99)),
        "frame_max_ms": float(frame_ms.max()),
        "frame_cpu_median_ms": float(np.median(frame_cpu_ms)),
        "frame_cpu_p99_ms": float(np.percentile(frame_cpu_ms, 99)),
        "over_budget_frames": int(np.count_nonzero(frame_ms > FRAME_BUDGET_MS)),
        "cpu_percent": 100.0 * cpu / wall,
        "latency_median_ms": float(np.median(latency_ms)) if len(latency_ms) else float("nan"),
        "latency_p95_ms": float(np.percentile(latency_ms, 95)) if len(latency_ms) else float("nan"),
        "latency_max_ms": float(latency_ms.max()) if len(latency_ms) else float("nan"),
        "channels": ", ".join(pipeline.channels),
        "serial": port_clock_start is not None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--scenario", default="steady")
    parser.add_argument("--size", default="1366x768", help="window size, e.g. 3840x2160")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the simulator inside this process (its CPU counted too) instead of on ptys",
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.in_process:
        source = SimulatorSource(SimulatedBedside(load_scenario(args.scenario)), speed=1.0)
        r = measure(source, args.seconds, width, height)
        where = "simulator in-process"
    else:
        with pty_devices(args.scenario) as source:
            r = measure(source, args.seconds, width, height)
        where = "devices on ptys (simulator in its own process)"
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    print(f"machine: {machine()}; Qt platform {platform or 'default'}")
    print(
        f"gui {args.scenario} {args.size} ({r['channels']}; {where}), {r['frames']} frames at "
        f"{r['fps']:.1f} fps over {args.seconds:g} s"
    )
    print(
        f"  frame time: median {r['frame_median_ms']:.2f} ms, p99 {r['frame_p99_ms']:.2f} ms, "
        f"max {r['frame_max_ms']:.2f} ms; budget {FRAME_BUDGET_MS:g} ms (p99) -> "
        f"{verdict(r['frame_p99_ms'], FRAME_BUDGET_MS)}"  # type: ignore[arg-type]
    )
    print(
        f"  GUI thread's own CPU per frame: median {r['frame_cpu_median_ms']:.2f} ms, p99 "
        f"{r['frame_cpu_p99_ms']:.2f} ms; {r['over_budget_frames']} of {r['frames']} frames "
        f"took over {FRAME_BUDGET_MS:g} ms of wall time"
        " (the rest is waiting: other threads holding the GIL, a busy machine)"
    )
    print(
        f"  CPU of the monitor process: {r['cpu_percent']:.1f} % of one "
        f"core; budget {CPU_BUDGET_PERCENT:g} % -> "
        f"{verdict(r['cpu_percent'], CPU_BUDGET_PERCENT)}"  # type: ignore[arg-type]
    )
    gathering_ms = MAX_GATHER_S * 1000 if r["serial"] else 0.0
    worst_ms = r["latency_max_ms"] + gathering_ms  # type: ignore[operator]
    print(
        f"  sample-to-screen latency, from a chunk's last bytes: median "
        f"{r['latency_median_ms']:.1f} ms, p95 {r['latency_p95_ms']:.1f} ms, max "
        f"{r['latency_max_ms']:.1f} ms; with its first bytes' gathering (up to "
        f"{gathering_ms:.0f} ms) at most {worst_ms:.1f} ms; budget {LATENCY_BUDGET_MS:g} ms -> "
        f"{verdict(worst_ms, LATENCY_BUDGET_MS)}"
    )


if __name__ == "__main__":
    main()
