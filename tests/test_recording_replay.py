"""Replay: the recorded chunks through the real decoders give the live records line for
line, commands re-applied at their data time; pacing, pause, speed and seek."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.recording.recorder import SessionRecorder
from monitor.recording.replay import (
    ReplayController,
    ReplaySource,
    pipeline_for,
    timeline_marks,
)
from monitor.recording.store import SessionFileError, SessionReader
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import builtin_scenarios, load_scenario
from tests.conftest import DATA, json_lines, run_vitalmon
from tests.recording_helpers import record_session
from tests.test_e2e_pty import served_steady  # noqa: F401  (a fixture)

NOTE = "test_note"  # a command of this test's own, so no other part's handler is needed


def _register_note(pipeline: AcquisitionPipeline) -> None:
    """A command whose handler emits an event: replay must re-apply it to get it back."""

    def handler(args: dict[str, object], t: float) -> None:
        pipeline.emit({"type": "event", "t": round(t, 3), "kind": "note", "text": args["text"]})

    pipeline.commands.register(NOTE, handler, "test only: a note as an event")


@pytest.mark.slow
def test_cli_replay_equals_live_line_for_line(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    scenario = str(DATA / "rec_changes.toml")
    live = run_vitalmon(
        "run",
        "--sim",
        scenario,
        "--headless",
        "--speed",
        "max",
        "--duration",
        "180",
        "--record",
        str(path),
    )
    assert live.returncode == 0, live.stderr
    replay = run_vitalmon("replay", str(path), "--headless", "--speed", "max")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout
    records = json_lines(live.stdout)
    assert sum(r["type"] == "numerics" for r in records) == 180
    spo2 = [r["spo2"] for r in records if r["type"] == "numerics" and r["spo2"] is not None]
    assert spo2[0] == 97 and min(spo2) < 90  # it changed
    # The real alarm engine reacted to the scenario, and the nurse's scripted commands
    # were applied: a replay that did not re-apply them would differ from here on.
    onsets = {r["id"] for r in records if r["type"] == "alarm" and r["state"] == "onset"}
    assert onsets >= {"PR_HIGH", "SPO2_LOW", "SPO2_PROBE_OFF", "OXIMETER_COMM_LOST"}
    assert [(r["t"], r["name"]) for r in records if r["type"] == "command"] == [
        (70.0, "acknowledge"),
        (100.0, "mark_event"),
    ]
    assert any(
        r["type"] == "alarm" and r["id"] == "SPO2_LOW" and r["state"] == "acknowledged"
        for r in records
    )
    assert any(r["type"] == "event" and r.get("text") == "probe reattached" for r in records)
    for kind, flag in (("alarm", "--alarms"), ("numerics", "--numerics"), ("event", "--events")):
        logged = run_vitalmon("log", str(path), flag)
        assert logged.returncode == 0, logged.stderr
        wanted = [line for line in live.stdout.splitlines() if f'"type": "{kind}"' in line]
        assert logged.stdout.splitlines() == wanted


def _live_with_commands(path, seconds: float, notes: dict[float, str], speed=None):
    """A simulated run with this test's commands submitted at given data times."""
    source = SimulatorSource(
        SimulatedBedside(load_scenario(str(DATA / "rec_changes.toml"))), speed=speed
    )
    pipeline = build_pipeline(
        PipelineConfig.of(source.protocols), wall_start=datetime(2026, 5, 1, tzinfo=UTC)
    )
    _register_note(pipeline)
    records: list[dict] = []
    pipeline.subscribe(records.append)
    pending = sorted(notes.items())

    def submit_due(chunks) -> None:  # as a GUI would, between chunks
        for chunk in chunks:
            while pending and pending[0][0] <= chunk.t:
                pipeline.commands.submit(NOTE, text=pending.pop(0)[1])

    pipeline.subscribe_chunks(submit_due)
    recorder = SessionRecorder(path, pipeline, live=False)
    PipelineRunner(source, pipeline, duration_s=seconds).run()
    recorder.close()
    return records


def _replay(path, speed=None) -> list[dict]:
    source = ReplaySource(path, speed=speed)
    pipeline = pipeline_for(source.reader)
    _register_note(pipeline)
    source.attach(pipeline)
    records: list[dict] = []
    pipeline.subscribe(records.append)
    PipelineRunner(source, pipeline).run()
    source.release()
    return records


