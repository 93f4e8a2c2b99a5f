"""The Capnostat host against the virtual module over a real pty: set-up on open, again
after the boot NACK (a module that reboots mid-session), a zero when asked, port loss."""

from __future__ import annotations

import contextlib
import os
import pty
import threading
import time
import tty
from pathlib import Path

from drivers import capnostat as cs
from drivers.base import LineSettings
from drivers.capnostat import CapnoFlag
from drivers.capnostat_host import CapnoSettings, CapnostatHost, HostEventKind
from drivers.transport import SerialTransport
from drivers.types import LinkEvent, LinkState
from simulator.capno_device import ZERO_S, VirtualCapnostat
from simulator.physiology import PatientModel
from simulator.scenario import load_scenario

F = CapnoFlag
SETTINGS = CapnoSettings.load()
SETUP = b"".join(SETTINGS.setup_commands())


def test_the_set_up_sequence_is_the_documented_bytes() -> None:
    assert SETTINGS.setup_commands()[0] == bytes.fromhex("84 04 01 05 78 7A")  # 760 mmHg
    assert SETTINGS.setup_commands()[1] == cs.set_setting(cs.Isb.CO2_UNITS, b"\x00")
    assert SETTINGS.setup_commands()[2] == cs.set_no_breath_timeout(20)
    assert SETTINGS.setup_commands()[3][2] == cs.Isb.GAS_COMPENSATION
    assert SETTINGS.setup_commands()[-1] == bytes.fromhex("80 02 00 7E")


class ModuleOnPty:
    """The virtual module on the master side of a pty, paced by the wall clock."""

    def __init__(self, model: PatientModel) -> None:
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.device = VirtualCapnostat(model)
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.wrote_from_host = bytearray()

    def now(self) -> float:
        return time.monotonic() - self.start

    def __enter__(self) -> ModuleOnPty:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def unplug(self) -> None:
        """Close the master: the host's read fails like a pulled USB adapter."""
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            t = self.now()
            try:
                data = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                data = b""
            with self.lock:
                if data:
                    self.wrote_from_host += data
                    self.device.receive(data, t)
                out = self.device.generate_until(t)
            if out:
                with contextlib.suppress(OSError):
                    os.write(self.master, out)


class HostOnPort:
    """The host on the slave path through the real transport (pyserial)."""

    def __init__(self, path: str, clock) -> None:
        self.lock = threading.Lock()
        self.events: list = []
        self.links: list[LinkState] = []
        self.frames = 0
        self._clock = clock
        self.transport = SerialTransport(path, LineSettings(19200), self._data, self._link)
        self.host = CapnostatHost(self.transport.write, SETTINGS)

    def _data(self, data: bytes, _host_t: float) -> None:
        with self.lock:
            batch = self.host.decoder.feed(data)
            events = self.host.take(batch, self._clock())
            self.frames += len(batch)
            self.events += events

    def _link(self, event: LinkEvent) -> None:
        with self.lock:
            self.links.append(event.state)
            if event.state is LinkState.UP:
                self.events += self.host.link_up(self._clock())
            else:
                self.host.link_down()

    def kinds(self) -> list[HostEventKind]:
        with self.lock:
            return [e.kind for e in self.events]


