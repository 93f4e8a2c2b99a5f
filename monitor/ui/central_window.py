"""The central station's window: a tile per chair laid out to fill the screen, the
clinic's highest alarm across the top, the IEC tones at the desk; click a chair for
its detail. It paints what monitor.present.central_view decides from the model that
monitor.net.subscriber keeps; one 30 Hz timer drives everything, and a tile is drawn
again only when what it shows changed.

It only reads: nothing here can send anything to a bedside.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from monitor.net.central import ChairState, wall_now
from monitor.net.subscriber import CentralSubscriber
from monitor.present.central_view import (
    MAX_CHAIRS,
    CentralViews,
    chair_order,
    desk_sound,
    grid_shape,
    remote_alarm,
)
from monitor.present.display import font_sizes
from monitor.ui import theme
from monitor.ui.alarm_bar import AlarmBar
from monitor.ui.app import make_app, quit_on_signals
from monitor.ui.chair_detail import ChairDetail
from monitor.ui.chair_tile import ChairTile
from monitor.ui.sound import AlarmSink, AlarmSound, make_sink

DISPLAY_RATE_HZ = 30


class CentralWindow(QMainWindow):
    def __init__(
        self,
        link: CentralSubscriber,
        sink: AlarmSink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.link = link
        self.model = link.model
        self.clock = clock
        clinic = self.model.prefix.split("/")[1]
        self.setWindowTitle(f"vitalmon central — {clinic}")
        self.setStyleSheet(f"QMainWindow, #central {{ background: {theme.BACKGROUND}; }}")
        root_widget = QWidget()
        root_widget.setObjectName("central")
        root = QVBoxLayout(root_widget)
        root.setContentsMargins(6, 6, 6, 6)
        root.setSpacing(6)
        self.alarm_bar = AlarmBar()
        root.addWidget(self.alarm_bar)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        root.addWidget(self.grid_host, 1)
        self.waiting = QLabel(f"Waiting for chairs on vitalmon/{clinic}/… ")
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting.setStyleSheet(f"color: {theme.DIM_TEXT}; font-size: 22px;")
        self.grid.addWidget(self.waiting, 0, 0)
        strip = QHBoxLayout()
        self.link_label = QLabel("")
        self.count_label = QLabel("")
        self.sound_label = QLabel("")
        self.clock_label = QLabel("")
        for label in (self.link_label, self.count_label, self.sound_label, self.clock_label):
            label.setStyleSheet(f"color: {theme.TEXT}; font-size: 16px;")
            strip.addWidget(label)
        strip.insertStretch(2, 1)
        root.addLayout(strip)
        self.setCentralWidget(root_widget)

        self.tiles: dict[str, ChairTile] = {}
        self.views = CentralViews()
        self._names: list[str] = []  # the chairs shown, in order
        self._seen = 0  # chairs the model knew when `_names` was made
        self._shape: tuple[int, int] | None = None
        self._order: list[str] = []
        self.detail: ChairDetail | None = None
        self.sound = AlarmSound(sink if sink is not None else make_sink(), self._desk_alarm)
        QShortcut(QKeySequence("F11"), self, activated=self.toggle_fullscreen)
        self.resize(1366, 768)
        self.alarm_bar.apply_fonts(font_sizes(1366, 768))
        self._slow_due = 0.0
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(round(1000 / DISPLAY_RATE_HZ))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # --- the desk's own alarm (a failed sound device) ------------------------------
    def _desk_alarm(self, _name: str, id: str, active: bool, message: str = "") -> None:
        """AlarmSound reports a broken sound path as the bedside's window would."""
        with self.link.lock:
            self.model.desk_alarm(id, active, message, time.monotonic(), wall_now())

    # --- painting ------------------------------------------------------------------
    def refresh(self) -> None:
        now = self.clock()  # display time: the flash phase
        tick = time.monotonic()  # what is refreshed once a second follows the real clock
        self.link.tick()
        with self.link.lock:
            if len(self.model.chairs) != self._seen:  # chairs are only ever added
                self._seen = len(self.model.chairs)
                self._names = chair_order(self.model.chairs)
            chairs = [self.model.chairs[n] for n in self._names]
            shown = chairs[:MAX_CHAIRS]
            self._place(shown)
            # every chair's alarms reach the bar and the sound, shown on a tile or not
            for name, view in self.views.tiles(chairs, now).items():
                tile = self.tiles.get(name)
                if tile is not None:
                    tile.show_view(view)
            desk = [a for r in self.model.desk.values() if (a := remote_alarm(r, "central"))]
            self.alarm_bar.show_view(self.views.bar(desk, now))
            priority, sounding = desk_sound(self.views.alarms, desk)
            if self.detail is not None and self.detail.isVisible():
                self.detail.refresh(tick)
            total = len(self.model.chairs)
        self.sound.step(priority, sounding, now)
        if tick >= self._slow_due:
            self._slow_due = tick + 0.5
            self._refresh_strip(total)

    def _place(self, chairs: list[ChairState]) -> None:
        """Lay the tiles out again only when the chairs or the grid's shape change."""
        names = [c.name for c in chairs]
        if names == self._order and self._shape is not None:
            return  # (a resize sets _shape to None)
        area = self.grid_host.size()
        shape = grid_shape(len(names), area.width(), area.height())
        self._order, self._shape = names, shape
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        self.waiting.setVisible(not names)
        rows, cols = shape
        for r in range(max(rows, self.grid.rowCount())):  # rows of a larger grid: none
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(max(cols, self.grid.columnCount())):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)
        for i, name in enumerate(names):
            tile = self.tiles.get(name)
            if tile is None:
                tile = self.tiles[name] = ChairTile(name, self.open_detail)
            self.grid.addWidget(tile, i // cols, i % cols)
            tile.show()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.alarm_bar.apply_fonts(font_sizes(self.width(), self.height()))
        self._shape = None

    def _refresh_strip(self, total: int) -> None:
        if self.link.connected:
            link, colour = (
                f"Broker {self.link.address.host}:{self.link.address.port} ✓",
                theme.OK_COLOUR,
            )
        else:
            link, colour = "Broker unreachable: reconnecting…", theme.PROBLEM_COLOUR
        _set(self.link_label, link, colour)
        shown = (
            f"{total} chairs"
            if total <= MAX_CHAIRS
            else f"{total} chairs, first {MAX_CHAIRS} shown"
        )
        _set(self.count_label, shown, theme.TEXT)
        if self.sound.sink.ok and self.sound.sink.audible:
            _set(self.sound_label, "Sound ✓", theme.OK_COLOUR)
        elif self.sound.sink.ok:
            _set(self.sound_label, "Sound: silent", theme.DIM_TEXT)
        else:
            _set(self.sound_label, "Sound FAILED", theme.FAILED_COLOUR)
            self.sound_label.setToolTip(f"{self.sound.sink.problem}: alarms are visual only")
        _set(self.clock_label, datetime.now().strftime("%H:%M:%S"), theme.TEXT)

    # --- actions -------------------------------------------------------------------
    def open_detail(self, name: str) -> None:
        chair = self.model.chairs.get(name)
        if chair is None:
            return
        if self.detail is None:
            self.detail = ChairDetail(chair)
        else:
            self.detail.show_chair(chair)
        self.detail.show()
        self.detail.raise_()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def closeEvent(self, event) -> None:
        self.timer.stop()
        self.sound.sink.stop()
        if self.detail is not None:
            self.detail.close()
        super().closeEvent(event)


def _set(label: QLabel, text: str, colour: str) -> None:
    if label.text() != text:
        label.setText(text)
    style = f"color: {colour}; font-size: 16px;"
    if label.styleSheet() != style:
        label.setStyleSheet(style)


def run_central_gui(link: CentralSubscriber) -> int:
    """The window on a started `link` until it is closed (or SIGINT/SIGTERM); a refused
    user closes it."""
    app = make_app()
    window = CentralWindow(link)
    screen = window.screen()
    if screen is not None:
        area = screen.availableGeometry()
        window.resize(min(window.width(), area.width()), min(window.height(), area.height()))
    received = quit_on_signals(app)
    watch = QTimer(app)
    watch.timeout.connect(lambda: app.quit() if link.fatal is not None else None)
    watch.start(200)
    window.show()
    try:
        status = app.exec()
    finally:
        link.stop()
    return 130 if signal.SIGINT in received else status
