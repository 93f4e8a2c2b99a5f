"""The capnography channel through the real pipeline and alarm engine, on the virtual
Capnostat: values only while the module measures, rate and apnea from it, its alarms,
and replay equal to live."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivers import capnostat as cs
from drivers.capnostat import CapnoBatch, CapnoFlag, CapnostatEncoder
from drivers.types import LinkEvent, LinkState
from monitor.config import PipelineConfig, build_pipeline
from monitor.sources import Chunk
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario
from tests.conftest import run_vitalmon
from tests.simhelp import run_bedside

F = CapnoFlag


def records(scenario: str, seconds: float) -> list[dict]:
    return run_bedside(SimulatedBedside(load_scenario(scenario), seed=0), seconds)


def alarm_onsets(recs: list[dict]) -> dict[str, float]:
    onsets: dict[str, float] = {}
    for r in recs:
        if r["type"] == "alarm" and r["state"] == "onset":
            onsets.setdefault(r["id"], r["t"])
    return onsets


def numerics_at(recs: list[dict], t: float) -> dict:
    return next(r for r in recs if r["type"] == "numerics" and r["t"] == t)


def test_hypoventilation_raises_etco2_high_and_rate_comes_from_capnography() -> None:
    recs = records("hypoventilation", 240)
    onsets = alarm_onsets(recs)
    assert 130 <= onsets["ETCO2_HIGH"] <= 180, onsets
    assert "RR_LOW_CRITICAL" in onsets and "ETCO2_LOW" not in onsets
    early, late = numerics_at(recs, 30.0), numerics_at(recs, 240.0)
    assert early["rr_source"] == late["rr_source"] == "capnography"
    assert 35 <= early["etco2"] <= 41 and early["etco2_state"] == "valid"
    assert late["rr"] == 6 and late["etco2"] > 55
    # The scenario also has a respiration stream: capnography's numbers win.
    assert early["fico2"] == 0.0 and early["rr"] in (13, 14, 15)


def test_warm_up_shows_no_values_and_raises_co2_warmup() -> None:
    recs = records("hypoventilation", 10)
    first = numerics_at(recs, 2.0)
    assert first["etco2_state"] == "warm_up" and first["etco2"] is None and first["rr"] is None
    assert first["apnea_s"] is None  # not measuring: no apnea either
    assert alarm_onsets(recs)["CO2_WARMUP"] <= 2.0
    ends = [r for r in recs if r["type"] == "alarm" and r["id"] == "CO2_WARMUP"]
    assert ends[-1]["state"] == "end"
    assert numerics_at(recs, 10.0)["etco2_state"] == "valid"


def test_obstruction_lowers_etco2_then_apnea_raises_rr_low_critical() -> None:
    recs = records("obstruction", 200)
    onsets = alarm_onsets(recs)
    assert "ETCO2_LOW" in onsets
    # Breaths stop at 150 s: the apnea alarm after the preset's 30 s, at once (no delay).
    assert 175 <= onsets["RR_LOW_CRITICAL"] <= 183, onsets
    assert numerics_at(recs, 190.0)["etco2"] is None
    assert "no_breaths" in numerics_at(recs, 190.0)["co2_status"]


def test_adapter_off_raises_check_adapter_hides_values_and_no_false_apnea() -> None:
    recs = records("capno-disconnect", 180)
    onsets = alarm_onsets(recs)
    assert 60 <= onsets["CO2_CHECK_ADAPTER"] <= 62
    off = numerics_at(recs, 90.0)
    assert off["etco2_state"] == "check_adapter" and off["etco2"] is None and off["rr"] is None
    assert "RR_LOW_CRITICAL" not in onsets  # breaths from before the adapter came off don't count
    assert numerics_at(recs, 150.0)["etco2"] is not None


def test_zero_required_raises_its_alarm_until_the_host_has_zeroed(tmp_path: Path) -> None:
    path = tmp_path / "zero.toml"
    path.write_text(
        'name = "zero"\n[devices]\ncapno = "capnostat"\n'
        "[[timeline]]\nat_s = 20\ncapno_zero_required = true\ncapno_adapter_off = true\n"
        "[[timeline]]\nat_s = 40\ncapno_adapter_off = false\n",
        encoding="utf-8",
    )
    recs = records(str(path), 60)
    onsets = alarm_onsets(recs)
    assert 20 <= onsets["CO2_ZERO_REQUIRED"] <= 22
    events = [r for r in recs if r["type"] == "event" and r["kind"] == "capno"]
    assert any(e["state"] == "zero_started" for e in events)
    assert any(e["state"] == "zero_reply" and e["message"] == "started" for e in events)
    zeroing = [r for r in recs if r["type"] == "numerics" and r["etco2_state"] == "zeroing"]
    assert zeroing and all(r["etco2"] is None for r in zeroing)
    ended = [r for r in recs if r["type"] == "alarm" and r["id"] == "CO2_ZERO_REQUIRED"]
    assert ended[-1]["state"] == "end"


def stream(
    seconds: int, status: int = int(F.BREATH_OK), start_sync: int = 0, fico2: float = 0.0
) -> list[bytes]:
    """One chunk per second of stream frames: a status, EtCO2 40, rate 12, FiCO2 each second."""
    encoder = CapnostatEncoder()
    encoder.sync = start_sync
    nan = np.full(100, np.nan)
    etco2, rr, inspired = nan.copy(), nan.copy(), nan.copy()
    etco2[25], rr[50], inspired[75] = 40.0, 12.0, fico2
    breath = np.zeros(100, bool)
    breath[60] = True
    batch = CapnoBatch.build(
        np.full(100, 5.0), etco2_mmhg=etco2, rr_bpm=rr, fico2_mmhg=inspired,
        breath_detected=breath,
        status=np.full(100, status), status_frame=np.arange(100) == 0,
    )  # fmt: skip
    return [encoder.encode(batch) for _ in range(seconds)]


def run_chunks(chunks: list[Chunk]) -> tuple[list[dict], list[bytes]]:
    written: list[bytes] = []
    pipeline = build_pipeline(PipelineConfig.of({"oximeter": "nonin2", "capno": "capnostat"}))
    pipeline.set_writer(lambda channel, data: written.append(data) or True)
    out: list[dict] = []
    pipeline.subscribe(out.append)
    pipeline.start()
    for chunk in chunks:
        pipeline.process(chunk)
    return out, written


def test_a_silent_module_raises_co2_comm_lost_after_10_s() -> None:
    data = stream(5)
    chunks = [Chunk(float(i + 1), "capno", d) for i, d in enumerate(data)]
    chunks += [Chunk(float(t)) for t in range(6, 20)]
    out, written = run_chunks(chunks)
    onsets = alarm_onsets(out)
    assert onsets["CO2_COMM_LOST"] == 15.0  # last frame at 5 s
    assert numerics_at(out, 3.0)["etco2"] == 40.0 and numerics_at(out, 3.0)["rr"] == 12
    # The host set the module up at the start, and again when the stream went quiet.
    setup = cs.set_barometric_pressure(760)
    assert written[0] == setup and written.count(cs.start_stream()) >= 2


def test_a_lost_port_raises_co2_comm_lost_at_once_and_clears_on_frames() -> None:
    up = LinkEvent("pty", LinkState.UP, "opened", 0.0)
    down = LinkEvent("pty", LinkState.DOWN, "port lost", 0.0)
    data = stream(4)
    chunks = [Chunk(0.0, "capno", link=up), Chunk(1.0, "capno", data[0]),
              Chunk(2.0, "capno", data[1]), Chunk(2.5, "capno", link=down),
              Chunk(3.0), Chunk(3.5, "capno", link=up), Chunk(4.0, "capno", data[2]),
              Chunk(5.0, "capno", data[3])]  # fmt: skip
    out, _ = run_chunks(chunks)
    co2 = [(r["t"], r["state"]) for r in out if r["type"] == "alarm" and r["id"] == "CO2_COMM_LOST"]
    assert co2 == [(2.5, "onset"), (4.0, "end")]
    assert numerics_at(out, 3.0)["etco2"] is None


def test_values_without_breath_ok_do_not_count() -> None:
    chunks = [Chunk(float(i + 1), "capno", d) for i, d in enumerate(stream(3, status=0))]
    out, _ = run_chunks(chunks)
    n = numerics_at(out, 3.0)
    assert n["etco2"] is None and n["rr"] is None and n["etco2_state"] == "valid"


def test_without_a_co2_module_the_rate_source_is_the_respiration_stream(tmp_path: Path) -> None:
    with_co2 = numerics_at(records("steady", 8), 8.0)
    assert with_co2["rr_source"] == "capnography" and with_co2["etco2"] is not None
    # A bedside whose CO2 module is switched off in its scenario.
    path = tmp_path / "no-co2.toml"
    path.write_text('name = "no-co2"\n[devices]\ncapno = false\n', encoding="utf-8")
    n = numerics_at(records(str(path), 5), 5.0)
    assert n["rr_source"] == "respiration" and "etco2" not in n


def test_replay_of_a_capnography_session_equals_live(tmp_path: Path) -> None:
    path = tmp_path / "co2.vitalmon"
    live = run_vitalmon(
        "run", "--sim", "capno-disconnect", "--headless", "--speed", "max",
        "--duration", "150", "--record", str(path),
    )  # fmt: skip
    assert live.returncode == 0, live.stderr
    assert '"CO2_CHECK_ADAPTER"' in live.stdout and '"etco2": 3' in live.stdout
    replay = run_vitalmon("replay", str(path), "--headless", "--speed", "max")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout


def test_rebreathing_raises_fico2_high_after_its_delay() -> None:
    data = stream(30, fico2=6.0)
    out, _ = run_chunks([Chunk(float(i + 1), "capno", d) for i, d in enumerate(data)])
    assert numerics_at(out, 5.0)["fico2"] == 6.0
    onsets = alarm_onsets(out)
    assert 15.0 <= onsets["FICO2_HIGH"] <= 17.0, onsets
    assert "ETCO2_HIGH" not in onsets and "ETCO2_LOW" not in onsets


def test_over_temperature_or_a_faulty_sensor_raises_co2_sensor_fault() -> None:
    for fault in (F.OVER_TEMPERATURE, F.SENSOR_FAULTY):
        data = stream(3, status=int(F.BREATH_OK | fault))
        out, _ = run_chunks([Chunk(float(i + 1), "capno", d) for i, d in enumerate(data)])
        assert alarm_onsets(out)["CO2_SENSOR_FAULT"] <= 2.0