def wait_for(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def scenario_file(tmp_path: Path, devices: str = "") -> Path:
    path = tmp_path / "co2.toml"
    path.write_text(
        'name = "co2"\n[devices]\ncapno = "capnostat"\n'
        + (f"[[timeline]]\nat_s = 0\n{devices}\n" if devices else ""),
        encoding="utf-8",
    )
    return path


def test_set_up_on_open_again_after_the_boot_nack_and_after_a_reboot(tmp_path) -> None:
    model = PatientModel(load_scenario(str(scenario_file(tmp_path))), 0)
    with ModuleOnPty(model) as module:
        side = HostOnPort(module.path, module.now)
        side.transport.start()
        try:
            # The port opened: set-up; the module's boot NACK: set-up again; then it streams.
            wait_for(lambda: side.frames > 100)
            assert side.kinds()[:3] == [
                HostEventKind.SET_UP, HostEventKind.REBOOTED, HostEventKind.SET_UP,
            ]  # fmt: skip
            with module.lock:
                written = bytes(module.wrote_from_host)
                assert module.device.streaming
            assert written.startswith(SETUP)
            assert written.count(SETUP) == 2
            assert module.device.settings[cs.Isb.BAROMETRIC_PRESSURE] == cs.split14(760)
            # Mid-session the module restarts: it forgets everything and stops streaming.
            with module.lock:
                module.device.power_on(module.now())
                assert not module.device.streaming
                before = side.frames
            wait_for(lambda: side.kinds().count(HostEventKind.REBOOTED) == 2)
            wait_for(lambda: side.frames > before + 100)
            with module.lock:
                assert bytes(module.wrote_from_host).count(SETUP) == 3
                assert module.device.streaming and module.device.boots == 2
            # The module leaves warm-up; with its settings known, no "compensation not set".
            wait_for(lambda: side.host.status_seen and not side.host.status & F.WARM_UP)
            assert not side.host.status & F.COMPENSATION_NOT_SET
            # The port goes away: the host hears it at once.
            module.unplug()
            wait_for(lambda: LinkState.DOWN in side.links, 5)
            assert not side.host.up
        finally:
            side.transport.close()


def test_a_zero_when_the_module_asks_and_no_breath_is_on_the_adapter(tmp_path) -> None:
    path = scenario_file(tmp_path, "capno_zero_required = true\ncapno_adapter_off = true")
    model = PatientModel(load_scenario(str(path)), 0)
    with ModuleOnPty(model) as module:
        side = HostOnPort(module.path, module.now)
        side.transport.start()
        try:
            wait_for(lambda: HostEventKind.ZERO_STARTED in side.kinds(), 15)
            wait_for(lambda: HostEventKind.ZERO_REPLY in side.kinds())
            with side.lock:
                reply = next(e for e in side.events if e.kind is HostEventKind.ZERO_REPLY)
            assert reply.detail == "started"
            with module.lock:
                assert cs.start_zero() in bytes(module.wrote_from_host)
            # The zero runs, then the request is gone: no second zero goes out.
            wait_for(lambda: bool(side.host.status & F.ZERO_IN_PROGRESS), ZERO_S + 3)
            wait_for(lambda: side.host.status_seen and not side.host.status
                     & (F.ZERO_IN_PROGRESS | F.ZERO_REQUIRED), ZERO_S + 3)  # fmt: skip
            assert side.kinds().count(HostEventKind.ZERO_STARTED) == 1
        finally:
            side.transport.close()


def test_no_zero_while_breaths_are_on_the_adapter() -> None:
    sent: list[bytes] = []
    host = CapnostatHost(lambda b: sent.append(b) or True, SETTINGS)
    host.link_up(0.0)
    sent.clear()
    status = cs.status_bytes(int(F.ZERO_REQUIRED | F.BREATH_OK))
    frames = cs.waveform_frame(0, 30.0, cs.DPI_STATUS, status)
    events = host.take(host.decoder.feed(frames), 1.0)
    assert cs.start_zero() not in sent and not events
    idle = cs.status_bytes(int(F.ZERO_REQUIRED | F.NO_BREATHS))
    events = host.take(host.decoder.feed(cs.waveform_frame(1, 0.0, cs.DPI_STATUS, idle)), 2.0)
    assert sent == [cs.start_zero()] and events[0].kind is HostEventKind.ZERO_STARTED
    # Still asked: not again before the retry time.
    host.take(host.decoder.feed(cs.waveform_frame(2, 0.0, cs.DPI_STATUS, idle)), 3.0)
    assert sent == [cs.start_zero()]


def test_a_silent_stream_is_set_up_again() -> None:
    sent: list[bytes] = []
    host = CapnostatHost(lambda b: sent.append(b) or True, SETTINGS)
    host.link_up(0.0)
    assert host.poll(4.9) == []
    [event] = host.poll(5.0)
    assert event.kind is HostEventKind.SET_UP and b"".join(sent) == SETUP * 2


def test_the_module_rendering_ahead_sends_what_it_sends_second_by_second(monkeypatch) -> None:
    """The virtual module renders 16 s of frames at a time; a command in the middle of
    them (stop, start, a zero, a reset) must give the bytes of one rendered a second at
    a time, however time is stepped."""
    import simulator.capno_device as capno_device

    ahead = capno_device.AHEAD_S
    commands = {
        0.5: b"".join(SETTINGS.setup_commands()),
        21.3: cs.stop_stream(),
        23.7: cs.start_stream(),
        35.2: cs.set_no_breath_timeout(10),  # streaming on: the status changes from here
        58.5: cs.frame(cs.CMD_RESET),
        60.1: b"".join(SETTINGS.setup_commands()),
        66.6: cs.start_zero(),  # the adapter is off (60-120 s): the zero runs
    }

    def stream(step: float, ahead_s: int) -> bytes:
        monkeypatch.setattr(capno_device, "AHEAD_S", ahead_s)
        device = VirtualCapnostat(PatientModel(load_scenario("capno-disconnect")))
        out = bytearray()
        steps = (round(step * i, 6) for i in range(1, int(90 / step)))
        times = sorted({*commands, *steps, 90.0})
        for t in times:
            out += device.generate_until(t)
            if t in commands:
                device.receive(commands[t], t)
        assert device.boots == 2
        return bytes(out)

    reference = stream(1.0, 1)
    assert len(reference) > 50_000
    for step in (0.04, 1.0, 7.3):
        assert stream(step, ahead) == reference, step
