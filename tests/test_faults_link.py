"""The oximeter's link pulled and put back, with the real `vitalmon run --headless` in a
subprocess against a wire the test controls: a pty behind a symlink (a USB serial
adapter: the device file vanishes, and comes back as a NEW pty under the same name)
and a TCP device (`socket://`) that drops and returns. Each: the monitor keeps
running, OXIMETER_COMM_LOST within 2 s of the loss (docs/clinical.md), dashes while there
is no source, the alarm ends when frames return, and the recording holds every
numerics record it printed."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from monitor.recording.store import SessionReader
from tests.faulthelp import HeadlessMonitor, PacedDevice, PtyWire, symlink_to

COMM_LOST_WITHIN_S = 2.0


def is_alarm(alarm_id: str, state: str):
    return lambda r: r["type"] == "alarm" and r["id"] == alarm_id and r["state"] == state


def is_link(state: str):
    return lambda r: r["type"] == "event" and r.get("kind") == "link" and r["state"] == state


def report(name: str, lost: float, down: float, alarm: float, back: float, valid: float, end):
    """The figures docs/reliability.md quotes (shown with `pytest -s`)."""
    print(
        f"\n{name}: link down after {down - lost:.2f} s, OXIMETER_COMM_LOST at "
        f"{alarm - lost:.2f} s; back: valid SpO2 after {valid - back:.2f} s, "
        f"alarm ended at {end - back:.2f} s"
    )


def valid_pr(pr: int):
    return lambda r: r["type"] == "numerics" and r["pr"] == pr and r["spo2_state"] == "valid"


def check_loss_and_return(
    monitor: HeadlessMonitor, lost_at: float, back_at: float, before: int, after: int
) -> None:
    """What the monitor printed between the loss and the return, and after it."""
    gap = monitor.between(lost_at, back_at)
    down = [r for r in gap if r["type"] == "event" and r.get("state") in ("down", "reconnecting")]
    assert down, gap
    after_down = [r for r in gap if r["type"] == "numerics" and r["t"] > down[0]["t"]]
    assert after_down, "numerics go on while the port is gone"
    for r in after_down:  # dashes, never the last number
        assert r["spo2"] is None and r["pr"] is None and r["spo2_state"] == "missing", r
    for r in monitor.all():
        if r["type"] == "numerics":
            assert r["pr"] in (before, after, None), r
    seconds = [r["t"] for r in monitor.all() if r["type"] == "numerics"]
    assert seconds == [float(t) for t in range(1, len(seconds) + 1)]  # no second skipped


def check_recording(path: Path, printed: list[dict]) -> None:
    """Loses nothing already recorded: the file holds every numerics record printed."""
    with SessionReader(path) as reader:
        kept = reader.records("numerics")
        alarm_ids = [(r["id"], r["state"]) for r in reader.records("alarm")]
    shown = [r for r in printed if r["type"] == "numerics"]
    strip = ("wall",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in kept] == [
        {k: v for k, v in r.items() if k not in strip} for r in shown
    ]
    assert ("OXIMETER_COMM_LOST", "onset") in alarm_ids


@pytest.mark.slow
def test_usb_adapter_pulled_and_put_back(tmp_path: Path) -> None:
    link = tmp_path / "ttyUSB0"
    record = tmp_path / "s.vitalmon"
    first = PtyWire()
    symlink_to(link, first.path)
    device = PacedDevice(first.send, "nonin2", pr=71, spo2=97)
    monitor = HeadlessMonitor("--oximeter", f"nonin2:{link}", "--record", str(record))
    second: PtyWire | None = None
    try:
        monitor.wait_for(valid_pr(71), timeout=10)
        # Pull: the device file disappears, and the device with it.
        device.stop()
        link.unlink()
        first.close()
        pulled = time.monotonic()
        down_at, _ = monitor.wait_for(is_link("down"), 5, after=pulled)
        arrived, _ = monitor.wait_for(is_alarm("OXIMETER_COMM_LOST", "onset"), 5, after=pulled)
        assert arrived - pulled <= COMM_LOST_WITHIN_S
        time.sleep(1.5)  # failed reconnects meanwhile; the monitor keeps printing
        assert monitor.alive()
        # Plug back in: the same name, a new pty.
        second = PtyWire()
        symlink_to(link, second.path)
        device = PacedDevice(second.send, "nonin2", pr=88, spo2=97)
        back = time.monotonic()
        valid_at, _ = monitor.wait_for(valid_pr(88), timeout=10, after=back)
        end_at, _ = monitor.wait_for(is_alarm("OXIMETER_COMM_LOST", "end"), 5, after=back)
        report("usb pull", pulled, down_at, arrived, back, valid_at, end_at)
    finally:
        device.stop()
        code = monitor.stop()
        first.close()
        if second is not None:
            second.close()
    assert code == 0, monitor.stderr()
    check_loss_and_return(monitor, pulled, back, 71, 88)
    check_recording(record, monitor.all())


class TcpDevice:
    """An oximeter on a TCP port (a serial server): serves one client; can drop and return."""

    def __init__(self) -> None:
        self._server = self._listen(0)
        self.port = self._server.getsockname()[1]
        self.conn: socket.socket | None = None
        self.device: PacedDevice | None = None

    @staticmethod
    def _listen(port: int) -> socket.socket:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(1)
        server.settimeout(10)
        return server

    def serve(self, pr: int) -> None:
        def accept() -> None:
            self.conn, _ = self._server.accept()
            self.device = PacedDevice(self.conn.sendall, "nonin2", pr=pr, spo2=97)

        threading.Thread(target=accept, daemon=True).start()

    def drop(self) -> None:
        if self.device is not None:
            self.device.stop()
        if self.conn is not None:
            self.conn.close()
        self._server.close()

    def come_back(self, pr: int) -> None:
        self._server = self._listen(self.port)
        self.serve(pr)

    def close(self) -> None:
        self.drop()


@pytest.mark.slow
def test_socket_link_dropped_and_restored(tmp_path: Path) -> None:
    record = tmp_path / "s.vitalmon"
    device = TcpDevice()
    device.serve(61)
    monitor = HeadlessMonitor(
        "--oximeter", f"nonin2:socket://127.0.0.1:{device.port}", "--record", str(record)
    )
    try:
        monitor.wait_for(valid_pr(61), timeout=10)
        device.drop()
        dropped = time.monotonic()
        down_at, _ = monitor.wait_for(is_link("down"), 5, after=dropped)
        arrived, _ = monitor.wait_for(is_alarm("OXIMETER_COMM_LOST", "onset"), 5, after=dropped)
        assert arrived - dropped <= COMM_LOST_WITHIN_S
        time.sleep(1.0)
        assert monitor.alive()
        device.come_back(62)
        back = time.monotonic()
        valid_at, _ = monitor.wait_for(valid_pr(62), timeout=10, after=back)
        end_at, _ = monitor.wait_for(is_alarm("OXIMETER_COMM_LOST", "end"), 5, after=back)
        report("socket drop", dropped, down_at, arrived, back, valid_at, end_at)
    finally:
        code = monitor.stop()
        device.close()
    assert code == 0, monitor.stderr()
    check_loss_and_return(monitor, dropped, back, 61, 62)
    check_recording(record, monitor.all())
