"""A worker QObject on its own QThread, cleaned up when its ``done`` signal ends the thread."""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, QObject, QThread, Signal


class ThreadSession(QObject):
    ended = Signal()

    def __init__(self, worker: QObject, name: str, parent=None):
        """``worker`` needs a ``run`` slot and a ``done`` signal emitted when run returns."""
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.worker = worker
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        worker.done.connect(self.thread.quit)
        self.thread.finished.connect(self._ended)
        self.has_ended = False

    def start(self) -> None:
        self.thread.start()

    def wait(self, timeout_ms: int) -> bool:
        return self.thread.wait(timeout_ms)

    def wait_ended(self) -> None:
        """Wait until the thread has ended and its last signals have been handled, keeping the
        window painted meanwhile (an event loop that the ``ended`` signal quits; no polling)."""
        if self.has_ended:
            return
        loop = QEventLoop()
        self.ended.connect(loop.quit)
        loop.exec()  # ``ended`` is delivered on this (the GUI) thread, so it cannot come before exec

    def _ended(self) -> None:
        # ``finished`` comes from the thread just before it returns; the QThread object (Python's, no
        # parent) goes with this session, so wait those last instants out: freeing a QThread whose
        # thread is still on its way out is a crash.
        self.thread.wait()
        self.has_ended = True
        self.worker.deleteLater()
        self.ended.emit()
        self.deleteLater()  # the panel forgets the session now; Qt frees it and its thread
