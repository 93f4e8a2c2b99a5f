"""`process_run` must make exactly the records `process` makes of each chunk in turn.

Replay hands the pipeline a data second of chunks at a time, and a simulation flat out
hands it up to the next due time of the devices it writes to; this is what makes an
8-hour session recorded at real time replay in seconds. The chunks here come from
live runs of every bundled scenario (a line going quiet, a probe off, breathing
stopping, NIBP polls, failures and schedules, a CO2 module's set-up and faults),
chunked as a real-time run chunks them, and are then taken again by fresh pipelines
one by one, whole seconds at a time and in random groups (which may cross seconds,
commands and link events).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from monitor.config import PipelineConfig, build_pipeline, nurse_commands
from monitor.pipeline import AcquisitionPipeline, PipelineRunner
from monitor.sources import Chunk, SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import builtin_scenarios, load_scenario

START = datetime(2026, 1, 1, tzinfo=UTC)

# scenario -> data seconds that take in its faults and recoveries
CASES = {
    "comm-loss": 200,
    "probe-off": 290,
    "apnea": 250,
    "nibp-fail": 200,
    "artifact": 260,
    "infusion": 420,
    "bradycardia": 150,
    "capno-disconnect": 200,
    "desaturation": 250,
    "hypertension": 200,
    "hypoventilation": 200,
    "obstruction": 290,
    "steady": 120,
    "tachycardia": 150,
}


def test_every_bundled_scenario_is_a_case() -> None:
    assert {scenario.name for scenario in builtin_scenarios()} == set(CASES)


def live(
    scenario: str, seconds: float, step_s: float, ahead: bool = True
) -> tuple[list[Chunk], list[dict]]:
    """A simulated run; `ahead`: the simulator runs ahead of the monitor to its next due
    time, as a headless run at --speed max does (else one step at a time)."""
    bedside = SimulatedBedside(load_scenario(scenario))
    source = SimulatorSource(bedside, speed=None, step_s=step_s, ahead=ahead)
    pipeline = build_pipeline(
        PipelineConfig.of(source.protocols, commands=nurse_commands(source.bedside)),
        wall_start=START,
    )  # the nurse's scripted actions, as `run` does
    chunks: list[Chunk] = []
    records: list[dict] = []
    pipeline.subscribe_chunks(chunks.extend)
    pipeline.subscribe(records.append)
    PipelineRunner(source, pipeline, duration_s=seconds).run()
    return chunks, records


def by_second(chunks: Sequence[Chunk]) -> Iterator[list[Chunk]]:
    """Runs as a replay forms them: the chunks of one data second."""
    run: list[Chunk] = []
    for chunk in chunks:
        if run and math.ceil(chunk.t) != math.ceil(run[0].t):
            yield run
            run = []
        run.append(chunk)
    if run:
        yield run


def at_random(chunks: Sequence[Chunk], seed: int, longest: int) -> Iterator[list[Chunk]]:
    rng = random.Random(seed)
    at = 0
    while at < len(chunks):
        size = rng.randint(1, longest)
        yield list(chunks[at : at + size])
        at += size


def again(
    protocols: dict[str, str], records: list[dict], runs: Iterator[list[Chunk]]
) -> tuple[list[dict], AcquisitionPipeline]:
    """A fresh pipeline given the recorded chunks in runs, and the commands at their times."""
    pipeline = build_pipeline(PipelineConfig.of(protocols), wall_start=START)
    for record in records:
        if record["type"] == "command":
            pipeline.commands.schedule(record["t"], record["name"], **record["args"])
    out: list[dict] = []
    pipeline.subscribe(out.append)
    for run in runs:
        pipeline.process_run(run)
    return out, pipeline


def waves(pipeline: AcquisitionPipeline) -> list[np.ndarray]:
    return [
        ring.snapshot()[0]
        for channel in pipeline.channels.values()
        for ring in (getattr(channel, "pleth", None), getattr(channel, "wave", None))
        if ring is not None
    ]


def first_difference(a: list[dict], b: list[dict]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"record {i}: {x} != {y}"
    return f"lengths {len(a)} != {len(b)}"


@pytest.fixture(scope="module", params=sorted(CASES))
def recorded(request) -> tuple[str, list[Chunk], list[dict], dict[str, str]]:
    scenario = request.param
    # 40 ms as a real-time run; 70 ms elsewhere, so faults that begin on a whole second
    # begin inside a chunk's step, not on its edge.
    step = 0.04 if scenario == "infusion" else 0.07
    chunks, records = live(scenario, CASES[scenario], step)
    protocols = dict(SimulatedBedside(load_scenario(scenario)).protocols)
    return scenario, chunks, records, protocols


def test_running_ahead_gives_the_records_of_one_step_at_a_time(recorded) -> None:
    """What the monitor writes (NIBP requests, a CO2 module's set-up) reaches the device
    at the step it would reach it one step at a time, so the device answers the same."""
    scenario, chunks, records, _ = recorded
    step = 0.04 if scenario == "infusion" else 0.07
    stepped_chunks, stepped = live(scenario, CASES[scenario], step, ahead=False)
    assert records == stepped, first_difference(records, stepped)
    assert chunks == stepped_chunks


def test_whole_seconds_at_a_time_give_the_live_records(recorded) -> None:
    scenario, chunks, records, protocols = recorded
    assert len(chunks) > 4 * CASES[scenario]  # several chunks to a second, as live
    out, pipeline = again(protocols, records, by_second(chunks))
    assert out == records, first_difference(out, records)
    one_by_one, reference = again(protocols, records, ([c] for c in chunks))
    assert one_by_one == records
    for merged, single in zip(waves(pipeline), waves(reference), strict=True):
        np.testing.assert_array_equal(merged, single)


def test_random_groups_give_the_live_records(recorded) -> None:
    _, chunks, records, protocols = recorded
    for seed, longest in ((1, 12), (2, 400)):
        out, _ = again(protocols, records, at_random(chunks, seed, longest))
        assert out == records, f"seed {seed}: {first_difference(out, records)}"


def test_a_streaming_co2_module_does_not_cut_the_simulator_s_runs() -> None:
    """The CO2 host sets the module up again after 5 s without a stream frame, so a run
    ahead used to end 5 s after the frames it had seen; the frames the run itself brings
    push that back (`quiet_until`'s `streamed`). Runs then stretch between the NIBP
    module's polls, and the records stay those of one step at a time (above)."""
    bedside = SimulatedBedside(load_scenario("steady"))
    assert "capno" in bedside.protocols
    source = SimulatorSource(bedside, speed=None, ahead=True)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols), wall_start=START)
    pipeline.set_writer(source.write)
    pipeline.start()
    lengths: list[float] = []
    for run in source.runs(pipeline.quiet_until):
        if len(run) > 1:
            lengths.append(run[-1].t - run[0].t)
        pipeline.process_run(run)
        if pipeline.t >= 600:
            break
    assert max(lengths) > 20.0, lengths  # the NIBP module is idle: up to a minute
    assert not [r for r in pipeline.alarms.log if r.get("id") == "CO2_COMM_LOST"]


