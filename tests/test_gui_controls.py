"""Every control of the window drives the agreed command: clicked, or by its shortcut,
applied by the real pipeline and seen in the command records it emits."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QMenu

from monitor.present.actions import EVENT_CHOICES
from monitor.ui.dialogs import EventDialog, LimitsDialog, SessionSetupDialog
from tests.gui_helpers import Bedside


@pytest.fixture
def bedside() -> Bedside:
    bed = Bedside("steady")
    bed.run_to(20)
    return bed


@pytest.mark.parametrize(
    ("button", "command"),
    [
        ("acknowledge", "acknowledge"),
        ("pause_audio", "pause_audio"),
        ("nibp_start_stop", "nibp_start"),
        ("nibp_stat", "nibp_stat"),
    ],
)
def test_soft_key_sends_its_command(qtbot, bedside, button, command) -> None:
    window = bedside.window(qtbot)
    qtbot.mouseClick(window.buttons[button], Qt.MouseButton.LeftButton)
    bedside.step()
    assert bedside.commands()[-1][0] == command


def test_function_keys_drive_the_same_commands(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    with qtbot.waitActive(window):
        window.activateWindow()
    for key in (Qt.Key.Key_F1, Qt.Key.Key_F2, Qt.Key.Key_F5):
        # through the window system, as a real key press goes, so shortcuts apply
        QTest.keyClick(window.windowHandle(), key)
    bedside.step()
    assert [name for name, _ in bedside.commands()] == ["acknowledge", "pause_audio", "nibp_stat"]


def test_nibp_key_stops_a_running_measurement(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    window.do_nibp_start_stop()
    bedside.step()
    bedside.run_to(bedside.pipeline.t + 3)  # the cuff is inflating now
    assert bedside.pipeline.channels["nibp"].status.value == "inflating"
    window.do_nibp_start_stop()
    bedside.step()
    assert [n for n, _ in bedside.commands()] == ["nibp_start", "nibp_stop"]


def _menu_action(window, text: str):
    menu = window.dialog
    assert isinstance(menu, QMenu)
    return next(a for a in menu.actions() if a.text() == text)


def test_interval_menu_and_program(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    window.do_nibp_interval()
    _menu_action(window, "Every 5 min").trigger()
    window.do_nibp_interval()
    _menu_action(window, "Off (manual)").trigger()
    window.do_nibp_interval()
    _menu_action(window, "Infusion program").trigger()
    bedside.step()
    assert bedside.commands() == [
        ("nibp_interval", {"minutes": 5}),
        ("nibp_interval", {"minutes": None}),
        ("nibp_program", {"on": True}),
    ]
    assert bedside.pipeline.channels["nibp"].mode == "program"


def test_phase_menu_moves_the_session(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    window.do_phase()
    _menu_action(window, "Infusion").trigger()
    bedside.step()
    assert bedside.commands() == [
        ("set_phase", {"phase": "infusion"}),
        ("nibp_program", {"on": True, "cause": "infusion_start"}),  # starts with the infusion
    ]
    assert bedside.pipeline.session.phase == "infusion"
    window.refresh()
    window._slow_due = 0
    window.refresh()
    assert window.phase_label.text().startswith("Infusion 0:00:0")


def test_event_panel_one_tap_and_valued_events(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    window.do_mark_event()
    dialog = window.dialog
    assert isinstance(dialog, EventDialog)
    qtbot.mouseClick(dialog.buttons["Nausea"], Qt.MouseButton.LeftButton)
    rate = next(c for c in EVENT_CHOICES if c.kind == "rate_change")
    EventDialog(window.send).choose(rate, 0.8)
    note = next(c for c in EVENT_CHOICES if c.kind == "note")
    EventDialog(window.send).choose(note, "drowsy, rousable")
    bedside.step()
    assert bedside.commands() == [
        ("mark_event", {"kind": "adverse_effect", "effect": "nausea"}),
        ("mark_event", {"kind": "rate_change", "dose_mg_per_kg_h": 0.8}),
        ("mark_event", {"kind": "note", "text": "drowsy, rousable"}),
    ]
    kinds = [e["kind"] for e in bedside.pipeline.session.events]
    assert kinds[-3:] == ["adverse_effect", "rate_change", "note"]


def test_limits_dialog_sends_only_changes_and_restores_the_preset(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    window.do_limits()
    dialog = window.dialog
    assert isinstance(dialog, LimitsDialog)
    assert sum(len(g.rows) for g in dialog.groups) == len(bedside.pipeline.alarms.limits())
    dialog.thresholds["PR_HIGH"].setValue(130)
    dialog.delays["PR_HIGH"].setValue(20)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    bedside.step()
    assert bedside.commands() == [
        ("set_limit", {"alarm_id": "PR_HIGH", "threshold": 130.0, "delay_s": 20.0})
    ]
    assert bedside.pipeline.alarms.limits()["PR_HIGH"].threshold == 130
    window.do_limits()
    qtbot.mouseClick(window.dialog.restore_button, Qt.MouseButton.LeftButton)
    bedside.step()
    assert bedside.commands()[-1] == ("restore_preset", {})
    assert bedside.pipeline.alarms.limits()["PR_HIGH"].threshold == 120


def test_session_setup_dialog(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    window.do_setup()
    dialog = window.dialog
    assert isinstance(dialog, SessionSetupDialog)
    dialog.submit()  # nothing filled in: refused in words, nothing sent
    assert "needed" in dialog.problem.text()
    qtbot.keyClicks(dialog.patient_id, "A-1234")
    dialog.weight.setValue(72)
    dialog.dose.setValue(0.5)
    dialog.submit()
    bedside.step()
    assert bedside.commands() == [
        (
            "session_setup",
            {"patient_id": "A-1234", "weight_kg": 72.0, "planned_dose_mg_per_kg_h": 0.5},
        )
    ]
    window._slow_due = 0
    window.refresh()
    assert window.patient_label.text() == "Patient A-1234 · 72 kg"


def test_full_screen_key_toggles(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    window.do_fullscreen()
    assert window.isFullScreen()
    window.leave_fullscreen()
    assert not window.isFullScreen()


def test_a_refused_command_is_shown_not_swallowed(qtbot, bedside) -> None:
    window = bedside.window(qtbot)
    assert not window.send("no_such_command")
    window._slow_due = 0
    window.refresh()
    assert "unknown command" in window.statusBar().currentMessage()
