"""A logout, a shutdown or a closed terminal ends the app as closing its window does: training pauses with a
checkpoint first.

SIGTERM (shutdown, logout, `kill`), SIGHUP (the terminal it was started from closed) and SIGINT
(Ctrl-C there) each ask the window to save and quit, without the question a person closing it gets.
Python runs signal handlers only between its own instructions, and Qt's event loop may wait in C++
for a long time, so a light timer wakes the interpreter a few times a second.
"""

from __future__ import annotations

import logging
import signal

from PySide6.QtCore import QTimer

log = logging.getLogger(__name__)
SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")
WAKE_MS = 250


def quit_on_signals(window) -> dict:
    """Install the handlers for ``window`` (a MainWindow); returns the previous handlers by signal number."""

    def handler(signum, frame):
        log.info("%s: pausing any training with a checkpoint, then quitting", signal.Signals(signum).name)
        QTimer.singleShot(0, window.quit_saving)  # on the GUI thread, outside the handler

    previous = {}
    for name in SIGNALS:
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, handler)
    waker = QTimer(window)
    waker.timeout.connect(lambda: None)
    waker.start(WAKE_MS)
    return previous
