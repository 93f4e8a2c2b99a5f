"""The `wave` topic: pleth and CO2 blocks of 0.25 s from the bedside, a gapped sweep at
the central (docs/central.md)."""

from __future__ import annotations

import numpy as np

from monitor.net.central import CentralModel
from monitor.net.waves import ChairWaves, WaveBlocks
from tests.conftest import run_vitalmon
from tests.gui_helpers import Bedside
from tests.mqtt_broker import USERS, BrokerTap


def test_the_rings_are_cut_into_quarter_seconds_of_data_time() -> None:
    bedside = Bedside("hypoventilation")
    bedside.run_to(2.0)
    blocks = WaveBlocks(bedside.pipeline)
    assert blocks.take() == []  # the first look only marks where the blocks begin
    pleth_from = bedside.pipeline.oximeter.pleth.total_written
    co2_from = bedside.pipeline.channels["capno"].co2.total_written
    t0 = bedside.pipeline.t
    bedside.run_to(t0 + 1.0)
    got = blocks.take()
    span = bedside.pipeline.t - t0
    assert len(got) == int(span / 0.25) >= 4
    assert [b["t0"] for b in got] == [round(t0 + i * span / len(got), 3) for i in range(len(got))]
    assert got[0]["fs"] == 75.0 and got[0]["co2_fs"] == 100.0
    pleth = [v for b in got for v in b["pleth"]]
    co2 = [v for b in got for v in b["co2"]]
    assert len(pleth) == bedside.pipeline.oximeter.pleth.total_written - pleth_from
    assert len(co2) == bedside.pipeline.channels["capno"].co2.total_written - co2_from
    assert blocks.take() == []  # nothing new: nothing sent twice


def test_a_lost_block_is_a_gap_at_the_central() -> None:
    waves = ChairWaves()
    fs = 100.0
    for i in (0, 1, 3):  # block 2 lost (QoS 0)
        assert waves.add({"t0": i * 0.25, "fs": fs, "pleth": [float(i)] * 25})
    samples, total = waves.pleth.ring.snapshot()
    assert total == 100  # 75 samples and 25 of gap
    assert np.isnan(samples[50:75]).all() and (samples[75:] == 3.0).all()
    assert not waves.add({"fs": fs, "pleth": [1.0]})  # no t0: not a wave block


def test_wave_messages_keep_a_chair_online_and_are_not_printed() -> None:
    model = CentralModel("test", start=0.0)
    block = b'{"t0": 1.0, "fs": 75, "pleth": [1, null, 3]}'
    assert model.on_message("vitalmon/test/c1/wave", block, 4.0, "w") == []
    assert model.tick(8.0, "w") == []  # heard at 4.0: not silent for 5 s yet
    samples, _ = model.chairs["c1"].waves.pleth.ring.snapshot()
    assert samples[0] == 1.0 and np.isnan(samples[1])


def test_a_bedside_publishes_its_pleth_and_capnogram(mosquitto, monkeypatch) -> None:
    monkeypatch.setenv("VITALMON_MQTT_PASSWORD", USERS["bedside"])
    tap = BrokerTap(mosquitto)
    try:
        out = run_vitalmon(
            "run", "--sim", "hypoventilation", "--speed", "2", "--duration", "8", "--headless",
            "--publish", mosquitto.url(), "--chair", "c1",
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        tap.wait_for("status", lambda p: p["state"] == "closed", 5)
        with tap._lock:
            waves = [
                (p, retained) for _, topic, p, retained in tap.messages if topic.endswith("/wave")
            ]
    finally:
        tap.close()
    assert len(waves) >= 20  # about 4 a second of 8 s of data time
    assert not any(retained for _, retained in waves)
    blocks = [p for p, _ in waves]
    assert all(b["fs"] == 75.0 and b["co2_fs"] == 100.0 for b in blocks)
    steps = np.diff([b["t0"] for b in blocks])
    assert (steps > 0).all() and np.median(steps) < 0.4
    pleth = [v for b in blocks for v in b["pleth"] if v is not None]
    assert len(pleth) > 75 * 4 and np.ptp(pleth) > 0  # a real, moving pleth
    assert any(v for b in blocks for v in b["co2"] if v is not None)
    central = ChairWaves()
    for block in blocks:
        central.add(block)
    drawn, total = central.pleth.ring.snapshot()
    assert total == sum(len(b["pleth"]) for b in blocks)  # no block seen as lost
    assert np.isfinite(drawn).all()


def test_an_ended_alarm_leaves_the_active_list(mosquitto, monkeypatch) -> None:
    monkeypatch.setenv("VITALMON_MQTT_PASSWORD", USERS["bedside"])
    tap = BrokerTap(mosquitto)
    try:
        out = run_vitalmon(
            "run", "--sim", "hypoventilation", "--speed", "20", "--duration", "10", "--headless",
            "--publish", mosquitto.url(), "--chair", "c1",
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        tap.wait_for("status", lambda p: p["state"] == "closed", 5)
        active = tap.payloads("active")
    finally:
        tap.close()
    assert [a["id"] for a in active[0]] == ["CO2_WARMUP"]  # onset at 1 s
    assert active[-1] == []  # its end at 6 s: gone from the chair's alarm bar
