"""Runs a Trainer in a QThread and turns its events into Qt signals.

The trainer calls back on the worker thread after every iteration; step
metrics are throttled to a few per second and images are converted to
QImage here, so the GUI thread only paints. Pause, resume and stop go
straight to the engine's thread-safe control object.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from training_core.errors import GanStudioError
from training_core.train.control import TrainingControl
from training_core.train.events import (
    CheckpointSaved,
    Failed,
    Finished,
    Paused,
    Resumed,
    SampleImages,
    Started,
    StepMetrics,
    ValidationMetrics,
)

from .images import to_qimage
from .session import ThreadSession

log = logging.getLogger(__name__)
STEP_INTERVAL_S = 0.1  # at most ten step updates a second reach the GUI


class TrainingWorker(QObject):
    started = Signal(object)  # Started
    step = Signal(object)  # StepMetrics
    sample = Signal(object, int)  # QImage, iteration
    validation = Signal(object)  # ValidationMetrics
    checkpoint = Signal(object)  # CheckpointSaved
    paused = Signal(int)
    resumed = Signal(int)
    finished = Signal(object)  # Finished
    failed = Signal(object)  # Failed
    done = Signal()  # the thread may end

    def __init__(self, make_trainer: Callable):
        """``make_trainer(on_event=..., control=...)`` builds the Trainer (on the worker thread)."""
        super().__init__()
        self.make_trainer = make_trainer
        self.control = TrainingControl()
        self.trainer = None
        self._last_step = 0.0

    @Slot()
    def run(self) -> None:
        try:
            self.trainer = self.make_trainer(on_event=self._on_event, control=self.control)
            self.trainer.run()
        except GanStudioError as exc:
            self.failed.emit(Failed(0, str(exc)))
        except Exception as exc:  # never let an exception escape a thread's event loop
            log.exception("training could not start")
            self.failed.emit(Failed(0, f"Training could not start: {type(exc).__name__}: {exc}"))
        finally:
            self.trainer = None  # the model and its optimizer state go with the run
            self.done.emit()

    def _on_event(self, event) -> None:
        if isinstance(event, StepMetrics):
            now = time.monotonic()
            fresh = bool(event.losses)  # these carry the loss curve: never dropped
            if fresh or now - self._last_step >= STEP_INTERVAL_S or event.iteration == event.total_iterations:
                self._last_step = now
                self.step.emit(event)
        elif isinstance(event, SampleImages):
            self.sample.emit(to_qimage(event.strip), event.iteration)
        else:
            for kind, signal in (
                (Started, self.started),
                (ValidationMetrics, self.validation),
                (CheckpointSaved, self.checkpoint),
                (Finished, self.finished),
                (Failed, self.failed),
            ):
                if isinstance(event, kind):
                    signal.emit(event)
            if isinstance(event, Paused):
                self.paused.emit(event.iteration)
            elif isinstance(event, Resumed):
                self.resumed.emit(event.iteration)


class TrainingSession(ThreadSession):
    """One training run on its own QThread."""

    def __init__(self, make_trainer: Callable, parent=None):
        super().__init__(TrainingWorker(make_trainer), "training", parent)

    def pause(self) -> None:
        self.worker.control.pause()

    def resume(self) -> None:
        self.worker.control.resume()

    def stop(self) -> None:
        self.worker.control.stop()
