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
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
)

from monitor.discharge import DischargeAssessment
from monitor.present.actions import EVENT_CHOICES, EventChoice, LimitEdit, event_args, limit_changes
from monitor.ui import theme
from monitor.ui.discharge_dialog import DischargeDialog

Send = Callable[..., None]

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

# What each ask-for-a-value event needs: (prompt, decimals, minimum, maximum) or text.
ASK_NUMBERS: dict[str, tuple[str, int, float, float]] = {
    "dose_mg_per_kg_h": ("Dose (mg/kg/h)", 2, 0.05, 5.0),
    "dose_mg": ("Bolus (mg)", 1, 1.0, 500.0),
    "score": ("Modified Aldrete score (0-10)", 0, 0.0, 10.0),
}


class LimitsDialog(QDialog):
    """Every alarm with its threshold, delay (disclosed, IEC 60601-1-8) and on/off; a preset
    restore. Apply sends one `set_limit` per alarm the nurse changed."""

    COLUMNS = ("Alarm", "Priority", "Limit", "Unit", "Delay (s)", "On")

    def __init__(self, limits: Mapping[str, object], send: Send, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alarm limits")
        self.setStyleSheet(DIALOG_STYLE)
        self.limits = dict(limits)
        self.send = send
        self.table = QTableWidget(len(self.limits), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.thresholds: dict[str, QDoubleSpinBox] = {}
        self.delays: dict[str, QDoubleSpinBox] = {}
        self.enabled: dict[str, QCheckBox] = {}
        # Limits with a threshold first (what the nurse adjusts), then technical alarms.
        rows = sorted(
            self.limits.items(), key=lambda kv: (getattr(kv[1], "threshold", None) is None, kv[0])
        )
        for row, (alarm_id, setting) in enumerate(rows):
            self.table.setCellWidget(row, 0, QLabel(alarm_id))
            self.table.setCellWidget(row, 1, QLabel(str(getattr(setting, "priority", ""))))
            threshold = getattr(setting, "threshold", None)
            if threshold is not None:
                box = QDoubleSpinBox()
                box.setRange(-1000, 1000)
                box.setDecimals(0 if float(threshold).is_integer() else 1)
                box.setValue(float(threshold))
                self.thresholds[alarm_id] = box
                self.table.setCellWidget(row, 2, box)
            else:
                self.table.setCellWidget(row, 2, QLabel("—"))
            self.table.setCellWidget(row, 3, QLabel(str(getattr(setting, "unit", ""))))
            delay = getattr(setting, "delay_s", None)
            satseconds = getattr(setting, "satseconds", None)
            if satseconds is not None:  # SpO2: SatSeconds replaces the plain delay
                self.table.setCellWidget(row, 4, QLabel(f"SatSeconds {satseconds:g}"))
            elif delay is not None and threshold is None:  # technical: fixed by the standard
                self.table.setCellWidget(row, 4, QLabel(f"{delay:g}"))
            elif delay is not None:
                dbox = QDoubleSpinBox()
                dbox.setRange(0, 600)
                dbox.setDecimals(0)
                dbox.setValue(float(delay))
                self.delays[alarm_id] = dbox
                self.table.setCellWidget(row, 4, dbox)
            else:
                self.table.setCellWidget(row, 4, QLabel("none"))
            check = QCheckBox()
            check.setChecked(bool(getattr(setting, "enabled", True)))
            self.enabled[alarm_id] = check
            self.table.setCellWidget(row, 5, check)
        header = self.table.horizontalHeader()
        for column in range(len(self.COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        note = QLabel(
            "A condition must hold for its whole delay before the alarm sounds. "
            "Every change is logged."
        )
        note.setWordWrap(True)
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
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(900, 620)

    def edits(self) -> dict[str, LimitEdit]:
        return {
            alarm_id: LimitEdit(
                self.thresholds[alarm_id].value() if alarm_id in self.thresholds else None,
                self.delays[alarm_id].value() if alarm_id in self.delays else None,
                self.enabled[alarm_id].isChecked(),
            )
            for alarm_id in self.limits
        }

    def apply(self) -> None:
        for args in limit_changes(self.limits, self.edits()):  # type: ignore[arg-type]
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
        text, ok = QInputDialog.getText(self, choice.label, choice.ask.capitalize() + ":")
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

    def __init__(self, send: Send, session=None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Session setup")
        self.setStyleSheet(DIALOG_STYLE)
        self.send = send
        self.patient_id = QLineEdit(str(getattr(session, "patient_id", "") or ""))
        self.weight = QDoubleSpinBox()
        self.weight.setRange(0, 300)
        self.weight.setDecimals(1)
        self.weight.setSuffix(" kg")
        self.weight.setValue(float(getattr(session, "weight_kg", 0) or 0))
        self.dose = QDoubleSpinBox()
        self.dose.setRange(0, 5)
        self.dose.setDecimals(2)
        self.dose.setSingleStep(0.05)
        self.dose.setSuffix(" mg/kg/h")
        planned = getattr(session, "planned_dose_mg_per_kg_h", None)
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