def _flat_out(scenario: str, seconds: float, expecting: bool) -> tuple[list[dict], list[int]]:
    """A flat-out run at whole-second steps, its streaming devices' bytes told to the
    pipeline ahead or not; its records, and the feeds of each oximeter decoding pass."""
    bedside = SimulatedBedside(load_scenario(scenario))
    source = SimulatorSource(bedside, speed=None, ahead=True)
    pipeline = build_pipeline(
        PipelineConfig.of(source.protocols, commands=nurse_commands(bedside)), wall_start=START
    )
    records: list[dict] = []
    pipeline.subscribe(records.append)
    passes: list[int] = []
    decoder = pipeline.channels["oximeter"].run_decoder
    feed_run = decoder.feed_run
    decoder.feed_run = lambda datas: passes.append(len(datas)) or feed_run(datas)
    pipeline.set_writer(source.write)
    pipeline.start()
    for run in source.runs(pipeline.quiet_until, pipeline.expect if expecting else None):
        pipeline.process_run(run)
        if pipeline.t >= seconds:
            break
    return records, passes


def test_streaming_devices_rendered_ahead_decode_a_stretch_at_a_time_to_the_same_records():
    """While an NIBP reading runs, its exchange cuts the simulator's runs every second;
    the oximeter's and respiration sensor's bytes, rendered ahead and told to the
    pipeline (`expect`), are decoded a stretch at a time all the same."""
    ahead, passes_ahead = _flat_out("infusion", 900, expecting=True)
    runs, passes_in_runs = _flat_out("infusion", 900, expecting=False)
    assert ahead == runs, first_difference(ahead, runs)
    assert any(r["type"] == "nibp" for r in runs)  # readings ran: the runs were cut short
    assert len(passes_ahead) * 2 < len(passes_in_runs), (passes_ahead, passes_in_runs)
    assert sum(passes_ahead) >= 850  # every second's bytes, decoded ahead


def test_bytes_other_than_those_expected_are_refused_not_decoded_twice() -> None:
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": "nonin2"}), wall_start=START)
    pipeline.expect("oximeter", [b"\x01\x81\x01\x00\x83"])
    with pytest.raises(RuntimeError, match="other than those expected"):
        pipeline.process(Chunk(1.0, "oximeter", b"\x01\x81\x01\x00\x84"))
