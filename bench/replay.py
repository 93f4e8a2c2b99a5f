"""Record simulated hours at max speed, then replay the file at max speed, headless.

Budget (docs/architecture.md): replay/simulate an 8-hour session through the whole pipeline in
under 30 s. Prints both wall times, the file size and the machine line, and appends a
row to docs/performance.md.
Usage: python bench/replay.py [--hours 8] [--scenario steady] [--no-append]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, peak_rss_mb, verdict
from monitor.config import PipelineConfig, build_pipeline, nurse_commands
from monitor.pipeline import PipelineRunner
from monitor.recording.recorder import SessionRecorder
from monitor.recording.replay import ReplaySource, pipeline_for
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

BUDGET_8H_S = 30.0
DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def record(
    path: Path, scenario: str, hours: float, step_s: float | None
) -> tuple[float, list[dict]]:
    source = SimulatorSource(SimulatedBedside(load_scenario(scenario)), speed=None)
    if step_s is not None:  # chunk as a real-time run does (40 ms), not a second at a time
        source.step_s = step_s
    pipeline = build_pipeline(
        PipelineConfig.of(source.protocols, commands=nurse_commands(source.bedside))
    )  # the nurse's scripted actions, as `run` does
    records = []
    pipeline.subscribe(records.append)
    start = time.perf_counter()
    recorder = SessionRecorder(path, pipeline, {"kind": "bench", "scenario": scenario}, live=False)
    PipelineRunner(source, pipeline, duration_s=hours * 3600).run()
    recorder.close()
    return time.perf_counter() - start, records


def replay(path: Path) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    source = ReplaySource(path, speed=None)
    pipeline = pipeline_for(source.reader)
    source.attach(pipeline)
    records: list[dict] = []
    pipeline.subscribe(records.append)
    PipelineRunner(source, pipeline).run()
    source.release()
    return time.perf_counter() - start, records


def append_row(row: str) -> None:
    DOCS.parent.mkdir(exist_ok=True)
    if not DOCS.exists():
        DOCS.write_text("# Performance\n\nFigures from the scripts in bench/ (`make bench`).\n")
    text = DOCS.read_text()
    header = "## Record and replay (bench/replay.py)"
    if header not in text:
        text += (
            f"\n{header}\n\nBudget: an 8-hour session replayed through the whole pipeline, "
            "no GUI, in < 30 s.\n\n"
            "| date | hours | record s | replay s | file MB | budget s | verdict | machine |\n"
            "|---|---|---|---|---|---|---|---|\n"
        )
    lines = text.splitlines()
    start = lines.index(header)
    last = max(i for i, line in enumerate(lines) if i > start and line.startswith("|"))
    lines.insert(last + 1, row)  # at the end of the table, before any notes under it
    DOCS.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--scenario", default="steady")
    parser.add_argument("--no-append", action="store_true", help="do not touch docs/")
    parser.add_argument(
        "--live-steps",
        action="store_true",
        help="record in 40 ms chunks, as a real-time session is recorded (25x the rows)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.vitalmon"
        step = 0.04 if args.live_steps else None
        rec_s, live_records = record(path, args.scenario, args.hours, step)
        size_mb = path.stat().st_size / 1e6
        rep_s, replay_records = replay(path)
    budget = BUDGET_8H_S * args.hours / 8.0
    chunking = "40 ms chunks (as live)" if args.live_steps else "1 s chunks (as --speed max)"
    print(f"machine: {machine()}")
    print(
        f"record {args.scenario} {args.hours:g} h at max speed, {chunking}: {rec_s:.1f} s wall, "
        f"file {size_mb:.1f} MB, {len(live_records)} records"
    )
    alarms = [r for r in live_records if r["type"] == "alarm"]
    same = "identical to live" if replay_records == live_records else "DIFFERENT FROM LIVE"
    print(
        f"replay at max speed: {rep_s:.1f} s wall, {len(replay_records)} records {same} "
        f"(alarm log of {len(alarms)} records included), "
        f"peak RSS {peak_rss_mb():.0f} MB; budget {budget:.1f} s -> {verdict(rep_s, budget)}"
    )
    if not args.no_append:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        chunks = "40 ms" if args.live_steps else "1 s"
        append_row(
            f"| {day} | {args.hours:g} ({chunks} chunks) | {rec_s:.1f} | {rep_s:.1f} | "
            f"{size_mb:.1f} | {budget:.1f} | {verdict(rep_s, budget)} | {machine()} |"
        )


if __name__ == "__main__":
    main()
