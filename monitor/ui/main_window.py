"""The bedside window, laid out like the bedside monitors nurses know (IntelliVue,
Carescape, Root): the alarm bar on top; waveforms on the left with their numerics to
the right; NIBP with its time and age; the session strip and the soft keys below.

It paints what monitor.* computes, from one `BedsideSnapshot` a frame
(`monitor.present.bedside`), and sends every action through `pipeline.commands.submit`;
it holds no rule of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from drivers.types import NibpReading, OximeterFlag
from monitor.alarms.engine import AlarmEngine
from monitor.channels.capno import CapnoChannel
from monitor.channels.resp import RespChannel
from monitor.commands import CommandError
from monitor.numerics import ValueState
from monitor.pipeline import AcquisitionPipeline
from monitor.present.actions import (
    ACTIONS,
    NIBP_INTERVALS,
    PHASES,
    Action,
    next_phase,
    nibp_start_stop_command,
)
from monitor.present.alarm_view import (
    alarm_bar_view,
    alarm_list_lines,
    alarms_off,
    alarms_off_text,
    countdown,
    limits_text,
    tile_alarm,
    tile_alarm_ids,
    tile_alarm_view,
)
from monitor.present.bedside import BedsideSnapshot, bedside_snapshot
from monitor.present.capno_view import capno_tile_view, capnogram_range, capnogram_title
from monitor.present.display import (
    FontSizes,
    TileText,
    font_sizes,
    format_reading,
    reading_from_record,
    rr_tile,
)
from monitor.present.nibp_view import nibp_tile_view
from monitor.present.replay_view import mark_views
from monitor.present.session_view import clock_text, link_view, phase_label, session_strip_view
from monitor.ui import theme
from monitor.ui.alarm_bar import AlarmBar
from monitor.ui.dialogs import EventDialog, LimitsDialog, SessionSetupDialog
from monitor.ui.replay_bar import ReplayBar
from monitor.ui.sound import AlarmSink, AlarmSound, SilentSink, make_sink
from monitor.ui.tiles import NibpTile, NumericTile
from monitor.ui.waveform import SweepPlot

if TYPE_CHECKING:
    from monitor.ui.trends_window import TrendsWindow

DISPLAY_RATE_HZ = 30
SLOW_REFRESH_S = 0.5  # limits, session strip and links change slowly
REVIEW_ACTIONS = frozenset({"trends", "fullscreen"})  # what a replay still allows
log = logging.getLogger("vitalmon.ui")


class WavePanel(QFrame):
    """A labelled sweep."""

    def __init__(self, title: str, colour: str, plot: SweepPlot) -> None:
        super().__init__()
        self.title = QLabel(title)
        self.colour = colour
        self.plot = plot
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(plot, 1)

    def apply_fonts(self, fonts: FontSizes) -> None:
        self.plot.set_line_width(fonts.line_px)
        self.title.setStyleSheet(
            f"color: {self.colour}; font-size: {fonts.label_px}px; font-weight: bold;"
            f" font-family: '{theme.FONT_FAMILY}';"
        )


class MonitorWindow(QMainWindow):
    def __init__(
        self,
        pipeline: AcquisitionPipeline,
        sink: AlarmSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        replay=None,
    ) -> None:
        """`replay` (a ReplayController) turns on the replay bar; nurse actions are then
        off (a recording is reviewed, not changed) and the alarm sound is silent."""
        super().__init__()
        self.pipeline = pipeline
        self.clock = clock
        self.setWindowTitle("vitalmon")
        self.setStyleSheet(f"QMainWindow, #central {{ background: {theme.BACKGROUND}; }}")
        self.last_numerics: dict[str, object] = {}
        pipeline.subscribe(self._on_record)
        self.problem_text = ""
        self.dialog: QWidget | None = None
        self.trends: TrendsWindow | None = None
        self.snapshot = bedside_snapshot(pipeline)

        central = QWidget()
        central.setObjectName("central")
        root = QVBoxLayout(central)
        root.setContentsMargins(6, 6, 6, 6)
        root.setSpacing(6)
        self.alarm_bar = AlarmBar()
        self.alarm_bar.on_click = self.show_alarm_list
        root.addWidget(self.alarm_bar)

        grid = QGridLayout()
        grid.setSpacing(6)
        oximeter = pipeline.oximeter
        assert oximeter is not None, "the window needs an oximeter channel"
        self.pleth = SweepPlot(oximeter.pleth, oximeter.pleth_rate_hz, theme.PLETH_COLOUR)
        self.waves = [WavePanel("Pleth", theme.PLETH_COLOUR, self.pleth)]
        resp = pipeline.channels.get("resp")
        capno = pipeline.channels.get("capno")
        self.resp: SweepPlot | None = None
        self.co2: SweepPlot | None = None
        if isinstance(capno, CapnoChannel):  # the capnogram takes the respiration wave's place
            self.co2 = SweepPlot(
                capno.co2, capno.co2_rate_hz, theme.CO2_COLOUR, fill=theme.CO2_FILL
            )
            self.co2.set_fixed_range(*capnogram_range(None))
            self.waves.append(WavePanel(capnogram_title(None), theme.CO2_COLOUR, self.co2))
        elif isinstance(resp, RespChannel):
            self.resp = SweepPlot(resp.wave, resp.wave_rate_hz, theme.RESP_COLOUR)
            self.waves.append(WavePanel("Resp", theme.RESP_COLOUR, self.resp))
        self.spo2_tile = NumericTile("spo2", "SpO₂", "%", theme.SPO2_COLOUR)
        self.pr_tile = NumericTile("pr", "PR", "/min", theme.PR_COLOUR)
        self.nibp_tile = NibpTile()
        self.pi_tile = NumericTile("pi", "PI", "%", theme.PI_COLOUR, large=False)
        self.rr_tile = NumericTile("rr", "RR", "/min", theme.RESP_COLOUR, large=False)
        # Without a breathing source the tile stays, saying "RR not monitored".
        self.rr_monitored = self.resp is not None or "rr" in pipeline.channels
        self.rr_tile.setVisible(self.co2 is None)
        # With capnography its tile (EtCO2, FiCO2, the rate) stands where RR does.
        self.etco2_tile = NumericTile("etco2", "EtCO₂", "mmHg", theme.CO2_COLOUR, large=False)
        breathing_row = self.co2 is not None or self.rr_tile.isVisible()
        # Left: waveforms; right: numerics in three rows (SpO2|PR, NIBP, RR|PI).
        grid.addWidget(self.waves[0], 0, 0, 2 if len(self.waves) > 1 else 3, 1)
        if len(self.waves) > 1:
            grid.addWidget(self.waves[1], 2, 0)
        grid.addWidget(self.spo2_tile, 0, 1)
        grid.addWidget(self.pr_tile, 0, 2)
        grid.addWidget(self.nibp_tile, 1, 1, 1, 2)
        if self.co2 is not None:
            grid.addWidget(self.etco2_tile, 2, 1)
            grid.addWidget(self.pi_tile, 2, 2)
        elif self.rr_tile.isVisible():
            grid.addWidget(self.rr_tile, 2, 1)
            grid.addWidget(self.pi_tile, 2, 2)
        else:
            grid.addWidget(self.pi_tile, 2, 1, 1, 2)
        grid.setColumnStretch(0, 11)
        grid.setColumnStretch(1, 4)
        grid.setColumnStretch(2, 4)
        for row, stretch in enumerate((4, 4, 3 if breathing_row else 2)):
            grid.setRowStretch(row, stretch)
        root.addLayout(grid, 1)

        self.strip = QFrame()
        self.strip.setObjectName("strip")
        strip = QHBoxLayout(self.strip)
        strip.setContentsMargins(10, 2, 10, 2)
        strip.setSpacing(14)  # room for every link, the alarm-off count and the patient
        self.patient_label = QLabel("")
        self.phase_label = QLabel("")
        self.dose_label = QLabel("")
        self.link_labels: dict[str, QLabel] = {}
        # Patient and dose texts vary in length: they share the free width by stretch and
        # are cut rather than widen the window; the rest is short and keeps its width.
        for widget, stretch in (
            (self.patient_label, 3),
            (self.phase_label, 0),
            (self.dose_label, 4),
        ):
            if stretch:
                widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            strip.addWidget(widget, stretch)
        for channel in pipeline.channels:
            label = QLabel("")
            self.link_labels[channel] = label
            strip.addWidget(label)
        self.sound_label = QLabel("")
        self.clock_label = QLabel("")
        self.alarms_off_label = QLabel("")  # docs/clinical.md: alarms off are counted here
        self.alarms_off_label.setObjectName("alarms_off")
        strip.addWidget(self.alarms_off_label)
        strip.addWidget(self.sound_label)
        strip.addWidget(self.clock_label)
        root.addWidget(self.strip)

        keys = QHBoxLayout()
        keys.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        self.shortcuts: dict[str, QShortcut] = {}
        for action in ACTIONS:
            button = QPushButton(f"{action.label}\n{action.shortcut}")
            button.setToolTip(action.help)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            # equal shares of the width: eleven keys must fit 1366 px, never widen the window
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            slot = self._slot(action)
            button.clicked.connect(lambda _=False, s=slot: s())
            keys.addWidget(button, 1)
            self.buttons[action.name] = button
            shortcut = QShortcut(QKeySequence(action.shortcut), self)
            shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts[action.name] = shortcut
        escape = QShortcut(QKeySequence("Esc"), self)
        escape.activated.connect(self.leave_fullscreen)
        self.replay = replay
        self.replay_bar: ReplayBar | None = None
        if replay is not None:
            self.replay_bar = ReplayBar(replay, mark_views(replay.timeline_marks()))
            root.addWidget(self.replay_bar)
            for name, button in self.buttons.items():
                if name not in REVIEW_ACTIONS:
                    button.setEnabled(False)
                    self.shortcuts[name].setEnabled(False)
            sink = SilentSink()
        root.addLayout(keys)
        self.setCentralWidget(central)

        self.sound = AlarmSound(sink if sink is not None else make_sink(), self.send)
        self.fonts: FontSizes | None = None
        self.resize(1366, 768)
        self.apply_fonts()
        self._slow_due = 0.0
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(round(1000 / DISPLAY_RATE_HZ))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # --- commands ------------------------------------------------------------------
    def _slot(self, action: Action) -> Callable[[], None]:
        """The method that carries out a soft key (`do_<name>`, one per entry of ACTIONS)."""
        slots: dict[str, Callable[[], None]] = {
            "acknowledge": self.do_acknowledge,
            "pause_audio": self.do_pause_audio,
            "nibp_start_stop": self.do_nibp_start_stop,
            "nibp_stat": self.do_nibp_stat,
            "nibp_interval": self.do_nibp_interval,
            "mark_event": self.do_mark_event,
            "limits": self.do_limits,
            "setup": self.do_setup,
            "phase": self.do_phase,
            "trends": self.do_trends,
            "fullscreen": self.do_fullscreen,
        }
        return slots[action.name]

    def send(self, name: str, **args: object) -> bool:
        """Every action goes through the command bus; a refusal is shown, never swallowed."""
        try:
            self.pipeline.commands.submit(name, **args)
        except CommandError as exc:
            self.problem_text = str(exc)
            log.error("command refused: %s", exc)
            return False
        return True

    def do_acknowledge(self) -> None:
        self.send("acknowledge")

    def do_pause_audio(self) -> None:
        self.send("pause_audio")

    def do_nibp_start_stop(self) -> None:
        self.send(nibp_start_stop_command(bedside_snapshot(self.pipeline).nibp.status))

    def do_nibp_stat(self) -> None:
        self.send("nibp_stat")

    def do_nibp_interval(self) -> None:
        menu = QMenu(self)
        for minutes in NIBP_INTERVALS:
            label = "Off (manual)" if minutes is None else f"Every {minutes} min"
            menu.addAction(label, lambda m=minutes: self.set_nibp_interval(m))
        menu.addSeparator()
        menu.addAction("Infusion program", lambda: self.send("nibp_program", on=True))
        self.dialog = menu
        button = self.buttons["nibp_interval"]
        menu.popup(button.mapToGlobal(button.rect().topLeft()))

    def set_nibp_interval(self, minutes: int | None) -> None:
        self.send("nibp_interval", minutes=minutes)

    def do_mark_event(self) -> None:
        session = bedside_snapshot(self.pipeline).session
        dose = session.dose_mg_per_kg_h or session.planned_dose_mg_per_kg_h
        defaults = {"dose_mg_per_kg_h": dose} if dose else {}
        assess = self.pipeline.session.discharge_assessment
        self._open(EventDialog(self.send, self, defaults, assess))

    def do_limits(self) -> None:
        alarms = self.pipeline.alarms
        nibp = bedside_snapshot(self.pipeline).nibp.reading
        current = {**self.last_numerics, **_reading_fields(nibp)}
        self._open(LimitsDialog(alarms.preset, alarms.limits(), self.send, current, self))

    def do_setup(self) -> None:
        self._open(SessionSetupDialog(self.send, self.pipeline.session, self))

    def do_phase(self) -> None:
        current = bedside_snapshot(self.pipeline).session.phase
        proposed = next_phase(current)
        menu = QMenu(self)
        for phase in PHASES:
            action = menu.addAction(phase_label(phase), lambda p=phase: self.set_phase(p))
            action.setCheckable(True)
            action.setChecked(phase == current)
            if phase == proposed:
                menu.setActiveAction(action)
        self.dialog = menu
        button = self.buttons["phase"]
        menu.popup(button.mapToGlobal(button.rect().topLeft()))

    def set_phase(self, phase: str) -> None:
        self.send("set_phase", phase=phase)

    def do_trends(self) -> None:
        from monitor.ui.trends_window import TrendsWindow

        if self.trends is None:
            self.trends = TrendsWindow(self.pipeline)
        self.trends.show()
        self.trends.raise_()

    def show_alarm_list(self) -> None:
        """Every alarm on screen with its priority, age and state (behind "+N more")."""
        shown = bedside_snapshot(self.pipeline)
        menu = QMenu(self)
        lines = alarm_list_lines(shown.alarms.alarms, shown.t) or ["No alarms"]
        for line in lines:
            menu.addAction(line).setEnabled(False)
        self.dialog = menu
        menu.popup(self.alarm_bar.mapToGlobal(self.alarm_bar.rect().bottomLeft()))

    def do_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.setModal(False)
        dialog.show()

    # --- painting --------------------------------------------------------------------
    def rebind(self, pipeline: AcquisitionPipeline) -> None:
        """A replay sought backwards runs a fresh pipeline: show that one from now on."""
        self.pipeline = pipeline
        pipeline.subscribe(self._on_record)
        oximeter = pipeline.oximeter
        if oximeter is not None:
            self.pleth.ring = oximeter.pleth
        resp = pipeline.channels.get("resp")
        if self.resp is not None and isinstance(resp, RespChannel):
            self.resp.ring = resp.wave
        capno = pipeline.channels.get("capno")
        if self.co2 is not None and isinstance(capno, CapnoChannel):
            self.co2.ring = capno.co2
        if self.trends is not None:
            self.trends.close()
            self.trends = None
        self.snapshot = bedside_snapshot(pipeline)
        self._slow_due = 0.0

    def _on_record(self, record: dict[str, object]) -> None:
        if record.get("type") == "numerics":
            self.last_numerics = record  # swapped whole: safe to read from the GUI thread

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.apply_fonts()

    def apply_fonts(self) -> None:
        fonts = font_sizes(self.width(), self.height())
        if fonts == self.fonts:
            return
        self.fonts = fonts
        self.alarm_bar.apply_fonts(fonts)
        for tile in (
            self.spo2_tile,
            self.pr_tile,
            self.nibp_tile,
            self.pi_tile,
            self.rr_tile,
            self.etco2_tile,
        ):
            tile.apply_fonts(fonts)
        for wave in self.waves:
            wave.apply_fonts(fonts)
        self.strip.setStyleSheet(
            f"#strip {{ background: {theme.PANEL}; border-radius: 4px; }}"
            f"#strip QLabel {{ color: {theme.TEXT}; font-size: {fonts.strip_px}px;"
            f" font-family: '{theme.FONT_FAMILY}'; }}"
        )
        button_px = max(10, round(fonts.strip_px * 0.9))
        for button in self.buttons.values():
            button.setStyleSheet(
                f"QPushButton {{ background: {theme.BUTTON}; color: {theme.TEXT};"
                f" border: 1px solid {theme.BUTTON_EDGE}; border-radius: 4px;"
                f" font-size: {button_px}px; padding: {round(button_px * 0.3)}px;"
                f" font-family: '{theme.FONT_FAMILY}'; }}"
                f"QPushButton:pressed {{ background: {theme.BUTTON_EDGE}; }}"
                f"QPushButton:disabled {{ color: {theme.STALE}; background: {theme.PANEL}; }}"
            )
        self._slow_due = 0.0

    def refresh(self) -> None:
        now = self.clock()
        shown = self.snapshot = bedside_snapshot(self.pipeline)
        state = shown.alarms
        alarms = state.alarms
        inactivation = state.inactivation
        pause_left = state.pause_remaining_s

        self.alarm_bar.show_view(alarm_bar_view(alarms, inactivation, pause_left, now))
        self._refresh_oximeter(shown)
        self._refresh_rr(shown)
        self._refresh_capno(shown)
        self._refresh_nibp(shown)
        for key, tile in (
            ("spo2", self.spo2_tile),
            ("pr", self.pr_tile),
            ("nibp", self.nibp_tile),
            ("rr", self.rr_tile),
            ("etco2", self.etco2_tile),
        ):
            tile.set_alarm(tile_alarm_view(tile_alarm(alarms, key), now))
        pause_text = "Pause audio\n" + (
            countdown(pause_left) if inactivation == "audio_paused" and pause_left else "F2"
        )
        if self.buttons["pause_audio"].text() != pause_text:
            self.buttons["pause_audio"].setText(pause_text)
        nibp_text = (
            "Stop NIBP\nF3"
            if nibp_start_stop_command(shown.nibp.status) == "nibp_stop"
            else "Start NIBP\nF3"
        )
        if self.buttons["nibp_start_stop"].text() != nibp_text:
            self.buttons["nibp_start_stop"].setText(nibp_text)
        self.sound.step(state.audio_priority, alarms, now)
        self.pleth.refresh()
        if self.resp is not None:
            self.resp.refresh()
        if self.co2 is not None:
            self.co2.refresh()
        if now >= self._slow_due:
            self._slow_due = now + SLOW_REFRESH_S
            self._refresh_slow(shown)
        if self.replay_bar is not None:
            self.replay_bar.refresh()

    def _refresh_oximeter(self, shown: BedsideSnapshot) -> None:
        snapshot = shown.oximeter
        if snapshot is None:
            return
        note = ""
        if snapshot.flags & OximeterFlag.SENSOR_OFF:
            note = "sensor off"
        elif snapshot.flags & (OximeterFlag.SEARCHING | OximeterFlag.OUT_OF_TRACK):
            note = "searching"
        elif snapshot.spo2.state is ValueState.STALE:
            note = "not updating"
        self.spo2_tile.show_text(format_reading(snapshot.spo2), note)
        self.pr_tile.show_text(format_reading(snapshot.pulse_rate))
        self.pi_tile.show_text(format_reading(snapshot.perfusion_index, decimals=1))

    def _refresh_rr(self, shown: BedsideSnapshot) -> None:
        if not self.rr_tile.isVisible():
            return
        reading = shown.rr
        if reading is None:  # a source whose rate arrives only in the numerics record
            reading = reading_from_record(self.last_numerics, "rr")
        self.rr_tile.show_text(*rr_tile(self.rr_monitored, reading))

    def _refresh_capno(self, shown: BedsideSnapshot) -> None:
        record = shown.capno
        if self.co2 is None or record is None:
            return
        view = capno_tile_view(record)
        self.etco2_tile.show_text(TileText(view.text, view.state), view.note)
        value = record.get("etco2")
        etco2 = float(value) if isinstance(value, int | float) else None
        self.co2.set_fixed_range(*capnogram_range(etco2))
        _set_text(self.waves[1].title, capnogram_title(etco2))

    def _refresh_nibp(self, shown: BedsideSnapshot) -> None:
        nibp = shown.nibp
        view = nibp_tile_view(
            nibp.reading,
            nibp.reading_t,
            nibp.status,
            nibp.cuff_mmhg,
            nibp.mode,
            nibp.interval_min,
            nibp.next_due_t,
            shown.wall_start,
            shown.t,
        )
        self.nibp_tile.show_view(view)

    def _refresh_slow(self, shown: BedsideSnapshot) -> None:
        for key, tile in (
            ("spo2", self.spo2_tile),
            ("pr", self.pr_tile),
            ("nibp", self.nibp_tile),
            ("rr", self.rr_tile),
            ("etco2", self.etco2_tile),
        ):
            watched = key != "rr" or self.rr_monitored  # no limits where nothing is watched
            tile.set_limits(limits_text(key, shown.limits) if watched else "")
            off = tuple(alarms_off(shown.limits, tile_alarm_ids(key)))
            tile.set_alarms_off(off, ", ".join(_message(self.pipeline.alarms, i) for i in off))
        _set_text(
            self.alarms_off_label,
            alarms_off_text(shown.limits),
            f"color: {theme.PROBLEM_COLOUR}; font-weight: bold;",
        )
        session = shown.session
        view = session_strip_view(
            session.patient_id,
            session.weight_kg,
            session.phase,
            session.phase_started_t,
            session.dose_mg_per_kg_h,
            shown.t,
        )
        _set_text(self.patient_label, view.patient)
        _set_text(self.phase_label, view.phase)
        _set_text(self.dose_label, view.dose)
        for link in shown.links:
            label = self.link_labels.get(link.channel)
            if label is None:
                continue
            words = link_view(link.channel, link.state, link.has_data, link.answering)
            colour = theme.OK_COLOUR if words.ok else theme.PROBLEM_COLOUR
            _set_text(label, words.text, f"color: {colour};")
        if self.replay is not None:
            _set_text(self.sound_label, "Replay: sound off", f"color: {theme.DIM_TEXT};")
        elif self.sound.sink.ok and self.sound.sink.audible:
            _set_text(self.sound_label, "Sound ✓", f"color: {theme.OK_COLOUR};")
        elif self.sound.sink.ok:  # silent on purpose (VITALMON_AUDIO=silent)
            _set_text(self.sound_label, "Sound: silent", f"color: {theme.DIM_TEXT};")
        else:
            self.sound_label.setToolTip(f"{self.sound.sink.problem}: alarms are visual only")
            _set_text(
                self.sound_label,
                "Sound FAILED",
                f"color: {theme.FAILED_COLOUR}; font-weight: bold;",
            )
        if self.problem_text:
            self.statusBar().showMessage(self.problem_text, 8000)
            self.problem_text = ""
        _set_text(self.clock_label, clock_text(shown.wall_start, shown.t))

    def closeEvent(self, event) -> None:
        self.timer.stop()
        self.sound.sink.stop()
        if self.trends is not None:
            self.trends.close()
        if self.replay is not None:
            self.replay.stop()
        super().closeEvent(event)


def _reading_fields(reading: NibpReading | None) -> dict[str, object]:
    """The last NIBP reading's pressures, for the limits dialog's current values."""
    if reading is None:
        return {}
    return {"sys": reading.systolic_mmhg, "dia": reading.diastolic_mmhg, "map": reading.map_mmhg}


def _message(alarms_engine: AlarmEngine, alarm_id: str) -> str:
    """An alarm's plain name (its preset message), for a tooltip."""
    spec = alarms_engine.preset.alarms.get(alarm_id)
    return spec.message if spec is not None else alarm_id


def _set_text(label: QLabel, text: str, style: str | None = None) -> None:
    if label.text() != text:
        label.setText(text)
    if style is not None and label.property("style_key") != style:
        label.setProperty("style_key", style)
        label.setStyleSheet(style)
