"""The SunTech driver against the virtual module, over a real pty opened with pyserial.

Data time is stepped by the test (0.1 s); every command really crosses the pty
to the module and every answer comes back through it.
"""

from __future__ import annotations

import os
import select
from pathlib import Path

import pytest
import serial

from drivers.suntech import (
    Ack,
    CommandKind,
    SuntechCommandDecoder,
    encode_ack,
    encode_bp_data,
    encode_cuff_pressure,
    encode_return_code,
)
from drivers.suntech_driver import (
    LATE_ANSWER_WINDOW_S,
    MAX_MEASUREMENT_S,
    RESPONSE_TIMEOUT_S,
    DriverEvent,
    DriverEventKind,
    SuntechNibpDriver,
)
from drivers.types import NibpStatus
from simulator.nibp_device import VirtualNibpModule
from simulator.physiology import PatientModel
from simulator.scenario import load_scenario

STEP_S = 0.1
IO_TIMEOUT_S = 2.0


def scenario_file(tmp_path: Path, body: str) -> PatientModel:
    path = tmp_path / "nibp.toml"
    path.write_text(f'name = "nibp-test"\n{body}', encoding="utf-8")
    return PatientModel(load_scenario(str(path)), seed=3)


class StuckModule:
    """A module whose measurement never ends (cuff stays up): for the 180 s safety rule."""

    def __init__(self) -> None:
        self._decoder = SuntechCommandDecoder()
        self._out = bytearray()
        self.received: list[CommandKind] = []

    def receive(self, data: bytes, t: float) -> None:
        for command in self._decoder.feed(data):
            self.received.append(command.kind)
            if command.kind is CommandKind.GET_CUFF_PRESSURE:
                self._out += encode_cuff_pressure(120)
            elif command.kind is CommandKind.GET_BP_DATA:
                from drivers.suntech import BpDataResponse

                self._out += encode_bp_data(BpDataResponse(0, 0, 0, 0, bytes(8), 0, 0, 0))
            elif command.kind is CommandKind.GET_RETURN_CODE:
                self._out += encode_return_code(0)
            elif command.kind is CommandKind.ABORT:
                self._out += encode_ack(Ack.ABORTED)
            else:
                self._out += encode_ack(Ack.OK)

    def generate_until(self, t: float) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out


class PtyBench:
    """Driver on the pty's slave (pyserial), module on its master; stepped in data time."""

    def __init__(self, master: int, path: str, module) -> None:
        self.master = master
        self.module = module
        self.port = serial.Serial(path, 9600, timeout=IO_TIMEOUT_S)
        self._written = 0
        self.driver = SuntechNibpDriver(self._write)
        self.events: list[DriverEvent] = []
        self.cuff: list[int] = []
        self.t = 0.0

    def _write(self, data: bytes) -> bool:
        self.port.write(data)
        self.port.flush()
        self._written += len(data)
        return True

    def _read_master(self, n: int) -> bytes:
        got = b""
        while len(got) < n:
            ready, _, _ = select.select([self.master], [], [], IO_TIMEOUT_S)
            assert ready, "the driver's command never reached the module"
            got += os.read(self.master, n - len(got))
        return got

    def _settle(self, t: float) -> None:
        """Carry every command written at `t` to the module and its answer back."""
        while self._written:
            data = self._read_master(self._written)
            self._written = 0
            self.module.receive(data, t)
            answer = self.module.generate_until(t)
            if answer:
                os.write(self.master, answer)
                back = self.port.read(len(answer))
                assert back == answer
                self._record(self.driver.feed(back, t))

    def _record(self, events: list[DriverEvent]) -> None:
        self.events += events
        self.cuff += [e.cuff_mmhg for e in events if e.kind is DriverEventKind.CUFF]

    def start(self) -> None:
        assert self.driver.start(self.t)
        self._record(self.driver.poll(self.t))
        self._settle(self.t)

    def run_until(self, t_end: float, stop_on=()) -> None:
        while self.t < t_end:
            self.t = round(self.t + STEP_S, 6)
            self._record(self.driver.poll(self.t))
            self._settle(self.t)
            if any(e.kind in stop_on for e in self.events):
                return

    def kinds(self) -> list[DriverEventKind]:
        return [e.kind for e in self.events if e.kind is not DriverEventKind.CUFF]

    def close(self) -> None:
        self.port.close()


@pytest.fixture
def bench_for(raw_pty):
    benches = []

    def make(module) -> PtyBench:
        bench = PtyBench(*raw_pty, module)
        benches.append(bench)
        return bench

    yield make
    for bench in benches:
        bench.close()


def test_measurement_reports_cuff_pressure_then_the_reading(bench_for, tmp_path) -> None:
    model = scenario_file(tmp_path, "[patient]\nsys_mmhg = 131\ndia_mmhg = 84\nhr_bpm = 66\n")
    bench = bench_for(VirtualNibpModule(model, seed=3))
    bench.start()
    assert bench.driver.status is NibpStatus.INFLATING
    bench.run_until(60.0, stop_on=(DriverEventKind.READING,))
    assert bench.kinds() == [DriverEventKind.STARTED, DriverEventKind.READING]
    done = bench.events[-1]
    assert 20.0 <= done.t <= 42.0  # 20-40 s cycle, fetched by the 2 s BP poll
    reading = done.reading
    assert reading is not None and reading.ok
    assert abs(reading.systolic_mmhg - 131) <= 8 and abs(reading.diastolic_mmhg - 84) <= 6
    assert abs(reading.pulse_rate_bpm - 66) <= 5
    assert reading.diastolic_mmhg < reading.map_mmhg < reading.systolic_mmhg
    # Cuff pressure came every 0.5 s: up above systolic, then down.
    assert len(bench.cuff) >= 2 * (done.t - 1)
    assert max(bench.cuff) > reading.systolic_mmhg
    assert bench.cuff[-1] < max(bench.cuff)
    assert bench.driver.status is NibpStatus.DONE
    assert bench.driver.cuff_pressure_mmhg is None


