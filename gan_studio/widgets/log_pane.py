"""The log pane: Python logging records from any thread, shown on the GUI thread."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit


class _Bridge(QObject):
    record = Signal(str, int)


class QtLogHandler(logging.Handler):
    """A logging handler that forwards formatted records through a (queued) Qt signal."""

    def __init__(self):
        super().__init__()
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s  %(levelname)s  %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.record.emit(self.format(record), record.levelno)
        except RuntimeError:  # the pane is gone (app closing)
            pass


class LogPane(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.handler = QtLogHandler()
        self.handler.setLevel(logging.INFO)
        self.handler.bridge.record.connect(self.append_record)

    def append_record(self, text: str, level: int) -> None:
        if level >= logging.ERROR:
            self.appendHtml(f"<span style='color:#c0392b'>{_escape(text)}</span>")
        elif level >= logging.WARNING:
            self.appendHtml(f"<span style='color:#b9770e'>{_escape(text)}</span>")
        else:
            self.appendPlainText(text)


def _escape(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "<br>")
