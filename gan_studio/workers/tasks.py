"""Run a function on a worker thread and get its result back on the GUI thread, as a signal."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal
from shiboken6 import isValid

log = logging.getLogger(__name__)
_live: set = set()  # keeps each task's Python signal wrapper alive until its result is delivered


class _Signals(QObject):
    result = Signal(object)
    error = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn, args, signals):
        super().__init__()
        self.fn, self.args, self.signals = fn, args, signals

    def run(self):
        try:
            value = self.fn(*self.args)
        except Exception as exc:  # delivered to on_error on the GUI thread
            self._deliver(self.signals.error, exc)
        else:
            self._deliver(self.signals.result, value)

    @staticmethod
    def _deliver(signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the owner (and so the signal object) was deleted: nobody wants it
            pass


def run_task(
    fn: Callable,
    *args,
    owner: QObject,
    on_result: Callable | None = None,
    on_error: Callable | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Call ``fn(*args)`` in ``pool`` (the global one by default); callbacks run on the GUI thread.

    The callbacks are dropped if ``owner`` (the widget that asked) is deleted before the result comes.
    """
    # The signals belong to the application, not to the owner: a pool thread may be emitting on them
    # at the moment the owner is deleted (a window closed), and the owner's child would be freed under
    # it. Whether the owner is still there is asked on the GUI thread instead, when the result comes.
    signals = _Signals(QCoreApplication.instance())
    _live.add(signals)

    def deliver(callback: Callable):
        def call(value) -> None:
            _live.discard(signals)
            signals.deleteLater()
            if isValid(owner):
                callback(value)

        return call

    signals.result.connect(deliver(on_result or (lambda value: None)))
    signals.error.connect(deliver(on_error or (lambda exc: log.error("background task failed: %s", exc))))
    (pool or QThreadPool.globalInstance()).start(_Task(fn, args, signals))