def test_replay_reapplies_commands_at_their_data_time(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    live = _live_with_commands(
        path, 60, {10.5: "first", 33.0: "second", 33.01: "third"}, speed=50.0
    )  # 40 ms steps: commands land between seconds
    replayed = _replay(path)
    assert replayed == live
    notes = [(r["t"], r["text"]) for r in live if r["type"] == "event" and r["kind"] == "note"]
    assert [text for _, text in notes] == ["first", "second", "third"]
    assert [r["name"] for r in live if r["type"] == "command"] == [NOTE] * 3


def test_replay_refuses_commands_it_cannot_apply(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    _live_with_commands(path, 5, {2.0: "x"})
    source = ReplaySource(path)
    try:
        with pytest.raises(SessionFileError, match=f"does not know: {NOTE}"):
            source.attach(pipeline_for(source.reader))
    finally:
        source.release()


def test_replay_paces_on_recorded_data_time_and_writes_nowhere(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    record_session(path, seconds=10, clinical=False)
    source = ReplaySource(path, speed=20.0)
    assert source.write("oximeter", b"\x00") is True  # accepted as live, sent nowhere
    assert source.write("nosuch", b"\x00") is False
    pipeline = pipeline_for(source.reader)
    start = time.monotonic()
    PipelineRunner(source, pipeline).run()
    elapsed = time.monotonic() - start
    source.release()
    assert pipeline.t == 10.0
    assert 0.4 <= elapsed < 2.0  # 9 s of data after the first chunk at 20x = 0.45 s


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_controller_pause_resume_speed_and_seek_both_ways(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    record_session(path, seconds=120, clinical=False)
    rebound: list[AcquisitionPipeline] = []
    controller = ReplayController(path, speed=1.0, on_new_pipeline=rebound.append)
    first = controller.pipeline
    controller.start()
    try:
        _wait_for(lambda: controller.pipeline.t >= 1.0)
        controller.pause()
        time.sleep(0.1)
        held = controller.pipeline.t
        time.sleep(0.3)
        assert controller.pipeline.t == held  # paused: data time stands still
        controller.seek(90.0)  # forward: flat out to 90 s even while paused, then held
        _wait_for(lambda: controller.pipeline.t >= 90.0)
        time.sleep(0.2)
        assert controller.pipeline.t < 92.0
        controller.seek(30.0)  # back: a fresh pipeline run from the start to 30 s
        assert rebound == [controller.pipeline] and controller.pipeline is not first
        _wait_for(lambda: controller.pipeline.t >= 30.0)
        numerics = threading.Event()
        controller.pipeline.subscribe(
            lambda r: numerics.set() if r["type"] == "numerics" and r["t"] == 120.0 else None
        )
        controller.set_speed(None)
        controller.resume()
        assert numerics.wait(10.0)
    finally:
        controller.stop()


@pytest.mark.slow
def test_serial_session_over_a_pty_replays_identically(served_steady, tmp_path) -> None:  # noqa: F811
    """Live bytes stamped by the host clock, link events included: replay gives the same."""
    port = served_steady["oximeter"]["port"]
    path = tmp_path / "serial.vitalmon"
    live = run_vitalmon(
        "run",
        "--oximeter",
        f"nonin2:{port}",
        "--headless",
        "--duration",
        "4",
        "--record",
        str(path),
        timeout=30,
    )
    assert live.returncode == 0, live.stderr
    records = json_lines(live.stdout)
    assert any(r["type"] == "event" and r["kind"] == "link" for r in records)
    assert sum(r["type"] == "numerics" for r in records) >= 3
    replay = run_vitalmon("replay", str(path), "--headless", "--speed", "max")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout


@pytest.mark.slow
def test_infusion_scenario_replays_to_the_same_alarm_log(tmp_path) -> None:
    """The acceptance case of issue 7, once the `infusion` scenario is on the branch."""
    if "infusion" not in {s.name for s in builtin_scenarios()}:
        pytest.skip("the infusion scenario is not on this branch yet")
    path = tmp_path / "infusion.vitalmon"
    live = run_vitalmon(
        "run",
        "--sim",
        "infusion",
        "--headless",
        "--speed",
        "max",
        "--duration",
        str(3 * 3600),
        "--record",
        str(path),
        timeout=300,
    )
    assert live.returncode == 0, live.stderr
    replay = run_vitalmon("replay", str(path), "--headless", "--speed", "max", timeout=300)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout
    logged = run_vitalmon("log", str(path), "--alarms")
    wanted = [line for line in live.stdout.splitlines() if '"type": "alarm"' in line]
    assert logged.stdout.splitlines() == wanted


def test_timeline_marks_for_the_seek_bar(report_session) -> None:
    path, emitted = report_session
    with SessionReader(path) as reader:
        marks = timeline_marks(reader)
    alarms = [(m.t, m.label, m.priority) for m in marks if m.kind == "alarm"]
    onsets = [
        (r["t"], r["id"], r["priority"])
        for r in emitted
        if r["type"] == "alarm" and r["state"] == "onset"
    ]
    assert alarms == onsets and len(alarms) == 9
    assert alarms[0][1:] == ("CO2_WARMUP", "low")  # the CO2 module warming up
    # the baseline readings were 4 min apart, not 5: the infusion starts without one
    assert alarms[1] == (360.0, "NIBP_NO_BASELINE", "low")
    assert alarms[2][1:] == ("SPO2_LOW_CRITICAL", "high")
    assert [m.t for m in marks] == sorted(m.t for m in marks)
    assert any(m.kind == "event" and m.label == "sign_off" and m.t == 895.0 for m in marks)
