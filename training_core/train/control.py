"""The thread-safe remote control of a training run: pause, resume, stop."""

from __future__ import annotations

import threading


class TrainingControl:
    """Requests from any thread (GUI, signal handler); the trainer acts at the next iteration boundary.

    A paused trainer blocks in ``wait_while_paused`` until ``resume`` or ``stop``.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pause = False
        self._stop = False

    def pause(self) -> None:
        with self._cond:
            self._pause = True

    def resume(self) -> None:
        with self._cond:
            self._pause = False
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    @property
    def pause_requested(self) -> bool:
        with self._cond:
            return self._pause and not self._stop

    @property
    def stop_requested(self) -> bool:
        with self._cond:
            return self._stop

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; True when training should go on, False when stopped."""
        with self._cond:
            self._cond.wait_for(lambda: not self._pause or self._stop, timeout)
            return not self._stop
