"""Large numeric tiles: label, value, unit; greyed when stale, dashed when missing."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFrame, QLabel, QVBoxLayout

from monitor.display import TileText
from monitor.numerics import ValueState
from monitor.ui import theme


class NumericTile(QFrame):
    def __init__(self, label: str, unit: str, colour: str) -> None:
        super().__init__()
        self.colour = colour
        self.setObjectName("tile")
        self.setStyleSheet(f"#tile {{ background: {theme.PANEL}; border-radius: 6px; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        self.label = QLabel(f"{label}  {unit}")
        self.label.setStyleSheet(f"color: {colour}; font-size: 18px; font-weight: bold;")
        self.value = QLabel("--")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label)
        layout.addWidget(self.value, 1)
        self._state: ValueState | None = None
        self.show_text(TileText("--", ValueState.MISSING))

    def show_text(self, tile: TileText) -> None:
        if self.value.text() != tile.text:
            self.value.setText(tile.text)
        if tile.state != self._state:
            self._state = tile.state
            colour = theme.STALE if tile.state is ValueState.STALE else self.colour
            self.value.setStyleSheet(f"color: {colour}; font-size: 88px; font-weight: bold;")
