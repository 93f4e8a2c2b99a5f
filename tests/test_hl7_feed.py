"""`vitalmon run --hl7 mllp://...`: the live feed to a hospital, against real TCP
listeners written here (tests/mllp_receiver.py): one that accepts, one that answers AE
and AR, one that goes away and comes back, one that never answers."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time

import pytest

from monitor.hl7.mllp import FrameReader, parse_ack
from tests.conftest import REPO, json_lines, run_vitalmon, vitalmon_cmd
from tests.faulthelp import HeadlessMonitor
from tests.mllp_receiver import MllpReceiver, control_id
from tests.recording_helpers import DATA

IHE_PCD_001 = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"


@pytest.fixture
def receiver():
    made: list[MllpReceiver] = []

    def make(answer=lambda _m: "AA") -> MllpReceiver:
        made.append(MllpReceiver(answer).start())
        return made[-1]

    yield make
    for r in made:
        r.stop()


def _exported(path, tmp_path) -> list[str]:
    out = tmp_path / "s.hl7"
    result = run_vitalmon("export", str(path), "--format", "hl7", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    return [f.decode() for f in data[1:-2].split(b"\x1c\r\x0b")]


def _hl7_records(records: list[dict]) -> list[dict]:
    return [r for r in records if r["type"] == "error" and r.get("command") == "hl7"]


def _link_lost(records: list[dict]) -> list[str]:
    return [r["state"] for r in records if r["type"] == "alarm" and r["id"] == "HL7_LINK_LOST"]


def test_every_message_arrives_as_the_export_writes_it(receiver, tmp_path) -> None:
    """An accepting receiver gets every message, in order, once: the very messages
    `vitalmon export --format hl7` writes of the same session's recording."""
    from hl7apy.parser import parse_message

    engine = receiver()
    path = tmp_path / "s.vitalmon"
    out = run_vitalmon(
        "run", "--sim", str(DATA / "rec_report.toml"), "--seed", "3", "--speed", "max",
        "--duration", "900", "--headless", "--record", str(path), "--hl7", engine.url(),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "HL7" not in out.stderr
    records = json_lines(out.stdout)
    assert not _hl7_records(records) and not _link_lost(records)
    assert not engine.problems
    assert engine.accepted == engine.received == _exported(path, tmp_path)
    codes = set()
    for text in engine.accepted:
        m = parse_message(text)
        assert m.msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
        assert m.msh.msh_21.to_er7() == IHE_PCD_001
        result = m.oru_r01_patient_result
        assert result.oru_r01_patient.pid.pid_3.to_er7() == "P-0042^^^^MR"  # the session's
        group = result.oru_r01_order_observation
        assert group.obr.obr_4.to_er7() == "182777000^monitoring of patient^SCT"
        codes |= {o.obx.obx_3.obx_3_1.to_er7() for o in group.oru_r01_observation}
    # the rate from the CO2 module (151594), with EtCO2 (151728) and FiCO2 (151736)
    assert {"150456", "149530", "151594", "151728", "151736"} <= codes
    assert {"150021", "150022", "150023", "149546"} <= codes  # NIBP
    ids = [control_id(t) for t in engine.accepted]
    assert [int(i[-6:]) for i in ids] == list(range(1, len(ids) + 1))


@pytest.mark.slow
def test_the_window_sends_the_same_feed(receiver, tmp_path) -> None:
    """`vitalmon run` with its window (offscreen) shares the code path: the same
    messages as the export of its recording, the last minute sent at the stop."""
    engine = receiver()
    path = tmp_path / "gui.vitalmon"
    proc = subprocess.Popen(
        vitalmon_cmd("run", "--sim", "steady", "--speed", "30", "--record", str(path),
                     "--hl7", engine.url()),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    try:
        engine.wait_for(lambda r: len(r.accepted) >= 2, 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert "HL7" not in (proc.stderr.read() if proc.stderr else "")
    assert engine.accepted == engine.received == _exported(path, tmp_path)
    assert len(engine.accepted) >= 3 and not engine.problems


def test_ae_is_sent_again_then_dropped_and_ar_dropped_at_once(receiver) -> None:
    """AE: the same message again (3 attempts in all), then dropped; AR: dropped at once;
    each answer an error record. The messages after them go on, in order."""

    def answer(message: str) -> str:
        n = int(control_id(message)[-6:])
        return {1: "AE", 2: "AR"}.get(n, "AA")

    engine = receiver(answer)
    out = run_vitalmon(
        "run", "--sim", "steady", "--speed", "20", "--duration", "200", "--headless",
        "--hl7", engine.url(),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    received = [int(i[-6:]) for i in engine.ids("received")]
    assert received[:4] == [1, 1, 1, 2] and received[4:] == list(range(3, len(received) - 1))
    assert len(received) >= 6, received  # the minutes after them (and NIBP readings) went on
    assert [int(i[-6:]) for i in engine.ids()] == received[4:]
    said = [r["message"] for r in _hl7_records(json_lines(out.stdout))]
    ae = [s for s in said if "000001 not accepted (AE: test says AE)" in s]
    assert len(ae) == 3 and "sent again" in ae[0] and "3 times: dropped" in ae[-1], said
    assert any("000002 rejected (AR: test says AR): dropped, not sent again" in s for s in said)
    assert not engine.problems


@pytest.mark.slow
def test_receiver_away_then_back_loses_nothing(receiver) -> None:
    """The receiver goes away between two messages and comes back on the same port:
    HL7_LINK_LOST while it is away, ended when delivery resumes; what waited arrives
    in order, nothing lost, nothing twice."""
    engine = receiver()
    monitor = HeadlessMonitor("--sim", "steady", "--speed", "20", "--hl7", engine.url())
    try:
        engine.wait_for(lambda r: len(r.accepted) >= 1, 15)
        away = time.monotonic()
        engine.stop()
        lost, _ = monitor.wait_for(
            lambda r: r.get("id") == "HL7_LINK_LOST" and r["state"] == "onset", 15
        )
        waited = len(engine.accepted)
        monitor.wait_for(lambda r: r["type"] == "numerics" and r["t"] >= 60 * (waited + 2), 30)
        back = time.monotonic()
        engine.start()  # the same port
        ended, _ = monitor.wait_for(
            lambda r: r.get("id") == "HL7_LINK_LOST" and r["state"] == "end", 30
        )
        print(f"\nHL7_LINK_LOST {lost - away:.2f} s after the receiver went away, "
              f"ended {ended - back:.2f} s after it came back")  # fmt: skip
        engine.wait_for(lambda r: len(r.accepted) >= waited + 4, 40)
    finally:
        assert monitor.stop() == 0
    records = monitor.all()
    assert _link_lost(records) == ["onset", "end"]
    assert any("cannot deliver" in r["message"] for r in _hl7_records(records))
    ids = [int(i[-6:]) for i in engine.ids("received")]
    assert ids == list(range(1, len(ids) + 1)), ids  # in order, none lost, none twice
    assert engine.ids("received") == engine.ids()
    every_minute = [m for m in engine.accepted if "|150021^" not in m]  # not NIBP readings
    minutes = [int(m.split("\r")[0].split("|")[6][10:12]) for m in every_minute]
    assert all((b - a) % 60 == 1 for a, b in itertools.pairwise(minutes)), minutes
    assert not engine.problems


@pytest.mark.slow
def test_an_hour_is_kept_and_the_oldest_dropped_beyond_it(receiver) -> None:
    """The receiver away for over an hour of data: the oldest messages are dropped, each
    said in an error record, and the last hour arrives in order when it returns."""
    engine = receiver()
    engine.stop()  # away from the start; the port is known
    monitor = HeadlessMonitor(
        "--sim", "steady", "--speed", "200", "--duration", "5400", "--hl7", engine.url()
    )
    try:
        monitor.wait_for(lambda r: "dropped: undelivered for over 1 h" in str(r), 90)
        engine.start()  # the same port
        assert monitor.proc.wait(90) == 0
    finally:
        monitor.stop()
    # Said as error records while the run goes on, on stderr once it is ending.
    said = [r["message"] for r in _hl7_records(monitor.all())] + monitor.stderr().splitlines()
    dropped = [int(m.split("message ")[1][8:14]) for m in said if "dropped: undelivered" in m]
    assert dropped == list(range(1, len(dropped) + 1)), said
    received = [int(i[-6:]) for i in engine.ids("received")]
    assert received == list(range(len(dropped) + 1, len(dropped) + 1 + len(received))), said
    assert engine.ids() == engine.ids("received") and not engine.problems
    assert len(received) >= 61  # what waited (an hour: 61 minutes' messages) and after
    assert _link_lost(monitor.all()) == ["onset", "end"]


def test_a_receiver_that_never_answers_is_timed_out_and_sent_again(receiver) -> None:
    """No ACK within the URL's timeout: the connection is dropped and the same message
    (same MSH-10) sent again on a new one."""
    answered: set[str] = set()

    def answer(message: str) -> str | None:
        cid = control_id(message)
        if cid in answered:
            return "AA"
        answered.add(cid)
        return None if cid.endswith("000001") else "AA"

    engine = receiver(answer)
    out = run_vitalmon(
        "run", "--sim", "steady", "--speed", "20", "--duration", "130", "--headless",
        "--hl7", engine.url(timeout=1),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    received = [int(i[-6:]) for i in engine.ids("received")]
    assert received[:2] == [1, 1] and received[1:] == list(range(1, len(received)))
    assert [int(i[-6:]) for i in engine.ids()] == received[1:]
    said = [r["message"] for r in _hl7_records(json_lines(out.stdout))]
    assert any("no ACK within 1 s" in s for s in said), said


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:2575", "must start mllp://"),
        ("mllp://127.0.0.1", "no port"),
        ("mllp://127.0.0.1:2575?timeout=0", "timeout must be"),
    ],
)
def test_a_bad_url_is_one_line(url: str, needle: str) -> None:
    out = run_vitalmon("run", "--headless", "--duration", "1", "--hl7", url, timeout=30)
    assert out.returncode == 1
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and not out.stdout


def test_frames_and_acks_are_read_tolerantly() -> None:
    reader = FrameReader()
    assert reader.feed(b"junk\x0bMSH|^~\\&|E||||||ACK|1|P|2.6\rMS") == []
    [ack_text] = reader.feed(b"A|AE|c1|busy\r\x1c\r\x0bMSH#^~\\&#E\rMSA#AA#c2\r\x1c")
    ack = parse_ack(ack_text)
    assert ack is not None and (ack.code, ack.control_id, ack.text) == ("AE", "c1", "busy")
    [other] = reader.feed(b"\r")
    assert parse_ack(other) == parse_ack("MSH#^~\\&#E\rMSA#AA#c2\r")
    assert parse_ack("MSH|x\rPID|1\r") is None and parse_ack("") is None
