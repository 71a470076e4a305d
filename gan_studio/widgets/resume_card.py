"""The Train tab's card for an unfinished run: name, progress, when it stopped, its latest sample, Resume / Discard."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from training_core.humanize import ago

# "paused" in the library is a run that ended with a checkpoint (Stop, Pause then quit): nothing waits.
STATE_WORDS = {"paused": "Stopped", "interrupted": "Interrupted", "failed": "Stopped by an error"}
THUMBNAIL_HEIGHT = 72


class ResumeCard(QFrame):
    """Shows one unfinished model of the library; says which one by its id in the signals."""

    resume_requested = Signal(str)
    discard_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("resumeCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#resumeCard { background: #fff8e1; border: 1px solid #e0c36a; border-radius: 6px; }"
            "#resumeCard QLabel { color: #4a3b00; }"
        )
        self.model_id = ""
        self.thumbnail = QLabel()
        self.thumbnail.setFixedHeight(THUMBNAIL_HEIGHT)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.thumbnail.setToolTip("The latest samples: input | output | target")
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.others = QLabel()
        self.others.setWordWrap(True)
        self.resume_button = QPushButton("Resume")
        self.discard_button = QPushButton("Discard…")
        self.discard_button.setToolTip("Delete this unfinished model and its checkpoints")
        self.resume_button.clicked.connect(lambda: self.resume_requested.emit(self.model_id))
        self.discard_button.clicked.connect(lambda: self.discard_requested.emit(self.model_id))
        buttons = QHBoxLayout()
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addWidget(self.thumbnail)
        layout.addLayout(buttons)
        layout.addWidget(self.others)
        self.hide()

    def show_runs(self, entries: list, now: datetime | None = None) -> None:
        """The most recently stopped of ``entries`` (unfinished models), and how many others wait."""
        if not entries:
            self.model_id = ""
            self.hide()
            return
        entries = sorted(entries, key=lambda e: e.record.updated, reverse=True)
        entry = entries[0]
        record = entry.record
        self.model_id = entry.id
        self.title.setText(f"<b>Unfinished: {html.escape(entry.name)}</b>")
        when = ago(record.updated, now) if record.updated else "at an unknown time"
        self.detail.setText(
            f"{STATE_WORDS.get(entry.state, entry.state.capitalize())} at iteration {record.iterations:,} of "
            f"{record.total_iterations:,} · {record.family} · stopped {when}"
        )
        self.others.setText(
            f"{len(entries) - 1} more unfinished model(s) on the Models tab." if len(entries) > 1 else ""
        )
        self.others.setVisible(len(entries) > 1)
        strip = QPixmap(str(entry.sample_path)) if entry.sample_path.exists() else QPixmap()
        self.thumbnail.setVisible(not strip.isNull())
        if not strip.isNull():
            # The strip's first row (input | output | target, square tiles): big enough to recognise.
            row = strip.copy(0, 0, strip.width(), min(strip.height(), strip.width() // 3))
            smooth = Qt.TransformationMode.SmoothTransformation
            self.thumbnail.setPixmap(row.scaledToHeight(THUMBNAIL_HEIGHT, smooth))
        self.show()

    def set_busy(self, busy: bool) -> None:
        for button in (self.resume_button, self.discard_button):
            button.setEnabled(not busy)
            button.setToolTip("A training run is going" if busy else "")
