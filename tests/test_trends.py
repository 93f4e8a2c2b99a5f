"""The trend store: 1 Hz numerics, NIBP, events; range queries; memory grown in blocks."""

from __future__ import annotations

import math

import numpy as np

from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.sources import SimulatorSource
from monitor.trends import TrendStore
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario


def _numerics(t: float, spo2: float | None, pr: float | None = 70) -> dict[str, object]:
    return {"type": "numerics", "t": t, "spo2": spo2, "pr": pr, "pi": 2.5, "rr": None}


def test_range_query_returns_exactly_the_rows_in_range_with_gaps_as_nan() -> None:
    store = TrendStore()
    for second in range(1, 101):
        store(_numerics(float(second), None if second == 50 else 90 + second % 10))
    rows = store.numerics(40, 60)
    assert rows["t"][0] == 40 and rows["t"][-1] == 60 and len(rows["t"]) == 21
    assert math.isnan(rows["spo2"][10])  # t = 50 was null
    assert rows["spo2"][0] == 90 and np.all(np.isnan(rows["rr"]))
    assert len(store.numerics()["t"]) == 100
    assert store.span().first_t == 1 and store.span().last_t == 100


def test_nibp_events_and_alarms_are_kept_and_filtered_by_time() -> None:
    store = TrendStore()
    store({"type": "nibp", "t": 300.0, "sys": 130, "dia": 80, "map": 97, "pr": 70})
    store({"type": "nibp", "t": 900.0, "sys": None, "dia": None, "map": None, "pr": None})
    store({"type": "event", "t": 400.0, "kind": "infusion_start"})
    store({"type": "alarm", "t": 500.0, "id": "SPO2_LOW", "state": "onset"})
    store({"type": "command", "t": 500.0, "name": "acknowledge", "args": {}})
    nibp = store.nibp(0, 600)
    assert list(nibp["sys"]) == [130] and nibp["t"][0] == 300
    assert math.isnan(store.nibp()["sys"][1])
    assert [e["kind"] for e in store.events(350, 450)] == ["infusion_start"]
    assert store.events(0, 399) == []
    assert [a["id"] for a in store.alarms()] == ["SPO2_LOW"]


def test_memory_grows_in_whole_blocks_not_per_row() -> None:
    store = TrendStore(block_rows=3600)
    start = store.nbytes()
    for second in range(1, 3601):
        store(_numerics(float(second), 97))
    assert store.nbytes() == start  # one hour fits the first block
    store(_numerics(3601.0, 97))
    one_block = store.nbytes() - start
    for second in range(3602, 8 * 3600 + 1):
        store(_numerics(float(second), 97))
    assert store.nbytes() == start + 7 * one_block  # 8 hours: 8 blocks
    assert store.nbytes() < 2_000_000


def test_pipeline_feeds_its_trend_store_once_a_second() -> None:
    source = SimulatorSource(SimulatedBedside(load_scenario("steady")), speed=None)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    PipelineRunner(source, pipeline, duration_s=30).run()
    rows = pipeline.trends.numerics()
    assert list(rows["t"][:3]) == [1.0, 2.0, 3.0]
    assert len(rows["t"]) == 30
    assert 94 <= np.nanmedian(rows["spo2"]) <= 100
