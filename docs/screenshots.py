"""Render the README's screenshots from the simulator, so they always show the real screen.

Each shot runs a scenario through the real pipeline (flat out, in fine steps so the
sweeps are whole), with the nurse's commands scheduled in data time, then grabs the
window offscreen. Usage: python docs/screenshots.py [limits]  (writes docs/*.png; with
`limits`, only the limits dialog and the alarm-off screen)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TZ", "UTC")

from monitor.pipeline import AcquisitionPipeline, PipelineRunner  # noqa: E402
from monitor.sources import SimulatorSource  # noqa: E402
from monitor.ui.app import make_app  # noqa: E402
from monitor.ui.main_window import MonitorWindow  # noqa: E402
from monitor.ui.sound import SilentSink  # noqa: E402
from monitor.ui.trends_window import TrendsWindow  # noqa: E402
from simulator.devices import SimulatedBedside  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

SIZE = (1366, 768)
WALL_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # fixed clock: the same images every run
FINE_STEP_S = 0.04  # the step a live run uses: whole sweeps, no gaps between chunks

Schedule = list[tuple[float, str, dict[str, object]]]

SETUP: Schedule = [
    (
        1,
        "session_setup",
        {"patient_id": "KT-0412", "weight_kg": 72, "planned_dose_mg_per_kg_h": 0.5},
    ),
    (2, "nibp_interval", {"minutes": 5}),
]


def run(
    scenario: str, seconds: float, schedule: Schedule, numerics: dict | None = None
) -> AcquisitionPipeline:
    """`numerics`, if given, ends up holding the last numerics record (what a live window
    would have seen)."""
    source = SimulatorSource(SimulatedBedside(load_scenario(scenario)), speed=None)
    source.step_s = FINE_STEP_S
    pipeline = AcquisitionPipeline(source.protocols, wall_start=WALL_START)
    if numerics is not None:
        pipeline.subscribe(lambda r: numerics.update(r) if r["type"] == "numerics" else None)
    for at, name, args in schedule:
        pipeline.commands.schedule(at, name, **args)
    PipelineRunner(source, pipeline, duration_s=seconds).run()
    return pipeline


def grab_window(pipeline: AcquisitionPipeline, out: Path, flash_lit: bool = True) -> None:
    app = make_app()
    clock: Callable[[], float] = (lambda: 0.1) if flash_lit else (lambda: 0.4)
    window = MonitorWindow(pipeline, sink=SilentSink(), clock=clock)
    window.timer.stop()
    window.resize(*SIZE)
    window.show()
    for _ in range(3):
        window._slow_due = 0.0
        window.refresh()
        app.processEvents()
    window.grab().save(str(out))
    window.close()
    print(f"wrote {out}")


def grab_limits() -> None:
    """The nurse's limits dialog, and the screen with SpO2 low switched off."""
    last: dict = {}
    pipeline = run(
        "steady",
        90,
        [*SETUP, (60, "set_limit", {"alarm_id": "SPO2_LOW", "enabled": False})],
        last,
    )
    grab_window(pipeline, DOCS / "screen-alarm-off.png")
    app = make_app()
    window = MonitorWindow(pipeline, sink=SilentSink(), clock=lambda: 0.1)
    window.timer.stop()
    window.last_numerics = last
    window.refresh()
    window.do_limits()
    dialog = window.dialog
    assert dialog is not None
    dialog.resize(1180, 1480)  # tall enough for every group in one image
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(DOCS / "screen-limits.png"))
    print(f"wrote {DOCS / 'screen-limits.png'}")
    dialog.close()
    window.close()


def main() -> None:
    grab_limits()
    if sys.argv[1:] == ["limits"]:
        return
    steady = run(
        "steady",
        14 * 60 + 20,
        [
            *SETUP,
            (300, "set_phase", {"phase": "infusion"}),
            (301, "mark_event", {"kind": "infusion_start", "dose_mg_per_kg_h": 0.5}),
        ],
    )
    grab_window(steady, DOCS / "screen-steady.png")

    alarm = run("desaturation", 80, SETUP)
    grab_window(alarm, DOCS / "screen-alarm.png")

    capno = run("hypoventilation", 170, SETUP)
    grab_window(capno, DOCS / "screen-capno.png")

    session = run(
        "infusion",
        40 * 60,
        [
            *SETUP,
            (660, "mark_event", {"kind": "infusion_start", "dose_mg_per_kg_h": 0.5}),
            (1500, "mark_event", {"kind": "rate_change", "dose_mg_per_kg_h": 0.8}),
            (1900, "mark_event", {"kind": "adverse_effect", "effect": "nausea"}),
        ],
    )
    app = make_app()
    trends = TrendsWindow(session)
    trends.timer.stop()
    trends.resize(*SIZE)
    trends.show()
    trends.refresh()
    app.processEvents()
    trends.grab().save(str(DOCS / "trends.png"))
    print(f"wrote {DOCS / 'trends.png'}")
    trends.close()


if __name__ == "__main__":
    main()