def test_module_that_never_answers_is_not_responding_after_5_s(bench_for, tmp_path) -> None:
    model = scenario_file(tmp_path, "[[timeline]]\nat_s = 0\nnibp_silent = true\n")
    module = VirtualNibpModule(model)
    bench = bench_for(module)
    bench.start()
    bench.run_until(RESPONSE_TIMEOUT_S + 1.0)
    events = [e for e in bench.events if e.kind is not DriverEventKind.CUFF]
    assert [e.kind for e in events] == [DriverEventKind.NOT_RESPONDING, DriverEventKind.FAILED]
    assert events[0].t == pytest.approx(5.0)  # exactly 5 s of data time (the brief)
    assert bench.driver.status is NibpStatus.NOT_RESPONDING
    assert module.commands_ignored >= 1


def test_silent_module_coming_back_is_noticed(bench_for, tmp_path) -> None:
    model = scenario_file(
        tmp_path,
        "[[timeline]]\nat_s = 0\nnibp_silent = true\n"
        "[[timeline]]\nat_s = 12\nnibp_silent = false\n",
    )
    bench = bench_for(VirtualNibpModule(model))
    bench.start()
    bench.run_until(20.0, stop_on=(DriverEventKind.RESPONDING,))
    assert DriverEventKind.RESPONDING in bench.kinds()
    assert bench.driver.responding and bench.driver.status is NibpStatus.IDLE


@pytest.mark.parametrize("code", [1, 2, 3, 4, 85, 87, 89, 90])
def test_module_answering_with_each_error_code(bench_for, tmp_path, code: int) -> None:
    model = scenario_file(tmp_path, f"[[timeline]]\nat_s = 0\nnibp_error = {code}\n")
    bench = bench_for(VirtualNibpModule(model))
    bench.start()
    bench.run_until(60.0, stop_on=(DriverEventKind.FAILED,))
    failed = bench.events[-1]
    assert failed.kind is DriverEventKind.FAILED
    assert failed.reading is not None and failed.reading.error_code == code
    assert failed.reading.systolic_mmhg is None
    assert str(code) in failed.message
    assert bench.driver.status is NibpStatus.FAILED


def test_measurement_not_over_in_180_s_is_aborted(bench_for) -> None:
    module = StuckModule()
    bench = bench_for(module)
    bench.start()
    bench.run_until(MAX_MEASUREMENT_S + 1.0, stop_on=(DriverEventKind.FAILED,))
    failed = bench.events[-1]
    assert failed.kind is DriverEventKind.FAILED
    assert failed.t == pytest.approx(180.0)  # IEC 80601-2-30 adult limit
    assert "180 s" in failed.message
    assert module.received[-1] is CommandKind.ABORT
    assert not bench.driver.measuring


def test_abort_on_request_stops_the_module(bench_for, tmp_path) -> None:
    model = scenario_file(tmp_path, "")
    module = VirtualNibpModule(model)
    bench = bench_for(module)
    bench.start()
    bench.run_until(5.0)
    assert module.measuring
    bench.events += bench.driver.abort(bench.t)
    bench.run_until(6.0)
    assert not module.measuring
    assert bench.kinds()[-1] is DriverEventKind.ABORTED
    assert bench.driver.status is NibpStatus.ABORTED


def test_garbage_before_an_answer_is_given_up_in_time() -> None:
    sent: list[bytes] = []
    driver = SuntechNibpDriver(sent.append)
    assert driver.start(0.0)
    driver.poll(0.0)
    # '>' 0x43 announces a long frame that never comes; the real ack follows it.
    events = driver.feed(b"\x3e\x43" + encode_ack(Ack.OK), 0.1)
    assert events == []
    events = driver.poll(0.7)
    assert [e.kind for e in events] == [DriverEventKind.STARTED]
    assert driver.responding


def test_after_a_timeout_late_answers_are_dropped_and_only_an_abort_goes_out() -> None:
    """No sequence numbers: the late answer to a timed-out command must not pass for the
    answer to the next one, so the next one waits out the window (an abort does not)."""
    sent: list[bytes] = []
    driver = SuntechNibpDriver(sent.append)
    decoder = SuntechCommandDecoder()
    assert driver.start(0.0)
    driver.poll(0.0)
    events = driver.poll(RESPONSE_TIMEOUT_S)
    assert DriverEventKind.NOT_RESPONDING in [e.kind for e in events]
    kinds = [c.kind for c in decoder.feed(b"".join(sent))]
    assert kinds == [CommandKind.START_ADULT, CommandKind.ABORT]  # the abort at once
    # The start's ack, 7 s late: dropped, though the abort is out and takes an ack.
    assert driver.feed(encode_ack(Ack.OK), 7.0) == []
    assert not driver.responding and driver.unexpected_responses == 1
    sent.clear()
    abort_timed_out = 2 * RESPONSE_TIMEOUT_S  # the abort went out at 5 s
    driver.poll(abort_timed_out + LATE_ANSWER_WINDOW_S - 0.5)
    assert sent == []  # the probe waits out the window after that timeout
    window_over = abort_timed_out + LATE_ANSWER_WINDOW_S
    driver.poll(window_over)
    assert [c.kind for c in decoder.feed(b"".join(sent))] == [CommandKind.GET_RETURN_CODE]
    answered = driver.feed(encode_return_code(0), window_over + 0.2)
    assert [e.kind for e in answered] == [DriverEventKind.RESPONDING]
