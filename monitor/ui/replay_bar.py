"""Replay controls under the same bedside screen: play/pause, speed, and a timeline of the
recorded alarms and events that seeks where it is clicked. Drives a ReplayController."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut
from PyQt6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from monitor.present.replay_view import REPLAY_SPEEDS, MarkView, position_text, speed_label
from monitor.ui import theme


class Timeline(QWidget):
    """A track with coloured ticks (alarm onsets, events) and the play head; click to seek."""

    def __init__(self, duration_s: float, marks: list[MarkView], seek: Callable[[float], None]):
        super().__init__()
        self.duration_s = max(1.0, duration_s)
        self.marks = marks
        self.seek = seek
        self.position = 0.0
        self.setMinimumHeight(28)
        self.setToolTip("click to jump; ticks: alarm onsets (their colour) and events (white)")

    def set_position(self, t: float) -> None:
        if abs(t - self.position) * self.width() / self.duration_s >= 0.5:
            self.position = t
            self.update()

    def t_at(self, x: float) -> float:
        return max(0.0, min(self.duration_s, x / max(1, self.width()) * self.duration_s))

    def mousePressEvent(self, event) -> None:
        self.seek(self.t_at(event.position().x()))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(QRectF(0, h * 0.35, w, h * 0.3), QColor(theme.BUTTON_EDGE))
        played = self.position / self.duration_s * w
        p.fillRect(QRectF(0, h * 0.35, played, h * 0.3), QColor(theme.DIM_TEXT))
        for mark in self.marks:
            x = mark.t / self.duration_s * w
            p.setPen(QPen(QColor(mark.colour), 2))
            top = 0 if mark.kind == "alarm" else h * 0.5
            p.drawLine(int(x), int(top), int(x), int(top + h * 0.5))
        p.setPen(QPen(QColor(theme.TEXT), 3))
        p.drawLine(int(played), 0, int(played), h)


class ReplayBar(QFrame):
    """Space plays/pauses, [ and ] change the speed; the timeline seeks."""

    def __init__(self, controller, marks: list[MarkView]) -> None:
        super().__init__()
        self.controller = controller
        self.setObjectName("replaybar")
        self.setStyleSheet(
            f"#replaybar {{ background: {theme.PANEL}; border-radius: 4px; }}"
            f"#replaybar QLabel, #replaybar QComboBox, #replaybar QPushButton {{"
            f" color: {theme.TEXT}; font-size: 15px; }}"
            f"#replaybar QPushButton, #replaybar QComboBox {{ background: {theme.BUTTON};"
            f" border: 1px solid {theme.BUTTON_EDGE}; padding: 4px 10px; }}"
        )
        self.mode = QLabel("REPLAY")
        self.mode.setStyleSheet(f"color: {theme.PROBLEM_COLOUR}; font-weight: bold;")
        self.play = QPushButton("Pause")
        self.play.clicked.connect(self.toggle)
        self.speed = QComboBox()
        for speed in REPLAY_SPEEDS:
            self.speed.addItem(speed_label(speed), speed)
        speed = controller.source.speed
        self.speed.setCurrentIndex(REPLAY_SPEEDS.index(speed) if speed in REPLAY_SPEEDS else 1)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.timeline = Timeline(controller.duration_s, marks, self.seek)
        self.position = QLabel(position_text(0, controller.duration_s))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.mode)
        layout.addWidget(self.play)
        layout.addWidget(self.speed)
        layout.addWidget(self.timeline, 1)
        layout.addWidget(self.position)
        for key, slot in (
            ("Space", self.toggle),
            ("[", lambda: self.step_speed(-1)),
            ("]", lambda: self.step_speed(+1)),
        ):
            QShortcut(QKeySequence(key), self).activated.connect(slot)

    def step_speed(self, direction: int) -> None:
        index = min(max(0, self.speed.currentIndex() + direction), self.speed.count() - 1)
        self.speed.setCurrentIndex(index)

    def toggle(self) -> None:
        if self.controller.source.paused:
            self.controller.resume()
        else:
            self.controller.pause()
        self.refresh()

    def _speed_changed(self, index: int) -> None:
        self.controller.set_speed(self.speed.itemData(index))

    def seek(self, t: float) -> None:
        self.controller.seek(t)
        self.refresh()

    def refresh(self) -> None:
        t = self.controller.pipeline.t
        self.timeline.set_position(t)
        text = position_text(t, self.controller.duration_s)
        if self.position.text() != text:
            self.position.setText(text)
        label = "Play" if self.controller.source.paused else "Pause"
        if self.play.text() != label:
            self.play.setText(label)
