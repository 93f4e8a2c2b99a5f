"""The screen's part of issue 15: "RR not monitored" where no breathing source is
configured (dashes would read as a dropout), the rule tested without a window too."""

from __future__ import annotations

import os

from monitor.numerics import NumericReading, ValueState
from monitor.present.display import DASHES, RR_NOT_MONITORED, rr_tile
from tests.gui_helpers import Bedside


def test_rr_tile_rule() -> None:
    missing = NumericReading(None, ValueState.MISSING)
    assert rr_tile(False, missing) == (rr_tile(False, missing)[0], RR_NOT_MONITORED)
    assert rr_tile(False, missing)[0].text == ""
    assert rr_tile(True, missing)[0].text == DASHES and rr_tile(True, missing)[1] == ""
    assert rr_tile(True, NumericReading(14.0, ValueState.VALID))[0].text == "14"


def test_window_says_rr_not_monitored_without_a_breathing_source(qtbot, tmp_path) -> None:
    path = tmp_path / "no-resp.toml"
    path.write_text('name = "no-resp"\ndescription = "x"\n[devices]\nresp = false\ncapno = false\n')
    bedside = Bedside(str(path))
    bedside.run_to(10)
    window = bedside.window(qtbot)
    assert window.rr_tile.isVisible()
    assert window.rr_tile.note.text() == "RR not monitored"
    assert window.rr_tile.value.text() == ""
    assert window.rr_tile.limits.text() == ""  # no limits shown for what is not watched
    shots = os.environ.get("VITALMON_SHOTS")
    if shots:
        window.grab().save(os.path.join(shots, "rr-not-monitored.png"))


def test_window_with_respiration_shows_the_rate(qtbot, tmp_path) -> None:
    path = tmp_path / "resp-only.toml"  # a respiration stream and no CO2 module
    path.write_text('name = "resp-only"\ndescription = "x"\n[devices]\ncapno = false\n')
    bedside = Bedside(str(path))
    bedside.run_to(20)
    window = bedside.window(qtbot)
    assert window.rr_tile.note.text() == ""
    assert window.rr_tile.value.text().isdigit()


def _choose_sign_off(window):
    from monitor.present.actions import EVENT_CHOICES

    window.do_mark_event()
    events = window.dialog
    events.choose(next(c for c in EVENT_CHOICES if c.kind == "sign_off"))
    return events.checklist


def test_discharge_checklist_before_sign_off(qtbot) -> None:
    bed = Bedside("steady")
    bed.run_to(5)
    bed.pipeline.commands.submit("mark_event", kind="infusion_start")
    bed.run_to(30)
    bed.pipeline.commands.submit("mark_event", kind="infusion_stop")
    bed.pipeline.commands.submit("mark_event", kind="aldrete", score=9)
    bed.run_to(60)
    window = bed.window(qtbot)
    checklist = _choose_sign_off(window)
    assert checklist is not None and checklist.isVisible()
    shown = [(m.text(), lab.text(), v.text()) for m, lab, _, v in checklist.rows]
    assert shown == [
        ("\u2713", "Modified Aldrete score >= 9", "met"),
        ("?", "Systolic and diastolic within 20 % of baseline", "cannot assess"),
        ("\u2713", "SpO2 >= 92 %", "met"),
        ("\u2717", "At least 60 min of recovery", "NOT met"),
    ]
    assert "needs a reason" in checklist.summary.text() and checklist.reason.isVisible()
    shots = os.environ.get("VITALMON_SHOTS")
    if shots:
        checklist.grab().save(os.path.join(shots, "discharge-checklist.png"))
    checklist.sign.click()  # no reason: not sent
    assert "reason" in checklist.problem.text()
    bed.step()
    assert not [r for r in bed.records if r.get("kind") == "sign_off"]
    checklist.by.setText("RN Lee")
    checklist.reason.setText("transfer to the ward")
    checklist.sign.click()
    bed.step()
    (signed,) = [r for r in bed.records if r.get("kind") == "sign_off"]
    assert (signed["by"], signed["override_reason"]) == ("RN Lee", "transfer to the ward")
    assert bed.pipeline.session.phase == "signed-off"
