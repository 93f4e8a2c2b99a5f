"""Soak: an 8-hour `infusion` session at max speed with faults on a schedule, recorded.

Faults are injected where a real one would strike, between the devices and the
pipeline (`FaultySource` wraps the simulator's source), or in the scenario itself:
- the oximeter's USB adapter pulled for 20 s every 30 min (link down, bytes lost,
  link up again), and its line silent for 15 s every 30 min (no link event: only
  the silence tells);
- 256 random bytes in the oximeter stream every 5 min;
- the NIBP module silent (answers lost) for 2 min every 2 h, starting with a
  measurement; and ending measurements with error codes 2 and 85 for 15 min each
  (scenario device faults `nibp_error`).
NIBP every 5 min. The session is recorded to a real SQLite file, then replayed.

Checks (each printed with its figure): every data second has its numerics record,
live and in the file, and none shows a value while its source gave none; every
fault raised its technical alarm in time (OXIMETER_COMM_LOST at once for a pull,
10 s after the last frame for a silence; NIBP_COMM_LOST; NIBP_FAILED); the alarm log
replayed from the file equals the live one; memory flat (RSS growth from 1 h to 8 h
< 10 MB). Exit status 1 if a correctness check fails; a missed budget says OVER BUDGET.
Usage: python bench/soak.py [--hours 8] [--keep FILE]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from importlib import resources

from bench.common import machine, peak_rss_mb, verdict
from bench.replay import replay
from drivers.types import LinkEvent, LinkState
from monitor.commands import Command
from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.recording.recorder import SessionRecorder
from monitor.recording.store import SessionReader
from monitor.sources import Chunk, Expect, QuietUntil, SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

MEMORY_GROWTH_BUDGET_MB = 10.0
WALL_BUDGET_8H_S = 30.0  # docs/architecture.md, for the plain pipeline; the soak adds recording
PULL_EVERY_S, PULL_AT_S, PULL_FOR_S = 1800, 900, 20
SILENCE_EVERY_S, SILENCE_AT_S, SILENCE_FOR_S = 1800, 1500, 15
GARBAGE_EVERY_S, GARBAGE_AT_S, GARBAGE_BYTES = 300, 150, 256
NIBP_SILENT_EVERY_S, NIBP_SILENT_AT_S, NIBP_SILENT_FOR_S = 7200, 5400, 120
NIBP_ERRORS = ((10800, 2), (21600, 85))  # (at s, SunTech code) for 15 min each
NIBP_ERROR_FOR_S = 900
COMM_LOST_PULL_S = 2.0  # docs/clinical.md: port vanished -> within 2 s
COMM_LOST_SILENT_S = 10.0  # no valid frame for 10 s
STATES = {"valid": 1, "stale": 2, "missing": 3}


def windows(every: int, at: int, length: int, end: float) -> list[tuple[int, int]]:
    return [(s, s + length) for s in range(at, int(end), every)]


class FaultySource:
    """The simulator's source with a fault schedule applied to its chunks, in data time."""

    def __init__(self, inner: SimulatorSource, hours: float, seed: int = 1) -> None:
        self._inner = inner
        self.protocols = inner.protocols
        self.live = inner.live
        end = hours * 3600
        self.pulls = windows(PULL_EVERY_S, PULL_AT_S, PULL_FOR_S, end)
        self.silences = windows(SILENCE_EVERY_S, SILENCE_AT_S, SILENCE_FOR_S, end)
        self.garbage_at = list(range(GARBAGE_AT_S, int(end), GARBAGE_EVERY_S))
        self.nibp_silences = windows(
            NIBP_SILENT_EVERY_S, NIBP_SILENT_AT_S - 10, NIBP_SILENT_FOR_S, end
        )
        self._rng = random.Random(seed)
        self.garbage_sent = 0

    @staticmethod
    def _inside(t: float, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
        for start, stop in spans:
            if start < t <= stop:
                return start, stop
        return None

    def chunks(self) -> Iterator[Chunk]:
        pending_garbage = list(self.garbage_at)
        down: tuple[int, int] | None = None
        for chunk in self._inner.chunks():
            t = chunk.t
            pull = self._inside(t, self.pulls)
            if pull is not None and down is None:
                down = pull
                yield Chunk(pull[0], "oximeter", link=_link(LinkState.DOWN, "pulled", pull[0]))
                yield Chunk(pull[0], "oximeter", link=_link(LinkState.RECONNECTING, "", pull[0]))
            if down is not None and t > down[1]:
                yield Chunk(down[1], "oximeter", link=_link(LinkState.UP, "back", down[1]))
                down = None
            if chunk.channel == "oximeter":
                if down is not None or self._inside(t, self.silences):
                    continue  # bytes lost with the adapter, or a quiet line
                if pending_garbage and t >= pending_garbage[0]:
                    pending_garbage.pop(0)
                    self.garbage_sent += 1
                    yield Chunk(t, "oximeter", self._rng.randbytes(GARBAGE_BYTES))
            if chunk.channel == "nibp" and self._inside(t, self.nibp_silences):
                continue  # the module's answers never arrive
            yield chunk

    def runs(self, quiet_until: QuietUntil, expect: Expect | None = None) -> Iterator[list[Chunk]]:
        for chunk in self.chunks():  # the faults are laid on chunk by chunk
            yield [chunk]

    def write(self, channel: str, data: bytes) -> bool:
        return self._inner.write(channel, data)

    def close(self) -> None:
        self._inner.close()


def _link(state: LinkState, detail: str, t: float) -> LinkEvent:
    return LinkEvent("soak", state, detail, t)


def soak_scenario(folder: Path) -> Path:
    """The bundled `infusion`, plus NIBP error codes later in the session."""
    text = (resources.files("simulator") / "scenarios" / "infusion.toml").read_text("utf-8")
    for at, code in NIBP_ERRORS:
        text += f"\n[[timeline]]\nat_s = {at}\nnibp_error = {code}\n"
        text += f"\n[[timeline]]\nat_s = {at + NIBP_ERROR_FOR_S}\nnibp_error = 0\n"
    path = folder / "infusion-soak.toml"
    path.write_text(text.replace('name = "infusion"', 'name = "infusion-soak"'), "utf-8")
    return path


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class Watcher:
    """Keeps what the checks need in fixed-size arrays, so it does not grow with time."""

    def __init__(self, hours: float) -> None:
        n = int(hours * 3600)
        self.state = bytearray(n + 1)
        self.spo2 = array("f", [float("nan")]) * (n + 1)
        self.alarms: list[dict] = []
        self.rss: dict[int, float] = {}
        self.backlog: dict[int, int] = {}
        self.queue_len: Callable[[], int] = lambda: 0
        self.bad_seconds: list[str] = []
        self.nibp = Counter()
        self._next_t = 1

    def __call__(self, record: dict) -> None:
        kind = record["type"]
        if kind == "alarm":
            self.alarms.append(record)
        if kind == "nibp":
            self.nibp[record["status"]] += 1
        if kind != "numerics":
            return
        t = int(record["t"])
        if t != self._next_t and len(self.bad_seconds) < 5:
            self.bad_seconds.append(f"numerics t={record['t']} after {self._next_t - 1}")
        self._next_t = t + 1
        if t < len(self.state):
            self.state[t] = STATES[record["spo2_state"]]
            value = record["spo2"]
            self.spo2[t] = float("nan") if value is None else value
        if t % 3600 == 0:
            # The recorder's queue (bounded, up to 50 000 items) may hold a backlog at
            # max speed; memory is measured once it has caught up, so a figure is what
            # the monitor keeps, not how far the writer thread happens to lag.
            self.backlog[t // 3600] = self.queue_len()
            deadline = time.monotonic() + 30
            while self.queue_len() and time.monotonic() < deadline:
                time.sleep(0.01)
            gc.collect()
            self.rss[t // 3600] = rss_mb()


def record_session(path: Path, scenario: Path, hours: float) -> tuple[float, Watcher, FaultySource]:
    inner = SimulatorSource(SimulatedBedside(load_scenario(str(scenario)), seed=0), speed=None)
    source = FaultySource(inner, hours)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    watcher = Watcher(hours)
    pipeline.subscribe(watcher)
    meta = {"kind": "bench", "scenario": "infusion-soak"}
    start = time.perf_counter()
    recorder = SessionRecorder(path, pipeline, meta, live=False)
    watcher.queue_len = recorder._queue.qsize  # the bench looks inside
    runner = PipelineRunner(source, pipeline, duration_s=hours * 3600)
    pipeline.apply_command(Command("nibp_interval", {"minutes": 5, "start_now": True}))
    runner.run()
    recorder.close()
    return time.perf_counter() - start, watcher, source


def replay_alarms(path: Path) -> tuple[float, list[dict]]:
    seconds, records = replay(path)
    return seconds, [r for r in records if r["type"] == "alarm"]


def onsets(alarms: list[dict], alarm_id: str) -> list[float]:
    return [a["t"] for a in alarms if a["id"] == alarm_id and a["state"] == "onset"]


def first_after(times: list[float], t: float) -> float | None:
    later = [x for x in times if x >= t]
    return min(later) if later else None


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, ok: bool, line: str) -> None:
        print(("ok    " if ok else "FAIL  ") + line)
        if not ok:
            self.failed.append(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--keep", metavar="FILE", help="keep the recording here")
    args = parser.parse_args()
    hours, seconds = args.hours, int(args.hours * 3600)
    checks = Checks()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.keep) if args.keep else Path(folder) / "soak.vitalmon"
        scenario = soak_scenario(Path(folder))
        wall, live, source = record_session(path, scenario, hours)
        size_mb = path.stat().st_size / 1e6
        with SessionReader(path) as reader:
            kept = reader.records("numerics")
        replay_s, replayed = replay_alarms(path)

    print(f"machine: {machine()}")
    print(
        f"soak: infusion {hours:g} h at max speed with faults, recorded: {wall:.1f} s wall "
        f"(plain-pipeline budget {WALL_BUDGET_8H_S * hours / 8:.0f} s -> "
        f"{verdict(wall, WALL_BUDGET_8H_S * hours / 8)}), file {size_mb:.1f} MB; "
        f"replay {replay_s:.1f} s"
    )
    print(
        f"faults: {len(source.pulls)} USB pulls ({PULL_FOR_S} s), {len(source.silences)} "
        f"silences ({SILENCE_FOR_S} s), {source.garbage_sent} garbage bursts ({GARBAGE_BYTES} B), "
        f"{len(source.nibp_silences)} NIBP silences ({NIBP_SILENT_FOR_S} s), "
        f"{len(NIBP_ERRORS)} NIBP error periods ({NIBP_ERROR_FOR_S} s)"
    )

    # Every second accounted for, live and in the file.
    states = Counter(live.state[1 : seconds + 1])
    names = {v: k for k, v in STATES.items()}
    print("seconds: " + ", ".join(f"{names.get(k, 'none')} {n}" for k, n in sorted(states.items())))
    checks.check(
        not live.bad_seconds and 0 not in states,
        f"every one of {seconds} data seconds has a numerics record live {live.bad_seconds or ''}",
    )
    file_ts = [r["t"] for r in kept]
    checks.check(
        file_ts == [float(t) for t in range(1, seconds + 1)],
        f"the file holds {len(file_ts)} numerics seconds, 1..{seconds} without a gap",
    )
    same = all(
        STATES[r["spo2_state"]] == live.state[int(r["t"])] for r in kept if r["t"] <= seconds
    )
    checks.check(same, "the file's spo2_state equals the live one, second by second")
    invented = [
        t
        for start, stop in source.pulls
        for t in range(start + 1, stop + 1)
        if live.state[t] != STATES["missing"] or live.spo2[t] == live.spo2[t]  # not NaN
    ]
    checks.check(not invented, f"no SpO2 shown while the adapter was out ({len(invented)} s did)")
    late_missing = [
        t
        for start, stop in source.silences
        for t in range(start + 12, stop + 1)
        if live.state[t] != STATES["missing"]
    ]
    checks.check(
        not late_missing, f"dashes 10 s into a silent line (docs/clinical.md) {late_missing[:5]}"
    )

    # Technical alarms in time.
    comm = onsets(live.alarms, "OXIMETER_COMM_LOST")
    pull_lat = [(first_after(comm, start) or float("inf")) - start for start, _ in source.pulls]
    checks.check(
        max(pull_lat, default=0) <= COMM_LOST_PULL_S,
        f"OXIMETER_COMM_LOST after each USB pull within {COMM_LOST_PULL_S:g} s "
        f"(worst {max(pull_lat, default=0):.1f} s data time)",
    )
    silent_lat = [
        (first_after(comm, start) or float("inf")) - start for start, _ in source.silences
    ]
    checks.check(
        all(COMM_LOST_SILENT_S - 1 <= x <= COMM_LOST_SILENT_S + 1 for x in silent_lat),
        f"OXIMETER_COMM_LOST {COMM_LOST_SILENT_S:g} s into each silence "
        f"(from {min(silent_lat, default=0):.1f} to {max(silent_lat, default=0):.1f} s)",
    )
    nibp_comm = onsets(live.alarms, "NIBP_COMM_LOST")
    nibp_lat = [
        (first_after(nibp_comm, start) or float("inf")) - start for start, _ in source.nibp_silences
    ]
    checks.check(
        all(x <= NIBP_SILENT_FOR_S for x in nibp_lat) and len(nibp_comm) >= len(nibp_lat),
        f"NIBP_COMM_LOST in each NIBP silence ({len(nibp_comm)} onsets; "
        f"{', '.join(f'{x:.0f}' for x in nibp_lat)} s in)",
    )
    failed = onsets(live.alarms, "NIBP_FAILED")
    errs_seen = [
        any(at <= t <= at + NIBP_ERROR_FOR_S + 300 for t in failed)
        for at, _ in NIBP_ERRORS
        if at < seconds
    ]
    checks.check(all(errs_seen), f"NIBP_FAILED in each error period ({len(failed)} onsets)")
    by_id = Counter(a["id"] for a in live.alarms if a["state"] == "onset")
    print("NIBP readings: " + ", ".join(f"{k} {n}" for k, n in sorted(live.nibp.items())))
    print("alarm onsets: " + ", ".join(f"{k} {n}" for k, n in sorted(by_id.items())))

    # Replay.
    checks.check(
        replayed == live.alarms,
        f"alarm log replayed from the file equals the live one ({len(live.alarms)} records)",
    )
    for i, (a, b) in enumerate(zip(live.alarms, replayed, strict=False)):
        if a != b:
            print(f"  first difference, record {i}:\n  live   {a}\n  replay {b}")
            break
    else:
        if len(live.alarms) != len(replayed):
            print(f"  live {len(live.alarms)} records, replay {len(replayed)}")

    # Memory.
    first_h, last_h = min(live.rss, default=0), max(live.rss, default=0)
    growth = live.rss.get(last_h, 0.0) - live.rss.get(first_h, 0.0)
    print(
        "RSS by hour (MB): "
        + ", ".join(f"{h} h {mb:.1f}" for h, mb in sorted(live.rss.items()))
        + f"; peak {peak_rss_mb():.0f} MB (the file's numerics read back, and replay, come after)"
    )
    print(
        "recorder backlog at each hour mark (items, drained before measuring): "
        + ", ".join(f"{h} h {n}" for h, n in sorted(live.backlog.items()))
    )
    print(
        f"memory growth {first_h} h -> {last_h} h: {growth:+.1f} MB; budget "
        f"< {MEMORY_GROWTH_BUDGET_MB:g} MB -> {verdict(growth, MEMORY_GROWTH_BUDGET_MB)}"
    )
    if checks.failed:
        print(f"{len(checks.failed)} check(s) FAILED")
        return 1
    print("all soak checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
