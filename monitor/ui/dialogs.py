"""The nurse's dialogs: alarm limits, one-tap events, session setup. Each sends commands
through the `send` callable it is given (the window's, which goes to the command bus);
what to send is decided by monitor.present.actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from monitor.alarms import LimitSetting, Preset
from monitor.discharge import DischargeAssessment
from monitor.present.actions import EVENT_CHOICES, EventChoice, LimitEdit, event_args
from monitor.present.limits_view import LimitRow, limit_groups, plan_changes
from monitor.session import SessionModel
from monitor.ui import theme
from monitor.ui.discharge_dialog import DischargeDialog

Send = Callable[..., object]

DIALOG_STYLE = (
    f"QDialog {{ background: {theme.PANEL}; color: {theme.TEXT}; }}"
    f"QLabel, QCheckBox {{ color: {theme.TEXT}; font-size: 16px; }}"
    f"QPushButton {{ background: {theme.BUTTON}; color: {theme.TEXT};"
    f" border: 1px solid {theme.BUTTON_EDGE}; border-radius: 4px; padding: 10px;"
    " font-size: 16px; min-height: 28px; }"
    f"QPushButton:pressed {{ background: {theme.BUTTON_EDGE}; }}"
    f"QTableWidget {{ background: {theme.BACKGROUND}; color: {theme.TEXT};"
    f" gridline-color: {theme.PANEL_EDGE}; font-size: 15px; }}"
    f"QHeaderView::section {{ background: {theme.BUTTON}; color: {theme.TEXT}; padding: 4px; }}"
    f"QLineEdit, QDoubleSpinBox {{ background: {theme.BACKGROUND}; color: {theme.TEXT};"
    " font-size: 16px; padding: 4px; }"
)

LIMITS_STYLE = (
    f"QScrollArea, #limits_body {{ background: {theme.PANEL}; border: none; }}"
    f"QLabel#heading {{ color: {theme.TEXT}; font-size: 18px; font-weight: bold;"
    f" padding-top: 10px; border-bottom: 1px solid {theme.PANEL_EDGE}; }}"
    f"QLabel#column, QLabel#note, QLabel#always {{ color: {theme.DIM_TEXT}; font-size: 14px; }}"
    f"QLabel#problem {{ color: {theme.PROBLEM_COLOUR}; font-size: 16px; }}"
    "QCheckBox::indicator { width: 20px; height: 20px; border-radius: 3px; }"
    f"QCheckBox::indicator:checked {{ background: {theme.OK_COLOUR};"
    f" border: 2px solid {theme.OK_COLOUR}; }}"
    f"QCheckBox::indicator:unchecked {{ background: {theme.BACKGROUND};"
    f" border: 2px solid {theme.PROBLEM_COLOUR}; }}"
)

# What each ask-for-a-value event needs: (prompt, decimals, minimum, maximum) or text.
ASK_NUMBERS: dict[str, tuple[str, int, float, float]] = {
    "dose_mg_per_kg_h": ("Dose (mg/kg/h)", 2, 0.05, 5.0),
    "dose_mg": ("Bolus (mg)", 1, 1.0, 500.0),
    "score": ("Modified Aldrete score (0-10)", 0, 0.0, 10.0),
}


class LimitsDialog(QDialog):
    """A nurse's limits screen: grouped as the tiles are, plain names, the current value and
    the allowed range beside each limit, every delay disclosed (IEC 60601-1-8), refusals in
    words. Controls are bounded by the preset's ranges; critical and technical alarms have
    no off switch. Apply sends one `set_limit` per alarm changed (monitor.present.limits_view
    decides what and in which order; this only paints it)."""

    def __init__(
        self,
        preset: Preset,
        limits: Mapping[str, LimitSetting],
        send: Send,
        current: Mapping[str, object] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alarm limits")
        self.setStyleSheet(DIALOG_STYLE + LIMITS_STYLE)
        self.preset = preset
        self.limits = dict(limits)
        self.send = send
        self.groups = limit_groups(preset, self.limits, current or {})
        self.thresholds: dict[str, QDoubleSpinBox] = {}
        self.delays: dict[str, QDoubleSpinBox] = {}
        self.apneas: dict[str, QDoubleSpinBox] = {}
        self.enabled: dict[str, QCheckBox] = {}
        self.headings: list[str] = []
        self.names: dict[str, QLabel] = {}
        body = QWidget()
        body.setObjectName("limits_body")
        self.grid = QGridLayout(body)
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(4)
        for column, title in enumerate(("Alarm", "Now", "Limit", "Allowed", "Delay", "On")):
            header = QLabel(title)
            header.setObjectName("column")
            self.grid.addWidget(header, 0, column)
        row = 1
        for group in self.groups:
            heading = QLabel(group.heading)
            heading.setObjectName("heading")
            self.headings.append(group.heading)
            self.grid.addWidget(heading, row, 0, 1, 6)
            row += 1
            for item in group.rows:
                self._add_row(row, item)
                row += 1
                if item.apnea_s is not None:
                    self._add_apnea_row(row, item)
                    row += 1
        self.grid.setColumnStretch(0, 1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area = scroll
        note = QLabel(
            "▲▲/▼▼ critical limits (high priority) can never be switched off, and stay beyond "
            "their ▲/▼ partner. A condition "
            "must hold for its whole delay before the alarm sounds; technical alarms are "
            "always on. Every change is logged."
        )
        note.setWordWrap(True)
        note.setObjectName("note")
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setObjectName("problem")
        buttons = QDialogButtonBox()
        self.apply_button = buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button = buttons.addButton(
            "Restore preset", QDialogButtonBox.ButtonRole.ResetRole
        )
        close = buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.apply_button.clicked.connect(self.apply)
        self.restore_button.clicked.connect(self.restore)
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(1180, 760)  # every column whole, the scroll bar beside them

    def _spin(self, low: float, high: float, value: float, decimals: int, suffix: str):
        box = QDoubleSpinBox()
        box.setRange(low, high)
        box.setDecimals(decimals)
        box.setValue(value)
        box.setSuffix(f" {suffix}" if suffix else "")
        box.setMinimumWidth(130)
        return box

    def _add_row(self, row: int, item: LimitRow) -> None:
        marker = f"{item.marker} " if item.marker else ""
        name = QLabel(
            f"{item.name}<br><span style='font-size: 11px; color: {theme.DIM_TEXT};'>"
            f"{marker}{item.alarm_id} · {item.priority} priority</span>"
        )
        name.setTextFormat(Qt.TextFormat.RichText)
        name.setWordWrap(True)
        name.setMinimumWidth(180)
        self.names[item.alarm_id] = name
        self.grid.addWidget(name, row, 0)
        self.grid.addWidget(QLabel(item.current_text), row, 1)
        if item.threshold is not None and item.low is not None and item.high is not None:
            box = self._spin(item.low, item.high, item.threshold, item.decimals, item.unit)
            self.thresholds[item.alarm_id] = box
            self.grid.addWidget(box, row, 2)
            self.grid.addWidget(QLabel(item.range_text), row, 3)
        if item.delay_low is not None and item.delay_high is not None:
            delay = self._spin(item.delay_low, item.delay_high, item.delay_s, 0, "s")
            delay.setToolTip(f"allowed {item.delay_low:g}-{item.delay_high:g} s")
            self.delays[item.alarm_id] = delay
            self.grid.addWidget(delay, row, 4)
        else:
            self.grid.addWidget(QLabel(item.delay_text), row, 4)
        if item.may_switch_off:
            check = QCheckBox()
            check.toggled.connect(lambda on, c=check: c.setText("on" if on else "OFF"))
            check.setChecked(item.enabled)
            check.setText("on" if item.enabled else "OFF")
            self.enabled[item.alarm_id] = check
            self.grid.addWidget(check, row, 5)
        else:
            always = QLabel("always on")
            always.setObjectName("always")
            self.grid.addWidget(always, row, 5)

    def _add_apnea_row(self, row: int, item: LimitRow) -> None:
        assert item.apnea_s is not None and item.apnea_low is not None
        assert item.apnea_high is not None
        self.grid.addWidget(QLabel(f"{item.name}: no breath for"), row, 0)
        box = self._spin(item.apnea_low, item.apnea_high, item.apnea_s, 0, "s")
        self.apneas[item.alarm_id] = box
        self.grid.addWidget(box, row, 2)
        self.grid.addWidget(QLabel(f"{item.apnea_low:g}-{item.apnea_high:g} s"), row, 3)

    def edits(self) -> dict[str, LimitEdit]:
        return {
            alarm_id: LimitEdit(
                self.thresholds[alarm_id].value() if alarm_id in self.thresholds else None,
                self.delays[alarm_id].value() if alarm_id in self.delays else None,
                self.enabled[alarm_id].isChecked() if alarm_id in self.enabled else True,
                self.apneas[alarm_id].value() if alarm_id in self.apneas else None,
            )
            for alarm_id in self.limits
        }

    def apply(self) -> None:
        """Send the changes, or nothing and the reasons in words."""
        changes, problems = plan_changes(self.preset, self.limits, self.edits())
        if problems:
            self.problem.setText("Not applied: " + " ".join(p + "." for p in problems))
            return
        for args in changes:
            self.send("set_limit", **args)
        self.accept()

    def restore(self) -> None:
        self.send("restore_preset")
        self.accept()


class EventDialog(QDialog):
    """A grid of one-tap event buttons; those needing a value ask for it first."""

    def __init__(
        self,
        send: Send,
        parent=None,
        defaults: Mapping[str, float] | None = None,
        discharge: Callable[[], DischargeAssessment] | None = None,
    ) -> None:
        """`defaults` pre-fill the values asked for (e.g. the running or planned dose);
        `discharge` gives the assessment the sign-off checklist shows."""
        super().__init__(parent)
        self.defaults = dict(defaults or {})
        self.discharge = discharge
        self.checklist: DischargeDialog | None = None
        self.setWindowTitle("Mark event")
        self.setStyleSheet(DIALOG_STYLE)
        self.send = send
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        columns = 4
        for i, choice in enumerate(EVENT_CHOICES):
            button = QPushButton(choice.label)
            button.clicked.connect(lambda _=False, c=choice: self.choose(c))
            grid.addWidget(button, i // columns, i % columns)
            self.buttons[choice.label] = button
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        last = len(EVENT_CHOICES)
        grid.addWidget(cancel, last // columns, last % columns)

    def ask(self, choice: EventChoice) -> object:
        """The value a choice needs, from an input dialog (None if cancelled)."""
        if choice.ask in ASK_NUMBERS:
            prompt, decimals, low, high = ASK_NUMBERS[choice.ask]
            start = self.defaults.get(choice.ask, low)
            value, ok = QInputDialog.getDouble(
                self, choice.label, prompt, start, low, high, decimals
            )
            return value if ok else None
        label = choice.ask or choice.label  # asked only for a choice with a field to give
        text, ok = QInputDialog.getText(self, choice.label, label.capitalize() + ":")
        return text.strip() if ok and text.strip() else None

    def choose(self, choice: EventChoice, answer: object = None) -> None:
        if choice.kind == "sign_off" and self.discharge is not None:
            self.checklist = DischargeDialog(self.discharge(), self.send, DIALOG_STYLE, self)
            self.checklist.show()  # the checklist first: sign-off is decided there
            return
        if choice.ask is not None and answer is None:
            answer = self.ask(choice)
            if answer is None:
                return
        self.send("mark_event", **event_args(choice, answer))
        self.accept()


class SessionSetupDialog(QDialog):
    """Patient id, weight and planned dose: one `session_setup` command."""

    def __init__(self, send: Send, session: SessionModel | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Session setup")
        self.setStyleSheet(DIALOG_STYLE)
        self.send = send
        self.patient_id = QLineEdit((session and session.patient_id) or "")
        self.weight = QDoubleSpinBox()
        self.weight.setRange(0, 300)
        self.weight.setDecimals(1)
        self.weight.setSuffix(" kg")
        self.weight.setValue((session and session.weight_kg) or 0.0)
        self.dose = QDoubleSpinBox()
        self.dose.setRange(0, 5)
        self.dose.setDecimals(2)
        self.dose.setSingleStep(0.05)
        self.dose.setSuffix(" mg/kg/h")
        planned = session.planned_dose_mg_per_kg_h if session is not None else None
        self.dose.setValue(float(planned or 0.5))
        form = QFormLayout(self)
        form.addRow("Patient id", self.patient_id)
        form.addRow("Weight", self.weight)
        form.addRow("Planned dose", self.dose)
        self.problem = QLabel("")
        self.problem.setStyleSheet(f"color: {theme.PROBLEM_COLOUR};")
        form.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.patient_id.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        patient = self.patient_id.text().strip()
        if not patient or self.weight.value() <= 0:
            self.problem.setText("Patient id and weight are needed.")
            return
        self.send(
            "session_setup",
            patient_id=patient,
            weight_kg=self.weight.value(),
            planned_dose_mg_per_kg_h=self.dose.value(),
        )
        self.accept()
