"""The bedside window's one read a frame (`monitor.present.bedside`), without a window."""

from __future__ import annotations

import dataclasses

import pytest

from drivers.types import NibpStatus
from monitor.config import PipelineConfig, build_pipeline
from monitor.numerics import ValueState
from monitor.pipeline import AcquisitionPipeline
from monitor.present.bedside import NO_NIBP, BedsideSnapshot, bedside_snapshot
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


def run(scenario: str, until_s: float, *commands: tuple[float, str]) -> AcquisitionPipeline:
    source = SimulatorSource(SimulatedBedside(load_scenario(scenario)), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    pipeline.set_writer(source.write)
    script = sorted(commands)
    for chunk in source.chunks():
        while script and chunk.t >= script[0][0]:
            pipeline.commands.submit(script.pop(0)[1])
        pipeline.process(chunk)
        if pipeline.t >= until_s:
            break
    return pipeline


def test_a_frame_holds_what_the_pipeline_has_at_that_data_time() -> None:
    pipeline = run("steady", 60.0, (2.0, "nibp_start"))
    shown = bedside_snapshot(pipeline)
    assert shown.t == pipeline.t and shown.wall_start == pipeline.wall_start
    assert shown.oximeter == pipeline.oximeter_snapshot()
    assert shown.alarms == pipeline.alarms.display_state(pipeline.t)
    assert shown.limits == pipeline.alarms.limits()
    nibp = pipeline.channels["nibp"]
    assert shown.nibp.reading is not None and shown.nibp.reading == nibp.last_reading
    assert shown.nibp.status is NibpStatus.DONE and shown.nibp.mode == "manual"
    assert shown.session.phase == pipeline.session.phase == "pre-infusion"
    links = {link.channel: link for link in shown.links}
    assert set(links) == set(pipeline.channels)
    assert links["oximeter"].has_data and links["oximeter"].answering is None
    assert links["nibp"].has_data and links["nibp"].answering is True
    assert links["resp"].has_data and links["capno"].has_data
    assert shown.rr is not None and shown.rr.state is ValueState.VALID  # the resp stream's
    assert shown.capno is not None and shown.capno["rr_source"] == "capnography"


def test_before_any_data_nothing_is_claimed() -> None:
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": "nonin2", "nibp": "suntech"}))
    shown = bedside_snapshot(pipeline)
    assert shown.nibp.reading is None and shown.nibp.status is NibpStatus.IDLE
    assert [(link.channel, link.has_data) for link in shown.links] == [
        ("oximeter", False),
        ("nibp", False),
    ]
    assert shown.rr is None and shown.capno is None


def test_without_an_nibp_module_the_tile_has_nothing_to_show() -> None:
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": "nonin2"}))
    assert bedside_snapshot(pipeline).nibp == NO_NIBP


def test_a_co2_module_gives_its_numerics_now() -> None:
    pipeline = run("hypoventilation", 90.0)
    capno = pipeline.channels["capno"]
    shown = bedside_snapshot(pipeline)
    assert shown.capno == capno.numerics_json(pipeline.t)
    assert shown.capno is not None and shown.capno["rr_source"] == "capnography"
    # the status strip's "CO2 ✓" (it said "waiting for data" beside EtCO2 values)
    assert {link.channel: link.has_data for link in shown.links}["capno"]


def test_a_snapshot_cannot_be_changed_by_its_reader() -> None:
    shown = bedside_snapshot(build_pipeline(PipelineConfig.of({"oximeter": "nonin2"})))
    assert isinstance(shown, BedsideSnapshot)
    with pytest.raises(dataclasses.FrozenInstanceError):
        shown.t = 5.0  # type: ignore[misc]
