"""The NIBP module silent, answering with errors, answering late: the alarms docs/clinical.md
asks for (NIBP_COMM_LOST when a command has no answer within 5 s, NIBP_FAILED on an
error code), the oximeter going on, and no reading the module did not give.

Through the whole pipeline with the virtual SunTech module, in data time. The driver
itself (silence, each error code, 180 s abort) is proven in tests/test_suntech_driver.py;
these add what the monitor as a whole shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.commands import Command
from monitor.config import PipelineConfig, build_pipeline
from monitor.pipeline import PipelineRunner
from monitor.sources import SimulatorSource
from simulator.devices import SimulatedBedside
from simulator.scenario import load_scenario

ANSWER_WITHIN_S = 5.0


class LateModule:
    """The simulated bedside, but every NIBP answer held back `delay_s` of data time."""

    def __init__(self, bedside: SimulatedBedside, delay_s: float) -> None:
        self._bedside = bedside
        self._delay_s = delay_s
        self._held: list[tuple[float, bytes]] = []
        self.protocols = bedside.protocols

    def advance(self, t: float) -> dict[str, bytes]:
        out = self._bedside.advance(t)
        answer = out.pop("nibp", b"")
        if answer:
            self._held.append((t + self._delay_s, answer))
        due = b"".join(data for at, data in self._held if at <= t + 1e-9)
        self._held = [(at, data) for at, data in self._held if at > t + 1e-9]
        out["nibp"] = due
        return out

    def receive(self, channel: str, data: bytes, t: float) -> None:
        self._bedside.receive(channel, data, t)


def run(bedside, seconds: float, step_s: float = 0.04) -> list[dict]:
    source = SimulatorSource(bedside, speed=None, step_s=step_s)
    pipeline = build_pipeline(PipelineConfig.of(source.protocols))
    pipeline.set_writer(source.write)
    records: list[dict] = []
    pipeline.subscribe(records.append)
    pipeline.apply_command(Command("nibp_interval", {"minutes": 1, "start_now": True}))
    PipelineRunner(source, pipeline, duration_s=seconds).run()
    return records


def scenario(tmp_path: Path, body: str) -> SimulatedBedside:
    path = tmp_path / "nibp-fault.toml"
    path.write_text('name = "nibp-fault"\n' + body, encoding="utf-8")
    return SimulatedBedside(load_scenario(str(path)), seed=0)


def alarm_ts(records: list[dict], alarm_id: str, state: str = "onset") -> list[float]:
    return [
        r["t"]
        for r in records
        if r["type"] == "alarm" and r["id"] == alarm_id and r["state"] == state
    ]


def oximeter_went_on(records: list[dict], seconds: int) -> None:
    numerics = [r for r in records if r["type"] == "numerics"]
    assert [r["t"] for r in numerics] == [float(t) for t in range(1, seconds + 1)]
    assert all(r["spo2_state"] == "valid" for r in numerics[2:])


def no_invented_reading(records: list[dict]) -> None:
    for r in records:
        if r["type"] == "nibp" and r["status"] != "ok":
            assert r["sys"] is None and r["dia"] is None and r["map"] is None, r


SILENT_70 = "[[timeline]]\nat_s = 70\nnibp_silent = true\n"


def test_silent_module_raises_nibp_comm_lost_within_5_s(tmp_path: Path) -> None:
    """Measuring from 60 s; the module goes quiet at 70 s, mid-measurement: the cuff
    poll of 69.5 s is the first command it never answers."""
    records = run(scenario(tmp_path, SILENT_70), 150)
    oximeter_went_on(records, 150)
    no_invented_reading(records)
    onset = alarm_ts(records, "NIBP_COMM_LOST")
    # 5 s, counted to the next whole data second by the driver: at most 1 s more.
    assert len(onset) == 1 and 69.5 + ANSWER_WITHIN_S <= onset[0] <= 70 + ANSWER_WITHIN_S + 1
    assert not alarm_ts(records, "NIBP_COMM_LOST", "end")  # still silent at 150 s
    assert not [r for r in records if r["type"] == "nibp" and r["status"] == "ok" and r["t"] > 70]


def test_silent_module_that_comes_back_ends_the_alarm(tmp_path: Path) -> None:
    body = SILENT_70 + "[[timeline]]\nat_s = 100\nnibp_silent = false\n"
    records = run(scenario(tmp_path, body), 200)
    onset, end = alarm_ts(records, "NIBP_COMM_LOST"), alarm_ts(records, "NIBP_COMM_LOST", "end")
    assert len(onset) == 1 and len(end) == 1 and 100 <= end[0] <= 110
    assert any(r["type"] == "nibp" and r["status"] == "ok" and r["t"] > end[0] for r in records)


@pytest.mark.parametrize("code", [2, 85])
def test_module_answering_an_error_raises_nibp_failed(tmp_path: Path, code: int) -> None:
    records = run(scenario(tmp_path, f"[[timeline]]\nat_s = 0\nnibp_error = {code}\n"), 90)
    oximeter_went_on(records, 90)
    no_invented_reading(records)
    failed = [r for r in records if r["type"] == "nibp" and r["status"] != "ok"]
    assert failed and all(r["error_code"] == code for r in failed)
    onset = alarm_ts(records, "NIBP_FAILED")
    assert onset and onset[0] == failed[0]["t"]  # at the reading itself, no delay
    assert not alarm_ts(records, "NIBP_COMM_LOST")


def test_module_answering_late_but_within_5_s_is_no_fault(tmp_path: Path) -> None:
    bedside = LateModule(SimulatedBedside(load_scenario("steady"), seed=0), delay_s=3.0)
    records = run(bedside, 150)
    oximeter_went_on(records, 150)
    assert not alarm_ts(records, "NIBP_COMM_LOST")
    ok = [r for r in records if r["type"] == "nibp" and r["status"] == "ok"]
    assert len(ok) >= 2 and all(80 <= r["sys"] <= 200 for r in ok)


def test_module_answering_after_5_s_is_not_responding(tmp_path: Path) -> None:
    bedside = LateModule(SimulatedBedside(load_scenario("steady"), seed=0), delay_s=7.0)
    records = run(bedside, 150)
    oximeter_went_on(records, 150)
    no_invented_reading(records)
    onset = alarm_ts(records, "NIBP_COMM_LOST")
    assert onset and onset[0] <= ANSWER_WITHIN_S + 1.0  # the first command was at t=0
    failed = [r for r in records if r["type"] == "nibp" and r["status"] != "ok"]
    assert failed and failed[0]["error"] == "NIBP not responding"


def test_answers_after_5_s_keep_data_time_in_order() -> None:
    bedside = LateModule(SimulatedBedside(load_scenario("steady"), seed=0), delay_s=7.0)
    records = run(bedside, 20)
    times = [r["t"] for r in records]
    assert times == sorted(times)  # no record stamped before one already emitted


def test_a_chronically_late_module_keeps_the_alarm_on() -> None:
    """Answers carry no sequence number: each 7 s-late answer comes while the next
    command is out. The driver drops answers for a while after a timeout and sends
    nothing but an abort meanwhile, so no late answer passes for the next one's."""
    bedside = LateModule(SimulatedBedside(load_scenario("steady"), seed=0), delay_s=7.0)
    records = run(bedside, 120)
    oximeter_went_on(records, 120)
    no_invented_reading(records)
    assert len(alarm_ts(records, "NIBP_COMM_LOST")) == 1
    assert not alarm_ts(records, "NIBP_COMM_LOST", "end")  # still answering 7 s late
    assert not [r for r in records if r["type"] == "nibp" and r["status"] == "ok"]
