"""Numeric tiles: label, value, unit, alarm limits in small type; greyed when stale,
dashed when missing, and in the alarm's colour (flashing) while their value is in alarm.

Tiles only paint what the `monitor.present` modules (display, alarm_view, nibp_view) decide.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from monitor.numerics import ValueState
from monitor.present.alarm_view import TileAlarmView
from monitor.present.display import DASHES, FontSizes, TileText
from monitor.present.nibp_view import NibpAge, NibpTileView
from monitor.ui import theme
from monitor.ui.alarm_bar import InactivationIcon


def _label(
    text: str = "", align: Qt.AlignmentFlag | None = None, fixed_text: bool = False
) -> QLabel:
    """A label whose changing text never resizes the layout: the screen's geometry is set by
    the window size alone (a new number must not shift the tiles, nor force a full repaint).
    Such labels share their row by stretch factors; `fixed_text` ones keep their own width."""
    label = QLabel(text)
    if not fixed_text:
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if align is not None:
        label.setAlignment(align)
    return label


class _Tile(QFrame):
    """The frame, header and colouring shared by every tile."""

    def __init__(self, key: str, title: str, unit: str, colour: str) -> None:
        super().__init__()
        self.key = key
        self.colour = colour
        self.setObjectName(f"tile_{key}")
        self.alarm = TileAlarmView(None, False)
        self.fonts: FontSizes | None = None
        self._style_key: tuple | None = None
        self.title = _label(title, fixed_text=True)
        self.unit = _label(unit, fixed_text=True)
        self.limits = _label("", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        # The crossed bell (IEC 60417-5319, alarm off): one of this tile's alarms is off.
        self.off_icon = InactivationIcon()
        self.off_icon.setObjectName("alarm_off")
        self.off_icon.setVisible(False)
        self.alarms_off: tuple[str, ...] = ()
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(8)
        header.addWidget(self.title)
        header.addWidget(self.unit)
        header.addWidget(self.off_icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.limits, 1)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(10, 4, 10, 4)
        self.body.setSpacing(0)
        self.body.addLayout(header)

    # --- what the window calls -------------------------------------------------
    def set_limits(self, text: str) -> None:
        if self.limits.text() != text:
            self.limits.setText(text)

    def set_alarms_off(self, ids: tuple[str, ...], names: str = "") -> None:
        """Show the crossed bell while any of `ids` (this tile's alarms) is switched off."""
        if ids == self.alarms_off:
            return
        self.alarms_off = ids
        self.off_icon.set_icon("alarm_off" if ids else "", theme.PROBLEM_COLOUR)
        self.off_icon.setVisible(bool(ids))
        self.off_icon.setToolTip(f"Alarm off: {names or ', '.join(ids)}")

    def set_alarm(self, view: TileAlarmView) -> None:
        if view != self.alarm:
            self.alarm = view
            self._restyle()

    def apply_fonts(self, fonts: FontSizes) -> None:
        self.fonts = fonts
        side = round(fonts.label_px * 1.4)
        self.off_icon.setFixedSize(QSize(side, side))
        self._style_key = None
        self._restyle()

    @property
    def background(self) -> str:
        """The tile's fill now: the alarm colour in the bright phase of its flash."""
        return self.alarm.colour if (self.alarm.colour and self.alarm.lit) else theme.PANEL

    def value_colour(self, state: ValueState | NibpAge) -> str:
        if self.alarm.colour and self.alarm.lit:
            return "#000000"
        if state in (ValueState.STALE, NibpAge.STALE):
            return theme.STALE
        if self.alarm.colour:
            return self.alarm.colour
        return self.colour

    # --- painting ------------------------------------------------------------
    def _state(self) -> ValueState | NibpAge:
        raise NotImplementedError

    def _value_rules(self, fonts: FontSizes, colour: str) -> str:
        raise NotImplementedError

    def _restyle(self) -> None:
        fonts = self.fonts
        if fonts is None:
            return
        colour = self.value_colour(self._state())
        key = (self.background, colour, fonts)
        if key == self._style_key:
            return
        self._style_key = key
        in_alarm = bool(self.alarm.colour and self.alarm.lit)
        ink = "#000000" if in_alarm else self.colour
        small = "#000000" if in_alarm else theme.DIM_TEXT
        border = self.alarm.colour or theme.PANEL_EDGE
        name = self.objectName()
        self.setStyleSheet(
            f"#{name} {{ background: {self.background}; border: 2px solid {border};"
            f" border-radius: 6px; }}"
            f"#{name} QLabel {{ background: transparent; font-family: '{theme.FONT_FAMILY}'; }}"
            f"#{name} QLabel#title {{ color: {ink}; font-size: {fonts.label_px}px;"
            f" font-weight: bold; }}"
            f"#{name} QLabel#unit {{ color: {small}; font-size: {fonts.small_px}px; }}"
            f"#{name} QLabel#limits {{ color: {small}; font-size: {fonts.small_px}px; }}"
            f"#{name} QLabel#note {{ color: {small}; font-size: {fonts.small_px}px; }}"
            + self._value_rules(fonts, colour)
        )


class NumericTile(_Tile):
    """One number (SpO2, PR, PI, RR)."""

    def __init__(self, key: str, title: str, unit: str, colour: str, large: bool = True) -> None:
        super().__init__(key, title, unit, colour)
        self.large = large
        self.title.setObjectName("title")
        self.unit.setObjectName("unit")
        self.limits.setObjectName("limits")
        self.value = _label(DASHES, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setObjectName("value")
        self.note = _label("", Qt.AlignmentFlag.AlignRight)
        self.note.setObjectName("note")
        self.body.addWidget(self.value, 1)
        self.body.addWidget(self.note)
        self.state = ValueState.MISSING

    def show_text(self, tile: TileText, note: str = "") -> None:
        if self.value.text() != tile.text:
            self.value.setText(tile.text)
        if self.note.text() != note:
            self.note.setText(note)
        if tile.state != self.state:
            self.state = tile.state
            self._restyle()

    def _state(self) -> ValueState:
        return self.state

    def _value_rules(self, fonts: FontSizes, colour: str) -> str:
        size = fonts.value_px if self.large else fonts.secondary_px
        return (
            f"#{self.objectName()} QLabel#value {{ color: {colour}; font-size: {size}px;"
            f" font-weight: bold; }}"
        )


class NibpTile(_Tile):
    """Sys/Dia large, MAP beside, the reading's time and age, cuff pressure, mode."""

    def __init__(self) -> None:
        super().__init__("nibp", "NIBP", "mmHg", theme.NIBP_COLOUR)
        self.title.setObjectName("title")
        self.unit.setObjectName("unit")
        self.limits.setObjectName("limits")
        self.main = _label(f"{DASHES}/{DASHES}", Qt.AlignmentFlag.AlignRight)
        self.main.setObjectName("value")
        self.map = _label(f"({DASHES})", Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self.map.setObjectName("map")
        values = QHBoxLayout()
        values.setSpacing(12)
        values.addWidget(self.main, 5)
        values.addWidget(self.map, 2)
        self.body.addLayout(values, 1)
        self.when = _label("no reading yet")
        self.when.setObjectName("note")
        self.cuff = _label("", Qt.AlignmentFlag.AlignRight)
        self.cuff.setObjectName("cuff")
        footer = QHBoxLayout()
        footer.addWidget(self.when, 1)
        footer.addWidget(self.cuff, 1)
        self.body.addLayout(footer)
        self.mode = _label("Manual")
        self.mode.setObjectName("note")
        self.problem = _label("", Qt.AlignmentFlag.AlignRight)
        self.problem.setObjectName("problem")
        footer2 = QHBoxLayout()
        footer2.addWidget(self.mode, 1)
        footer2.addWidget(self.problem, 1)
        self.body.addLayout(footer2)
        self.view: NibpTileView | None = None
        self.age = NibpAge.MISSING

    def show_view(self, view: NibpTileView) -> None:
        if view == self.view:
            return
        self.view = view
        for label, text in (
            (self.main, view.main),
            (self.map, view.map_text),
            (self.when, view.when),
            (self.cuff, view.cuff),
            (self.mode, view.mode),
            (self.problem, view.problem),
        ):
            if label.text() != text:
                label.setText(text)
        if view.state != self.age:
            self.age = view.state
            self._restyle()

    def _state(self) -> NibpAge:
        return self.age

    def _value_rules(self, fonts: FontSizes, colour: str) -> str:
        name = self.objectName()
        # "888/888 (888)" must fit the tile's width at every window size
        main = round(fonts.value_px * 0.78)
        map_px = round(fonts.secondary_px * 0.8)
        cuff = "#000000" if (self.alarm.colour and self.alarm.lit) else theme.TEXT
        return (
            f"#{name} QLabel#value {{ color: {colour}; font-size: {main}px; font-weight: bold; }}"
            f"#{name} QLabel#map {{ color: {colour}; font-size: {map_px}px;"
            f" font-weight: bold; }}"
            f"#{name} QLabel#cuff {{ color: {cuff}; font-size: {fonts.label_px}px;"
            f" font-weight: bold; }}"
            f"#{name} QLabel#problem {{ color: {theme.PROBLEM_COLOUR};"
            f" font-size: {fonts.small_px}px; }}"
        )
