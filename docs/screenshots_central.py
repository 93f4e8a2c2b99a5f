"""Render the central station's screenshots from real bedsides through a real broker.

Starts a Mosquitto (the tests' own, tests/mqtt_broker.py), nine simulated bedsides
(`vitalmon run --sim ... --headless --publish ...`, several scenarios and speeds so
their alarms come within seconds; one killed to show NO DATA), the central window
offscreen, and grabs it and one chair's detail. Usage: python docs/screenshots_central.py
(writes docs/screen-central.png and docs/screen-central-detail.png; about a minute).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from monitor.net.broker import parse_broker_url  # noqa: E402
from monitor.net.central import CentralModel  # noqa: E402
from monitor.net.subscriber import CentralSubscriber  # noqa: E402
from monitor.ui.app import make_app  # noqa: E402
from monitor.ui.central_window import CentralWindow  # noqa: E402
from monitor.ui.sound import SilentSink  # noqa: E402
from tests.mqtt_broker import USERS, MosquittoBroker  # noqa: E402

SIZE = (1600, 900)
WAIT_S = 50.0
# chair, scenario, speed, patient, phase
CHAIRS = [
    ("chair1", "steady", 2, "KT-0412", "infusion"),
    ("chair2", "desaturation", 8, "KT-0388", "infusion"),
    ("chair3", "tachycardia", 4, "KT-0415", "infusion"),
    ("chair4", "hypoventilation", 6, "KT-0391", "infusion"),
    ("chair5", "probe-off", 3, "KT-0402", "recovery"),
    ("chair6", "steady", 2, "KT-0377", "recovery"),  # killed: NO DATA
    ("chair7", "steady", 2, "KT-0409", "pre-infusion"),
    ("chair8", "bradycardia", 2, "KT-0420", "infusion"),
    ("chair9", "hypertension", 5, None, None),
]


def commands(where: Path, chair: str, patient: str | None, phase: str | None) -> Path:
    lines = []
    if patient:
        lines.append({"cmd": "session_setup", "patient_id": patient, "weight_kg": 70, "at": 0.5})
    if phase and phase != "pre-infusion":
        lines.append({"cmd": "set_phase", "phase": "infusion", "at": 2})
    if phase == "recovery":
        lines.append({"cmd": "set_phase", "phase": "recovery", "at": 3})
    path = where / f"{chair}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def main() -> None:
    where = Path(tempfile.mkdtemp(prefix="vitalmon-central-shots-"))
    broker = MosquittoBroker(where)
    broker.start()
    env = {**os.environ, "VITALMON_MQTT_PASSWORD": USERS["bedside"]}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    app = make_app()
    link = CentralSubscriber(
        CentralModel("clinic1", time.monotonic()),
        parse_broker_url(broker.url("central", "clinic1")),
        USERS["central"],
    )
    window = CentralWindow(link, sink=SilentSink(), clock=lambda: 0.1)  # flash: bright phase
    try:
        link.start()
        for chair, scenario, speed, patient, phase in CHAIRS:
            script = commands(where, chair, patient, phase)
            cmd = [sys.executable, "-m", "monitor", "run", "--sim", scenario, "--speed",
                   str(speed), "--headless", "--publish", broker.url("bedside", "clinic1"),
                   "--chair", chair, "--nibp-interval", "5", "--commands", str(script)]  # fmt: skip
            procs[chair] = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        window.resize(*SIZE)
        window.show()
        start = time.monotonic()
        while time.monotonic() - start < WAIT_S:
            if time.monotonic() - start > WAIT_S - 8 and procs["chair6"].poll() is None:
                procs["chair6"].kill()
            app.processEvents()
            time.sleep(0.03)
        for _ in range(3):
            window.refresh()
            app.processEvents()
        out = DOCS / "screen-central.png"
        window.grab().save(str(out))
        print(f"wrote {out}")
        window.open_detail("chair4")
        detail = window.detail
        assert detail is not None
        detail.resize(1200, 900)
        for _ in range(40):
            window.refresh()
            app.processEvents()
            time.sleep(0.03)
        out = DOCS / "screen-central-detail.png"
        detail.grab().save(str(out))
        print(f"wrote {out}")
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait()
        link.stop()
        broker.stop()


if __name__ == "__main__":
    main()
