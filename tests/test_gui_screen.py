"""What the screen shows: alarm colours on the bar and tiles, stale then dashed values,
the sound path, the trend view, and fonts that scale with the window."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor

from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.numerics import ValueState
from monitor.ui import theme
from monitor.ui.sound import FailedSink, SilentSink
from monitor.ui.trends_window import TrendsWindow
from tests.gui_helpers import Bedside, Clock

VISUAL = load_alarm_signals().visual


def _fill(widget) -> str:
    """The colour actually painted inside the widget's frame (rendered, not a property)."""
    image = widget.grab().toImage()
    return QColor(image.pixel(6, image.height() // 2)).name()


def test_high_alarm_turns_bar_and_its_tile_red_and_flashes(qtbot) -> None:
    bed = Bedside("desaturation")
    bed.run_to(75)
    clock = Clock(0.1)  # the bright phase of the flash
    window = bed.window(qtbot, clock=clock)
    top = bed.pipeline.alarms.display_state().alarms[0]
    assert top.id == "SPO2_LOW_CRITICAL"
    red = VISUAL["high"].colour
    assert _fill(window.alarm_bar) == red and _fill(window.spo2_tile) == red
    assert window.alarm_bar.message.text() == top.message
    assert _fill(window.pr_tile) == QColor(theme.PANEL).name()  # not its alarm
    clock.now = 0.4  # 2 Hz, 50 %: the dark phase
    window.refresh()
    assert _fill(window.alarm_bar) == QColor(theme.PANEL).name()
    assert _fill(window.spo2_tile) == QColor(theme.PANEL).name()


def test_medium_alarm_is_yellow_on_its_tile(qtbot) -> None:
    bed = Bedside("tachycardia")
    bed.run_to(70)
    window = bed.window(qtbot)
    ids = [a.id for a in bed.pipeline.alarms.display_state().alarms]
    assert ids[0] == "PR_HIGH"
    yellow = VISUAL["medium"].colour
    assert _fill(window.pr_tile) == yellow and _fill(window.alarm_bar) == yellow
    assert _fill(window.spo2_tile) == QColor(theme.PANEL).name()
    qtbot.mouseClick(window.alarm_bar, Qt.MouseButton.LeftButton)  # the list of them all
    lines = [a.text() for a in window.dialog.actions()]
    assert len(lines) == len(ids) and lines[0].startswith("MEDIUM")


def test_acknowledge_and_pause_show_on_the_bar(qtbot) -> None:
    bed = Bedside("tachycardia")
    bed.run_to(70)
    window = bed.window(qtbot)
    window.do_pause_audio()
    bed.step()
    bed.run_to(bed.pipeline.t + 5)
    window.refresh()
    assert window.alarm_bar.icon.icon == "audio_paused"
    assert window.alarm_bar.inactivation.text().startswith("Audio paused 1:5")
    assert window.buttons["pause_audio"].text().startswith("Pause audio\n1:5")


def test_stale_value_greys_then_dashes(qtbot) -> None:
    bed = Bedside("probe-off")  # finger out at 20 s
    bed.run_to(18)
    window = bed.window(qtbot)
    assert window.spo2_tile.state is ValueState.VALID
    valid_text = window.spo2_tile.value.text()
    assert valid_text.isdigit()
    bed.run_to(24)
    window.refresh()
    assert window.spo2_tile.state is ValueState.STALE
    assert window.spo2_tile.value.text().isdigit()
    assert window.spo2_tile.value_colour(ValueState.STALE) == theme.STALE
    assert window.spo2_tile.note.text() == "sensor off"
    bed.run_to(40)
    window.refresh()
    assert window.spo2_tile.value.text() == "--"
    assert window.pr_tile.value.text() == "--"


def test_nibp_tile_shows_reading_time_age_and_cuff(qtbot) -> None:
    bed = Bedside("steady")
    bed.run_to(5)
    window = bed.window(qtbot)
    window.do_nibp_start_stop()
    bed.step()
    bed.run_to(bed.pipeline.t + 3)
    window.refresh()
    assert window.nibp_tile.cuff.text().startswith("Cuff ")
    bed.run_to(bed.pipeline.t + 60)
    window.refresh()
    assert "/" in window.nibp_tile.main.text() and window.nibp_tile.main.text()[0].isdigit()
    assert window.nibp_tile.when.text().endswith("just now")
    bed.run_to(bed.pipeline.t + 16 * 60)
    window.refresh()
    assert window.nibp_tile.when.text().endswith("min ago")
    assert window.nibp_tile.value_colour(window.nibp_tile.age) == theme.STALE


def test_alarm_sound_plays_the_engine_priority(qtbot) -> None:
    bed = Bedside("desaturation")
    bed.run_to(75)
    sink = SilentSink()
    bed.window(qtbot, sink=sink)
    assert sink.played == ["high"]


def test_missing_sound_device_raises_alarm_audio_failed(qtbot) -> None:
    bed = Bedside("steady")
    bed.run_to(5)
    window = bed.window(qtbot, sink=FailedSink("no sound device"))
    bed.step()
    assert (
        "technical_alarm",
        {
            "id": "ALARM_AUDIO_FAILED",
            "active": True,
            "message": "no sound device",
        },
    ) in bed.commands()
    ids = [a.id for a in bed.pipeline.alarms.display_state().alarms]
    assert "ALARM_AUDIO_FAILED" in ids
    window._slow_due = 0
    window.refresh()
    assert window.sound_label.text() == "Sound FAILED"
    assert window.alarm_bar.message.text().endswith(": no sound device")
    assert "ALARM_AUDIO_FAILED" in [r.get("id") for r in bed.records if r["type"] == "alarm"]


def test_trend_view_shows_the_whole_session(qtbot) -> None:
    bed = Bedside("steady")
    bed.pipeline.commands.schedule(60, "mark_event", kind="infusion_start", dose_mg_per_kg_h=0.5)
    bed.pipeline.commands.schedule(120, "nibp_start")
    bed.pipeline.commands.schedule(400, "mark_event", kind="note", text="drowsy")
    bed.run_to(600)
    trends = TrendsWindow(bed.pipeline)
    qtbot.addWidget(trends)
    trends.show()
    qtbot.waitExposed(trends)
    trends.timer.stop()
    seconds = len(bed.pipeline.trends)
    assert seconds == 600
    assert trends.curve_points("spo2.spo2") == seconds
    assert trends.curve_points("pr.pr") == seconds
    # the manual reading (~154 s) and the infusion program's first (slot 300 s)
    assert trends.curve_points("nibp.sys") == 2
    assert trends.no_data["pi"].isVisible() and not trends.no_data["spo2"].isVisible()
    assert trends.event_count >= 2  # infusion start, note (and the phase change)
    assert ("spo2", 90.0) in [(k, v) for k, v, _ in _limits(trends)]
    t0, t1 = trends.x_range()
    assert t0 <= 1 and t1 >= 599
    trends.zoom(0.5)
    z0, z1 = trends.x_range()
    assert abs((z1 - z0) - 300) < 1 and not trends.follow
    trends.pan(-0.5)
    p0, _ = trends.x_range()
    assert p0 < z0
    trends.show_all()
    assert trends.x_range()[1] >= 599
    # Closed and opened again (the Trends button): it follows the session again, with
    # its limit and event lines.
    trends.close()
    assert not trends.timer.isActive() and not trends.limit_items
    bed.run_to(660)
    trends.show()
    assert trends.timer.isActive()
    assert trends.curve_points("spo2.spo2") == 660
    assert (
        len(trends.limit_items) == len([k for k, _, _ in _limits(trends) if k in trends.plots]) > 0
    )
    assert trends.event_count >= 2


def _limits(trends):
    from monitor.present.trend_view import limit_lines

    return limit_lines(trends.pipeline.alarms.limits())


def test_fonts_follow_the_window_size(qtbot) -> None:
    bed = Bedside("steady")
    bed.run_to(5)
    window = bed.window(qtbot)
    small = window.fonts.value_px
    window.resize(3840, 2160)
    qtbot.waitUntil(lambda: window.fonts.value_px > 2 * small, timeout=2000)
    assert f"font-size: {window.fonts.value_px}px" in window.spo2_tile.styleSheet()


def test_make_sink_reports_a_missing_device_and_honours_silent(qtbot, monkeypatch) -> None:
    from PyQt6.QtMultimedia import QMediaDevices

    from monitor.ui.sound import QtToneSink, make_sink

    monkeypatch.delenv("VITALMON_AUDIO", raising=False)
    sink = make_sink()
    if QMediaDevices.defaultAudioOutput().isNull():  # CI, containers: no sound device
        assert isinstance(sink, FailedSink) and sink.problem == "no sound device"
    else:
        assert isinstance(sink, QtToneSink)
    monkeypatch.setenv("VITALMON_AUDIO", "silent")
    silent = make_sink()
    assert isinstance(silent, SilentSink) and silent.ok and not silent.audible
