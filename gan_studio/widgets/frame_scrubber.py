"""A slider over a clip's length, under the preview, to choose the frame that is shown converted."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

STEP_MS = 40  # about a frame at 25 frames/s: the arrow keys move by one


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:05.2f}"


class FrameScrubber(QWidget):
    frame_chosen = Signal(float)  # seconds into the clip

    def __init__(self, parent=None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setSingleStep(STEP_MS)
        self.slider.setPageStep(1000)
        self.slider.setToolTip("Choose the frame of the clip to preview")
        self.time = QLabel(_clock(0))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.time)
        self.length_s = 0.0
        self.slider.valueChanged.connect(self._moved)
        self.set_length(0.0)

    def set_length(self, seconds: float) -> None:
        """A new clip: its length, the slider back at its first frame (without choosing a frame)."""
        self.length_s = max(0.0, seconds)
        self.slider.blockSignals(True)
        self.slider.setRange(0, int(self.length_s * 1000))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._show_time()

    def seconds(self) -> float:
        return self.slider.value() / 1000

    def _moved(self, _value: int) -> None:
        self._show_time()
        self.frame_chosen.emit(self.seconds())

    def _show_time(self) -> None:
        self.time.setText(f"{_clock(self.seconds())} / {_clock(self.length_s)}")
