"""One chair at the central: painted by hand from a `ChairTileView` (no child widgets,
no style sheets), and only when that view changed, so 32 of them stay cheap at 30 Hz.

Every rule (texts, ages, alarm colour and flash phase) is in
monitor.present.central_view; this only draws it.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QPainter, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from monitor.numerics import ValueState
from monitor.present.central_view import ChairTileView
from monitor.present.display import TileText
from monitor.present.nibp_view import NibpAge
from monitor.ui import theme

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTRE = Qt.AlignmentFlag.AlignCenter


def _font(px: float, bold: bool = False) -> QFont:
    font = QFont(theme.FONT_FAMILY)
    font.setPixelSize(max(7, round(px)))
    font.setBold(bold)
    return font


def _value_colour(text: TileText, colour: str) -> str:
    return theme.STALE if text.state is ValueState.STALE else colour


class ChairTile(QWidget):
    def __init__(self, chair: str, on_click: Callable[[str], object] | None = None) -> None:
        super().__init__()
        self.chair = chair
        self.on_click = on_click
        self.view: ChairTileView | None = None
        self.paints = 0  # how often it was drawn (tests, the bench)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(120, 75)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{chair}: click for its waves, alarms and trends")

    def show_view(self, view: ChairTileView) -> bool:
        """Repaint only when what it shows changed; True if it did."""
        if view == self.view:
            return False
        self.view = view
        self.update()
        return True

    @property
    def background(self) -> str:
        """The alarm band's fill now: the alarm colour in the bright phase of its flash."""
        alarm = self.view.alarm if self.view else None
        return alarm.colour if alarm and alarm.colour and alarm.lit else theme.PANEL

    def mousePressEvent(self, event) -> None:
        if self.on_click is not None and event.button() == Qt.MouseButton.LeftButton:
            self.on_click(self.chair)

    def paintEvent(self, event) -> None:
        self.paints += 1
        view = self.view
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = float(self.width()), float(self.height())
        p.fillRect(QRectF(0, 0, w, h), QColor(theme.BACKGROUND))
        if view is None:
            return
        alarm = view.alarm
        lit = bool(alarm.colour and alarm.lit)
        edge = alarm.colour or theme.PANEL_EDGE
        border = max(2.0, h * 0.02) if alarm.colour else 1.0
        body = QRectF(border / 2, border / 2, w - border, h - border)
        p.setPen(QPen(QColor(edge), border))
        p.setBrush(QColor(theme.PANEL))
        p.drawRoundedRect(body, 6, 6)
        pad = max(4.0, w * 0.02)
        inner = body.adjusted(pad, 0, -pad, 0)

        # header: chair, patient, phase and its running time
        head_h = h * 0.17
        p.setPen(QColor(theme.TEXT))
        p.setFont(_font(min(head_h * 0.62, w / 11), bold=True))
        p.drawText(QRectF(inner.left(), body.top(), inner.width() * 0.4, head_h), LEFT, view.chair)
        p.setFont(_font(min(head_h * 0.48, w / 22)))
        p.setPen(QColor(theme.DIM_TEXT))
        p.drawText(QRectF(inner.left(), body.top(), inner.width(), head_h), RIGHT, view.phase)
        p.drawText(
            QRectF(inner.left(), body.top() + head_h * 0.85, inner.width(), head_h * 0.6),
            LEFT,
            view.patient,
        )

        # values: SpO2, PR, RR or EtCO2
        top = body.top() + head_h * 1.45
        band_h = h * 0.17
        values_h = h - top - band_h - h * 0.14
        cell_w = inner.width() / 3
        label_px = max(8.0, min(values_h * 0.2, w / 28))
        value_px = min(values_h * 0.72, cell_w / 2.5)  # '188' fits its third
        if view.offline:
            p.setPen(QColor(theme.TEXT))
            ended = view.offline_text  # the longer SESSION ENDED in a smaller font
            p.setFont(_font(min(values_h * 0.6, w / max(7, len(ended))), bold=True))
            p.drawText(QRectF(inner.left(), top, inner.width(), values_h), CENTRE, ended)
        else:
            cells = (
                ("SpO₂", "%", view.spo2, theme.SPO2_COLOUR),
                ("PR", "/min", view.pr, theme.PR_COLOUR),
                (view.breath_label, view.breath_unit, view.breath, theme.CO2_COLOUR
                 if view.breath_label != "RR" else theme.RESP_COLOUR),
            )  # fmt: skip
            for i, (label, unit, text, colour) in enumerate(cells):
                x = inner.left() + i * cell_w
                p.setPen(QColor(colour))
                p.setFont(_font(label_px, bold=True))
                p.drawText(QRectF(x, top, cell_w, label_px * 1.3), LEFT, f"{label} {unit}")
                p.setPen(QColor(_value_colour(text, colour)))
                p.setFont(_font(value_px, bold=True))
                p.drawText(
                    QRectF(x, top + label_px, cell_w * 0.92, values_h - label_px), RIGHT, text.text
                )

        # NIBP with its age
        nibp_top = top + values_h
        nibp_h = h * 0.14
        stale = view.nibp_state in (NibpAge.STALE, NibpAge.INVALID)
        p.setPen(QColor(theme.STALE if stale else theme.NIBP_COLOUR))
        p.setFont(_font(min(nibp_h * 0.7, w / 19), bold=True))
        p.drawText(QRectF(inner.left(), nibp_top, inner.width() * 0.62, nibp_h), LEFT,
                   f"NIBP {view.nibp}")  # fmt: skip
        p.setPen(QColor(theme.DIM_TEXT))
        p.setFont(_font(min(nibp_h * 0.5, w / 26)))
        p.drawText(QRectF(inner.left(), nibp_top, inner.width(), nibp_h), RIGHT, view.nibp_when)

        # the alarm band: the chair's highest alarm, flashing in its colour
        band = QRectF(body.left() + border / 2, body.bottom() - band_h, body.width() - border,
                      band_h - border / 2)  # fmt: skip
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.background))
        p.drawRoundedRect(band, 4, 4)
        if alarm.colour is None:
            ink = theme.DIM_TEXT
        else:
            ink = (alarm.text_colour or "#000000") if lit else alarm.colour
        p.setPen(QColor(ink))
        p.setFont(_font(min(band_h * 0.6, w / 14), bold=alarm.colour is not None))
        text_rect = band.adjusted(pad, 0, -pad, 0)
        others = alarm.others_text
        if others:
            p.drawText(text_rect, RIGHT, others)
            text_rect = text_rect.adjusted(
                0, 0, -p.fontMetrics().horizontalAdvance(others) - pad, 0
            )
        message = p.fontMetrics().elidedText(
            alarm.message, Qt.TextElideMode.ElideRight, int(text_rect.width())
        )
        p.drawText(text_rect, LEFT, message)
