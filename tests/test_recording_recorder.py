"""The recorder: a kill -9 loses at most the last second and the file opens; a full disk
or a vanished directory raises RECORDING_FAILED and monitoring goes on; the GUI's
default session path."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from monitor.cli.run import source_meta, start_recorder
from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import AcquisitionPipeline
from monitor.recording.paths import sessions_dir
from monitor.recording.recorder import SessionRecorder
from monitor.recording.store import SessionReader
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario
from tests.conftest import REPO, run_vitalmon, vitalmon_cmd


def _run_until(pipeline: AcquisitionPipeline, chunks, t: float) -> None:
    """Feed the source's chunks (every device's, several a second) up to data time t."""
    while pipeline.t < t:
        pipeline.process(next(chunks))


def _recording_failed(records: list[dict]) -> list[dict]:
    """The real alarm engine's RECORDING_FAILED records (raised by the recorder's command)."""
    return [r for r in records if r["type"] == "alarm" and r["id"] == "RECORDING_FAILED"]


@pytest.mark.slow
def test_kill_9_loses_at_most_the_last_second(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    proc = subprocess.Popen(
        vitalmon_cmd("run", "--sim", "steady", "--headless", "--record", str(path)),
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    printed = 0.0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            record = json.loads(line)
            if record["type"] == "numerics":
                printed = record["t"]
                if printed >= 4.0:
                    break
        time.sleep(0.3)  # mid-second: some of the next second is queued, not committed
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert printed >= 4.0
    assert path.read_bytes()[18] == 2  # still a WAL file: nobody closed it
    before = sorted(os.listdir(tmp_path)), path.read_bytes()
    with SessionReader(path) as reader:
        numerics = reader.records("numerics")
        assert reader.meta.get("closed_cleanly") is None
        last_chunk_t = reader.duration_s()
        pleth_end = reader.wave_blocks()[-1].t_end
    assert numerics[-1]["t"] >= printed - 1.0
    assert last_chunk_t >= printed - 1.0
    assert pleth_end >= printed - 1.0
    assert [r["t"] for r in numerics] == [float(t) for t in range(1, len(numerics) + 1)]
    assert (sorted(os.listdir(tmp_path)), path.read_bytes()) == before  # reading changed nothing


DISK_FULL_SCRIPT = textwrap.dedent(
    """
    import resource, signal, sys
    from monitor.config import PipelineConfig, build_pipeline
    from monitor.headless import JsonLinesWriter
    from monitor.pipeline import PipelineRunner
    from monitor.recording.recorder import SessionRecorder
    from monitor.sources import SimulatorSource
    from simulator.devices import SimulatedBedside
    from simulator.scenario import load_scenario

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full disk: writes fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))
    # Paced (30 min of data in 2 s), so the recorder's first commit, 0.5 s in, finds
    # the disk full while monitoring is still going: flat out, the run could be over.
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=900.0)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    pipeline.subscribe(JsonLinesWriter(sys.stdout))
    recorder = SessionRecorder(sys.argv[1], pipeline, live=True)
    PipelineRunner(source, pipeline, duration_s=1800).run()
    recorder.close()
    print("FAILED:", recorder.failed, file=sys.stderr)
    """
)


@pytest.mark.slow
def test_full_disk_raises_recording_failed_and_monitoring_goes_on(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [r for r in records if r["type"] == "command" and r["name"] == "technical_alarm"]
    assert len(failed) == 1
    assert failed[0]["args"]["id"] == "RECORDING_FAILED"
    assert failed[0]["args"]["active"] is True
    assert "full" in failed[0]["args"]["message"] or "disk" in failed[0]["args"]["message"]
    numerics = [r["t"] for r in records if r["type"] == "numerics"]
    assert numerics == [float(t) for t in range(1, 1801)]  # monitoring went on to the end
    assert failed[0]["t"] < 1800
    raised = [r for r in records if r["type"] == "alarm" and r["id"] == "RECORDING_FAILED"]
    assert raised[0]["state"] == "onset" and raised[0]["priority"] == "high"
    assert "recording to" in result.stderr and "failed" in result.stderr
    with SessionReader(path) as reader:  # the file still opens, with what was committed
        kept = [r["t"] for r in reader.records("numerics")]
    assert kept == [float(t) for t in range(1, len(kept) + 1)] and len(kept) < 1800


def test_vanished_directory_raises_recording_failed(tmp_path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    records: list[dict] = []
    pipeline.subscribe(records.append)
    warnings: list[str] = []
    recorder = SessionRecorder(folder / "s.vitalmon", pipeline, live=True, warn=warnings.append)
    chunks = source.chunks()
    _run_until(pipeline, chunks, 5.0)
    time.sleep(0.7)  # one commit
    shutil.rmtree(folder)
    _run_until(pipeline, chunks, 10.0)
    deadline = time.monotonic() + 5
    while recorder.failed is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert recorder.failed is not None and "vanished" in recorder.failed
    assert not _recording_failed(records)
    _run_until(pipeline, chunks, 15.0)  # the alarm command is applied at the next chunk
    recorder.close()
    alarm = [r for r in records if r["type"] == "command" and r["name"] == "technical_alarm"]
    assert alarm and alarm[0]["args"]["id"] == "RECORDING_FAILED"
    (onset,) = _recording_failed(records)
    assert onset["state"] == "onset" and 10.0 <= onset["t"] <= 15.0
    assert warnings and "vanished" in warnings[0]
    assert [r["t"] for r in records if r["type"] == "numerics"] == [float(t) for t in range(1, 16)]


def test_a_flat_out_run_records_with_the_rollback_journal_a_paced_one_in_wal(tmp_path) -> None:
    """`--speed max --record F` writes each page once (no one watches the file as it
    grows); at any other speed the file is WAL while written (docs/architecture.md)."""
    for speed, journal in ((None, 1), (4.0, 2)):  # header byte 18: 1 rollback, 2 WAL
        source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=speed)
        path = tmp_path / f"{speed}.vitalmon"
        args = argparse.Namespace(record=path, headless=True, speed=speed)
        config = PipelineConfig.of(source.protocols)
        recorder = start_recorder(args, source, build_pipeline(config), config)
        assert recorder is not None
        assert path.read_bytes()[18] == journal, speed
        recorder.close()
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # one file after
        path.unlink()


def test_gui_records_to_the_user_data_dir_by_default(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert sessions_dir() == tmp_path / "data" / "vitalmon" / "sessions"
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    args = argparse.Namespace(
        record=None, headless=False, oximeter=None, sim="steady", seed=0, speed=None
    )
    config = PipelineConfig.of(source.protocols, source=source_meta(args))
    pipeline = build_pipeline(config)
    recorder = start_recorder(args, source, pipeline, config)
    assert recorder is not None
    recorder.close()
    (path,) = sessions_dir().iterdir()
    assert f"recording this session to {path}" in capsys.readouterr().err
    assert oct(sessions_dir().stat().st_mode & 0o777) == oct(0o700)
    with SessionReader(path) as reader:
        assert reader.meta["source"]["scenario"] == "steady"
    headless = argparse.Namespace(**{**vars(args), "headless": True})
    assert start_recorder(headless, source, pipeline, config) is None  # headless: on request


def test_recorder_without_alarm_engine_still_warns(tmp_path) -> None:
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    warnings: list[str] = []
    recorder = SessionRecorder(tmp_path / "s.vitalmon", pipeline, warn=warnings.append)
    (tmp_path / "s.vitalmon").unlink()
    pipeline.process(next(source.chunks()))
    recorder.close()
    assert recorder.failed and warnings


def test_record_refuses_an_existing_file_before_monitoring_starts(tmp_path, capsys) -> None:
    from monitor.cli import main

    path = tmp_path / "s.vitalmon"
    path.write_bytes(b"an earlier session")
    code = main(
        [
            "run",
            "--sim",
            "steady",
            "--headless",
            "--duration",
            "2",
            "--speed",
            "max",
            "--record",
            str(path),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "never overwritten" in captured.err and len(captured.err.splitlines()) == 1
    assert path.read_bytes() == b"an earlier session"


def test_gui_default_recording_that_cannot_start_raises_the_alarm_and_goes_on(
    tmp_path, monkeypatch, capsys
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    config = PipelineConfig.of(source.protocols)
    pipeline = build_pipeline(config)
    records: list[dict] = []
    pipeline.subscribe(records.append)
    args = argparse.Namespace(
        record=None, headless=False, oximeter=None, sim="steady", seed=0, speed=None
    )
    assert start_recorder(args, source, pipeline, config) is None
    assert "cannot record this session" in capsys.readouterr().err
    _run_until(pipeline, source.chunks(), 2.0)  # monitoring goes on; the alarm is applied
    (alarm,) = [r for r in records if r["type"] == "command"]
    assert alarm["args"]["id"] == "RECORDING_FAILED"
    assert [r["state"] for r in _recording_failed(records)] == ["onset"]
    assert [r["t"] for r in records if r["type"] == "numerics"] == [1.0, 2.0]


def test_a_session_being_recorded_can_be_read_meanwhile(tmp_path) -> None:
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    path = tmp_path / "s.vitalmon"
    recorder = SessionRecorder(path, pipeline, live=True)
    chunks = source.chunks()
    _run_until(pipeline, chunks, 20.0)
    time.sleep(0.8)  # a commit
    with SessionReader(path) as reader:
        seen = [r["t"] for r in reader.records("numerics")]
    assert seen == [float(t) for t in range(1, 21)]
    _run_until(pipeline, chunks, 30.0)
    recorder.close()
    with SessionReader(path) as reader:
        assert len(reader.records("numerics")) == 30


def test_a_simulation_is_written_on_the_pipeline_thread_and_committed_as_it_goes(
    tmp_path,
) -> None:
    """No writer thread when waiting loses nothing, and still a commit every half second
    of wall time (what a kill -9 keeps)."""
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    path = tmp_path / "s.vitalmon"
    recorder = SessionRecorder(path, pipeline, live=False)
    assert "recorder" not in [thread.name for thread in threading.enumerate()]
    chunks = source.chunks()
    _run_until(pipeline, chunks, 20.0)
    time.sleep(0.6)
    _run_until(pipeline, chunks, 21.0)  # the next items find the commit due
    with SessionReader(path) as reader:
        seen = [r["t"] for r in reader.records("numerics")]
    assert seen[:20] == [float(t) for t in range(1, 21)]
    recorder.close()
    with SessionReader(path) as reader:
        assert len(reader.records("numerics")) == 21


def test_a_record_that_cannot_be_stored_fails_the_recording_not_the_monitor(tmp_path) -> None:
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    warnings: list[str] = []
    recorder = SessionRecorder(tmp_path / "s.vitalmon", pipeline, live=False, warn=warnings.append)
    chunks = source.chunks()
    pipeline.process(next(chunks))
    pipeline.emit({"type": "event", "t": 1.0, "kind": "odd", "value": object()})
    for _ in range(20):
        pipeline.process(next(chunks))  # never blocks, even though the writer gave up
    recorder.close()
    assert recorder.failed is not None and "TypeError" in recorder.failed
    assert warnings


def test_every_printed_line_is_stored_as_printed(tmp_path) -> None:
    """One JSON form: the recording's record rows are the headless lines, text for text,
    in the order printed."""
    path = tmp_path / "s.vitalmon"
    live = run_vitalmon(
        "run", "--sim", "desaturation", "--headless", "--speed", "max",
        "--duration", "120", "--record", str(path),
    )  # fmt: skip
    assert live.returncode == 0, live.stderr
    printed = live.stdout.splitlines()
    db = sqlite3.connect(path)
    tables = ("numerics", "nibp", "alarm", "event", "command", "other_record")
    stored = db.execute(
        " UNION ALL ".join(f"SELECT seq, record FROM {table}" for table in tables) + " ORDER BY seq"
    ).fetchall()
    db.close()
    assert len(printed) > 120 and any('"alarm"' in line for line in printed)
    assert [text for _, text in stored] == printed
