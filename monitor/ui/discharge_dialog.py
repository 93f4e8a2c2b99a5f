"""Discharge and sign-off: the checklist of monitor.present.discharge_view painted, the
nurse's name, and the reason a sign-off over an unmet criterion needs."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QDialog, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from monitor.discharge import DischargeAssessment
from monitor.present.discharge_view import checklist, sign_off_args, sign_off_summary
from monitor.ui import theme

Send = Callable[..., object]
COLOURS = {"met": theme.OK_COLOUR, "unmet": theme.FAILED_COLOUR, "unknown": theme.PROBLEM_COLOUR}


class DischargeDialog(QDialog):
    def __init__(
        self, assessment: DischargeAssessment, send: Send, style: str, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Discharge and sign-off")
        self.setStyleSheet(style)
        self.assessment = assessment
        self.send = send
        layout = QVBoxLayout(self)
        title = QLabel("<b>Discharge criteria</b>")
        layout.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        self.rows: list[tuple[QLabel, QLabel, QLabel, QLabel]] = []
        for i, row in enumerate(checklist(assessment)):
            colour = COLOURS[row.state]
            mark = QLabel(row.mark)
            mark.setStyleSheet(f"color: {colour}; font-size: 24px; font-weight: bold;")
            label, value = QLabel(row.label), QLabel(row.value)
            value.setStyleSheet(f"color: {theme.DIM_TEXT};")
            verdict = QLabel(row.verdict)
            verdict.setStyleSheet(f"color: {colour}; font-weight: bold;")
            for column, widget in enumerate((mark, label, value, verdict)):
                grid.addWidget(widget, i, column)
            self.rows.append((mark, label, value, verdict))
        layout.addLayout(grid)
        self.summary = QLabel(sign_off_summary(assessment))
        layout.addWidget(self.summary)
        self.by = QLineEdit()
        self.by.setPlaceholderText("Signed off by (name)")
        layout.addWidget(self.by)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason for signing off with criteria unmet")
        self.reason.setEnabled(bool(assessment.unmet()))
        self.reason.setVisible(bool(assessment.unmet()))
        layout.addWidget(self.reason)
        self.problem = QLabel("")
        self.problem.setStyleSheet(f"color: {theme.PROBLEM_COLOUR};")
        layout.addWidget(self.problem)
        self.sign = QPushButton("Sign off")
        self.sign.clicked.connect(self.submit)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        layout.addWidget(self.sign)
        layout.addWidget(cancel)

    def submit(self) -> None:
        try:
            args = sign_off_args(self.assessment, self.by.text(), self.reason.text())
        except ValueError as exc:
            self.problem.setText(str(exc))
            return
        self.send("mark_event", **args)
        self.accept()
