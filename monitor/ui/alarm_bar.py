"""The alarm bar across the top: the highest-priority alarm in its colour, flashing as
IEC 60601-1-8 asks, the count of the others, and the inactivation state with its icon
and countdown. It paints an `AlarmBarView`; every rule is in monitor.present.alarm_view.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QPointF, QRectF, QSize
from PyQt6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QWidget

from monitor.present.alarm_view import NO_ALARM_TEXT, AlarmBarView
from monitor.present.display import FontSizes
from monitor.ui import theme


class InactivationIcon(QWidget):
    """IEC 60417 style symbols: a bell, struck through (paused), crossed (off), or a tick."""

    def __init__(self) -> None:
        super().__init__()
        self.icon = ""
        self.colour = QColor(theme.TEXT)
        self.setFixedSize(QSize(40, 40))

    def set_icon(self, icon: str, colour: str) -> None:
        if icon != self.icon or QColor(colour) != self.colour:
            self.icon = icon
            self.colour = QColor(colour)
            self.setVisible(bool(icon))
            self.update()

    def paintEvent(self, event) -> None:
        if not self.icon:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = min(self.width(), self.height())
        pen = QPen(self.colour, max(2.0, s / 14))
        p.setPen(pen)
        if self.icon == "acknowledged":
            p.drawPolyline(
                QPolygonF(
                    [
                        QPointF(s * 0.2, s * 0.5),
                        QPointF(s * 0.42, s * 0.75),
                        QPointF(s * 0.82, s * 0.25),
                    ]
                )
            )
            return
        bell = QPainterPath()
        bell.moveTo(s * 0.2, s * 0.72)
        bell.cubicTo(s * 0.3, s * 0.6, s * 0.25, s * 0.2, s * 0.5, s * 0.18)
        bell.cubicTo(s * 0.75, s * 0.2, s * 0.7, s * 0.6, s * 0.8, s * 0.72)
        bell.closeSubpath()
        p.drawPath(bell)
        p.drawEllipse(QRectF(s * 0.44, s * 0.74, s * 0.12, s * 0.1))
        if self.icon.startswith("alarm"):  # alarm (not just audio) inactivated: a triangle mark
            p.drawLine(QPointF(s * 0.5, s * 0.05), QPointF(s * 0.5, s * 0.14))
        if self.icon.endswith("paused"):
            p.drawLine(QPointF(s * 0.12, s * 0.9), QPointF(s * 0.88, s * 0.1))
        else:  # off: crossed
            p.drawLine(QPointF(s * 0.12, s * 0.9), QPointF(s * 0.88, s * 0.1))
            p.drawLine(QPointF(s * 0.12, s * 0.1), QPointF(s * 0.88, s * 0.9))


class AlarmBar(QFrame):
    """Click (or tap) it for the list of every alarm on screen."""

    def __init__(self) -> None:
        super().__init__()
        self.on_click: Callable[[], None] | None = None
        self.setObjectName("alarmbar")
        self.message = QLabel(NO_ALARM_TEXT)
        self.message.setObjectName("message")
        # a long message is cut, never allowed to widen the window past the screen
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.others = QLabel("")
        self.others.setObjectName("others")
        self.icon = InactivationIcon()
        self.icon.setVisible(False)
        self.inactivation = QLabel("")
        self.inactivation.setObjectName("inactivation")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 2, 12, 2)
        layout.setSpacing(12)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.others)
        layout.addWidget(self.icon)
        layout.addWidget(self.inactivation)
        self.view: AlarmBarView | None = None
        self.fonts: FontSizes | None = None
        self._style_key: tuple | None = None

    def mousePressEvent(self, event) -> None:
        if self.on_click is not None:
            self.on_click()

    @property
    def background(self) -> str:
        view = self.view
        if view is None or view.colour is None or not view.lit:
            return theme.PANEL
        return view.colour

    @property
    def ink(self) -> str:
        view = self.view
        if view is None or view.colour is None:
            return theme.DIM_TEXT
        return (view.text_colour or "#000000") if view.lit else view.colour

    def apply_fonts(self, fonts: FontSizes) -> None:
        self.fonts = fonts
        size = round(fonts.bar_px * 1.4)
        self.icon.setFixedSize(QSize(size, size))
        self.setMinimumHeight(round(fonts.bar_px * 1.9))
        self._style_key = None
        self._restyle()

    def show_view(self, view: AlarmBarView) -> None:
        if view == self.view:
            return
        self.view = view
        for label, text in (
            (self.message, view.message),
            (self.others, view.others_text),
            (self.inactivation, view.inactivation_text),
        ):
            if label.text() != text:
                label.setText(text)
        self._restyle()

    def _restyle(self) -> None:
        fonts = self.fonts
        if fonts is None:
            return
        ink = self.ink
        key = (self.background, ink, fonts)
        if key != self._style_key:
            self._style_key = key
            self.setStyleSheet(
                f"#alarmbar {{ background: {self.background}; border-radius: 4px; }}"
                f"#alarmbar QLabel {{ background: transparent; color: {ink};"
                f" font-family: '{theme.FONT_FAMILY}'; }}"
                f"#alarmbar QLabel#message {{ font-size: {fonts.bar_px}px; font-weight: bold; }}"
                f"#alarmbar QLabel#others {{ font-size: {fonts.label_px}px; }}"
                f"#alarmbar QLabel#inactivation {{ font-size: {fonts.label_px}px;"
                f" font-weight: bold; }}"
            )
        icon_colour = ink if self.view and self.view.colour else theme.TEXT
        self.icon.set_icon(self.view.icon if self.view else "", icon_colour)
        self.icon.setVisible(bool(self.view and self.view.icon))
