"""NIBP modes through the whole pipeline with the in-process virtual module, in data time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.types import NibpStatus
from monitor.channels.nibp import NibpChannel
from monitor.channels.nibp_schedule import NibpSchedule, load_settings, next_slot
from monitor.commands import Command, CommandBus, CommandError
from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.sources import Chunk, SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

WALL = datetime(2026, 1, 1, tzinfo=UTC)


class Run:
    """A pipeline on the simulator, flat out, with commands injected at data times."""

    def __init__(self, scenario: str = "steady", step_s: float = 1.0) -> None:
        self.bedside = SimulatedBedside(load_scenario(scenario), seed=0)
        self.source = SimulatorSource(self.bedside, speed=None, step_s=step_s)
        self.pipeline = build_pipeline(PipelineConfig.of(self.source.protocols), wall_start=WALL)
        self.pipeline.set_writer(self.source.write)  # commands at t=0 reach the module
        self.records: list[dict] = []
        self.pipeline.subscribe(self.records.append)
        self._script: list[tuple[float, str, dict]] = []
        self.pipeline.subscribe_chunks(self._inject)
        self.probes: list[tuple[float, object]] = []

    @property
    def nibp(self) -> NibpChannel:
        channel = self.pipeline.channels["nibp"]
        assert isinstance(channel, NibpChannel)
        return channel

    def at(self, t: float, name: str, **args) -> Run:
        self._script.append((t, name, args))
        self._script.sort(key=lambda c: c[0])
        return self

    def _inject(self, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            while self._script and chunk.t >= self._script[0][0]:
                _, name, args = self._script.pop(0)
                self.pipeline.commands.submit(name, **args)

    def run(self, duration_s: float) -> Run:
        PipelineRunner(self.source, self.pipeline, duration_s=duration_s).run()
        return self

    def of(self, type_: str, **match) -> list[dict]:
        return [
            r
            for r in self.records
            if r["type"] == type_ and all(r.get(k) == v for k, v in match.items())
        ]

    def starts(self) -> list[float]:
        return [r["t"] for r in self.of("event", kind="nibp", state="started")]


def test_the_program_file_holds_the_clinical_numbers() -> None:
    s = load_settings()
    assert s.stat_s == 300 and s.interval_min_range == (1, 120)
    assert s.stale_after_s == 15 * 60 and s.invalid_after_s == 60 * 60
    assert s.program_interval_min("infusion", 0) == 5
    assert s.program_interval_min("infusion", 29 * 60) == 5
    assert s.program_interval_min("infusion", 30 * 60) == 15
    assert s.program_interval_min("recovery", 0) == 15
    assert s.program_interval_min("Pre_Infusion", 0) == 5
    assert s.program_interval_min("discharge", 0) is None


def test_interval_slots_are_multiples_of_the_interval() -> None:
    schedule = NibpSchedule(load_settings())
    schedule.set_interval(5, 123.4)
    assert schedule.next_due_t == 300.0
    assert schedule.due(299.9, None) is None
    assert schedule.due(300.0, None) == 300.0
    assert schedule.next_due_t == 600.0
    # Slots that passed while busy are used up, not run late one after another.
    assert schedule.due(1234.0, None) == 1200.0
    assert schedule.next_due_t == 1500.0
    assert next_slot(600.0, 300.0) == 900.0


def test_bad_interval_is_refused() -> None:
    run = Run()
    for bad in (0, 121, 2.5, "5", True):
        with pytest.raises(CommandError):
            run.pipeline.commands.apply(Command("nibp_interval", {"minutes": bad}), 0.0)
        # Through the pipeline a refused command is an error record, never a crash.
        run.pipeline.apply_command(Command("nibp_interval", {"minutes": bad}))
    assert [r["type"] for r in run.records] == ["error"] * 5
    assert run.nibp.mode == "manual"


def test_interval_command_waits_for_the_clock(tmp_path: Path) -> None:
    run = Run().at(10, "nibp_interval", minutes=2).run(400)
    assert run.starts() == [120.0, 240.0, 360.0]  # not at 10: on multiples of 2 min
    assert run.nibp.mode == "interval" and run.nibp.interval_min == 2
    assert run.nibp.next_due_t == 480.0
    readings = run.of("nibp", status="ok")
    assert len(readings) == 3 and all(110 <= r["sys"] <= 135 for r in readings)
    assert set(readings[0]) >= {"t", "sys", "dia", "map", "pr", "status", "error_code", "error"}


def test_manual_start_and_what_the_gui_reads() -> None:
    run = Run().at(3, "nibp_start")
    seen: list[tuple[float, int | None, NibpStatus]] = []
    run.pipeline.subscribe_chunks(
        lambda cs: seen.extend((c.t, run.nibp.cuff_pressure_mmhg, run.nibp.status) for c in cs)
    )
    run.run(60)
    [reading] = run.of("nibp")
    assert reading["status"] == "ok"
    measuring = [s for s in seen if 5 <= s[0] < reading["t"]]
    assert measuring and all(s[2] is NibpStatus.INFLATING for s in measuring)
    assert max(s[1] for s in measuring) > reading["sys"]
    assert run.nibp.last_reading is not None
    assert run.nibp.last_reading.systolic_mmhg == reading["sys"]
    assert run.nibp.last_reading_t == reading["t"]
    assert run.nibp.cuff_pressure_mmhg is None and run.nibp.status is NibpStatus.DONE
    assert run.nibp.mode == "manual" and run.nibp.next_due_t is None


def test_stat_measures_back_to_back_for_five_minutes() -> None:
    run = Run().at(5, "nibp_stat").run(420)
    starts = run.starts()
    ends = [r["t"] for r in run.of("nibp")]
    assert starts[0] == 5.0
    assert all(s < 5 + 300 for s in starts)
    assert len(starts) >= 7
    # Each next measurement starts the moment the previous one ends.
    assert starts[1:] == ends[: len(starts) - 1]
    assert run.nibp.mode == "manual"


def test_stop_cancels_the_measurement_and_stat() -> None:
    run = Run().at(5, "nibp_stat").at(12, "nibp_stop").run(100)
    assert [r["state"] for r in run.of("event", kind="nibp")] == ["started", "aborted"]
    assert run.of("event", kind="nibp", state="aborted")[0]["t"] == 12.0
    assert run.of("nibp") == []
    assert not run.bedside.nibp.measuring
    assert run.nibp.status is NibpStatus.ABORTED and run.nibp.mode == "manual"


def test_program_in_the_infusion_phase() -> None:
    run = Run().at(0, "set_phase", phase="infusion").at(0, "nibp_program", on=True).run(2800)
    # Every 5 min for the first 30 min of the infusion, then every 15 min; the slot at
    # 0 s is taken (the CO2 module's boot message makes the pipeline look at t = 0).
    assert run.starts() == [300.0 * k for k in range(0, 7)] + [2700.0]
    assert run.nibp.mode == "program" and run.nibp.interval_min == 15


def test_program_follows_the_session_phase() -> None:
    run = Run().at(0, "set_phase", phase="recovery").at(1, "nibp_program", on=True)
    run.at(1000, "set_phase", phase="infusion").run(1700)
    assert run.starts() == [900.0, 1200.0, 1500.0]


@pytest.mark.parametrize(("phase", "first_start"), [(None, 300.0), ("recovery", 900.0)])
def test_program_asks_the_phase_it_was_given(phase: str | None, first_start: float) -> None:
    """The channel knows the session only through the callable it was made with: none
    (the program's default phase, every 5 min) or recovery (every 15 min)."""
    written: list[bytes] = []
    commands = CommandBus()
    channel = NibpChannel(
        "nibp",
        "suntech",
        lambda record: None,
        lambda data: written.append(data) or True,
        commands,
        lambda: None if phase is None else (phase, 0.0),
    )
    commands.apply(Command("nibp_program", {"on": True}), 1.0)
    for t in range(2, 1000):
        channel.tick(float(t))
        if channel.driver.measuring:  # (the idle module's status checks are writes too)
            break
    assert channel.driver.measuring and t == first_start and written


def test_reading_age_goes_stale_then_invalid() -> None:
    run = Run().at(1, "nibp_start").run(3700)
    reading_t = run.of("nibp")[0]["t"]
    numerics = {r["t"]: r for r in run.of("numerics")}
    assert numerics[1.0]["nibp_state"] == "missing" and numerics[1.0]["nibp_age_s"] is None
    assert numerics[reading_t + 60]["nibp_state"] == "valid"
    assert numerics[reading_t + 60]["nibp_age_s"] == 60.0
    assert numerics[reading_t + 899]["nibp_state"] == "valid"
    assert numerics[reading_t + 900]["nibp_state"] == "stale"
    assert numerics[reading_t + 3600]["nibp_state"] == "invalid"


FAULTS = """name = "nibp-faults"
[[timeline]]
at_s = 70
nibp_silent = true
[[timeline]]
at_s = 150
nibp_silent = false
[[timeline]]
at_s = 200
nibp_error = 85
"""


def test_faults_become_records_and_events(tmp_path: Path) -> None:
    path = tmp_path / "faults.toml"
    path.write_text(FAULTS, encoding="utf-8")
    run = Run(str(path)).at(0, "nibp_interval", minutes=1, start_now=True).run(320)
    states = [(r["t"], r["state"]) for r in run.of("event", kind="nibp")]
    # Silent from 70 s: the cuff poll of 69.5 s gets no answer; 5 s later, on the second.
    assert (75.0, "not_responding") in states
    assert any(s == "responding" and 150 <= t <= 156 for t, s in states)
    failed = run.of("nibp", status="failed")
    assert any(r["error"] == "NIBP not responding" and r["error_code"] is None for r in failed)
    assert any(r["error_code"] == 85 and "pneumatic blockage" in r["error"] for r in failed)
    assert all(r["sys"] is None for r in failed)


def test_same_records_whatever_the_simulator_step(tmp_path: Path) -> None:
    """`--speed max` steps 1 s, `--speed 10` 40 ms: NIBP records must not notice."""
    path = tmp_path / "faults.toml"
    path.write_text(FAULTS, encoding="utf-8")

    def records(step_s: float) -> list[dict]:
        run = Run(str(path), step_s=step_s)
        run.pipeline.apply_command(Command("nibp_interval", {"minutes": 1, "start_now": True}))
        return run.run(260).records

    fine, coarse = records(0.04), records(1.0)
    assert len(fine) == len(coarse) and fine == coarse
    assert any(r["type"] == "nibp" and r["status"] == "ok" for r in fine)
    assert any(r["type"] == "event" and r.get("state") == "not_responding" for r in fine)


def test_stat_does_not_hammer_a_silent_module(tmp_path: Path) -> None:
    path = tmp_path / "silent.toml"
    path.write_text('name = "s"\n[[timeline]]\nat_s = 0\nnibp_silent = true\n', encoding="utf-8")
    run = Run(str(path)).at(1, "nibp_stat").run(120)
    failed = run.of("nibp", status="failed")
    assert len(failed) == 1 and failed[0]["error"] == "NIBP not responding"
    assert failed[0]["t"] == 6.0


def test_replayed_chunks_and_commands_give_the_same_nibp_records() -> None:
    """Replay has no device to write to: the recorded answers alone must lead the driver
    to the same records (commands go in through the bus before their chunk)."""
    live = Run().at(0, "nibp_interval", minutes=1, start_now=True).at(70, "nibp_stop")
    log: list[tuple[str, object]] = []
    live.pipeline.subscribe_chunks(lambda cs: log.extend(("chunk", c) for c in cs))
    live.pipeline.subscribe(
        lambda r: log.append(("command", r)) if r["type"] == "command" else None
    )
    live.run(200)

    replay = build_pipeline(
        PipelineConfig.of(live.source.protocols), wall_start=WALL
    )  # writes go nowhere
    records: list[dict] = []
    replay.subscribe(records.append)
    pending: list[dict] = []
    for kind, item in log:
        if kind == "command":
            pending.append(item)  # type: ignore[arg-type]
    for kind, item in log:
        if kind != "chunk":
            continue
        while pending and pending[0]["t"] <= item.t:  # type: ignore[attr-defined]
            command = pending.pop(0)
            replay.commands.submit(command["name"], **command["args"])
        replay.process(item)  # type: ignore[arg-type]

    def nibp_only(rs: list[dict]) -> list[dict]:
        return [r for r in rs if r["type"] in ("nibp", "event", "command")]

    assert nibp_only(records) == nibp_only(live.records)
    assert len(live.of("nibp", status="ok")) == 2
