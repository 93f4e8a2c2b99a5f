"""The limits dialog's controls are bounded by the preset's ranges; the crossed bell on the
tile and the count on the status strip show an alarm switched off (pytest-qt, real pipeline)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt

from monitor.present.limits_view import TECHNICAL_HEADING
from monitor.ui.dialogs import LimitsDialog
from tests.gui_helpers import Bedside


@pytest.fixture
def bedside() -> Bedside:
    bed = Bedside("steady")
    bed.run_to(20)
    return bed


def open_limits(qtbot, bedside: Bedside) -> tuple[object, LimitsDialog]:
    window = bedside.window(qtbot)
    window.do_limits()
    dialog = window.dialog
    assert isinstance(dialog, LimitsDialog)
    return window, dialog


def test_controls_are_bounded_by_the_ranges_and_critical_ones_have_no_off_switch(
    qtbot, bedside
) -> None:
    _, dialog = open_limits(qtbot, bedside)
    preset = bedside.pipeline.alarms.preset
    for alarm_id, box in dialog.thresholds.items():
        rng = preset.alarms[alarm_id].setting
        assert (box.minimum(), box.maximum()) == (rng.low, rng.high), alarm_id
    box = dialog.thresholds["SPO2_LOW_CRITICAL"]
    box.setValue(0)  # typed or spun below: held at the range's end
    assert box.value() == 80
    assert dialog.delays["PR_LOW_CRITICAL"].maximum() == 10
    assert dialog.delays["PR_LOW"].maximum() == 30
    apnea = dialog.apneas["RR_LOW_CRITICAL"]
    assert (apnea.minimum(), apnea.maximum()) == (15, 30)
    switchable = {i for i, s in preset.alarms.items() if s.setting and s.setting.may_switch_off}
    assert set(dialog.enabled) == switchable
    assert "SPO2_LOW_CRITICAL" not in dialog.enabled and "OXIMETER_COMM_LOST" not in dialog.enabled
    assert dialog.headings[0] == "SpO₂" and dialog.headings[-1] == TECHNICAL_HEADING
    assert "SPO2_LOW" in dialog.names["SPO2_LOW"].text()  # the id, in small type
    assert "SpO2 low" in dialog.names["SPO2_LOW"].text()


def test_a_refusal_is_explained_and_nothing_is_sent(qtbot, bedside) -> None:
    _, dialog = open_limits(qtbot, bedside)
    dialog.thresholds["SPO2_LOW"].setValue(85)  # onto the critical limit (85)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    bedside.step()
    assert "must stay below SpO2 low (SPO2_LOW)" in dialog.problem.text()
    assert dialog.isVisible()
    assert [c for c in bedside.commands() if c[0] == "set_limit"] == []


def test_switching_an_alarm_off_shows_the_crossed_bell_and_the_count(qtbot, bedside) -> None:
    window, dialog = open_limits(qtbot, bedside)
    assert not window.spo2_tile.off_icon.isVisibleTo(window)
    assert window.alarms_off_label.text() == ""
    dialog.enabled["SPO2_LOW"].setChecked(False)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    bedside.step()
    assert bedside.commands()[-1] == ("set_limit", {"alarm_id": "SPO2_LOW", "enabled": False})
    window._slow_due = 0.0
    window.refresh()
    assert window.spo2_tile.off_icon.isVisibleTo(window)
    assert window.spo2_tile.off_icon.icon == "alarm_off"
    assert "SpO2 low" in window.spo2_tile.off_icon.toolTip()
    assert not window.pr_tile.off_icon.isVisibleTo(window)
    assert window.alarms_off_label.text() == "1 alarm off"
    assert window.spo2_tile.limits.text() == "▼off ▼▼85"
    bedside.pipeline.commands.submit("set_limit", alarm_id="SPO2_LOW", enabled=True)
    bedside.step()
    window._slow_due = 0.0
    window.refresh()
    assert not window.spo2_tile.off_icon.isVisibleTo(window)
    assert window.alarms_off_label.text() == ""
