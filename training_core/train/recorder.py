"""Keeps a model's record in the library current from its run's events: one more listener, as the app is.

The Trainer reports; this writes model.json (state, progress, what the last
checkpoint holds, its validation scores, the inference statistics chosen, the
last error). Its errors (a full or read-only disk) reach the Trainer, which
stops with that message, unlike an app listener's, which are only logged.
"""

from __future__ import annotations

from ..config import TrainConfig
from ..store import ModelEntry, ModelLibrary
from .events import CheckpointSaved, Event, Failed, Finished, Paused, Resumed, SampleImages, Started, ValidationMetrics


class LibraryRecorder:
    def __init__(self, library: ModelLibrary, entry: ModelEntry):
        self.library, self.entry = library, entry
        self.latest_val: dict | None = None

    def extend(self, train: TrainConfig) -> None:
        """A resumed run continues to a new length."""
        self._update(train=train.to_dict())  # the record's total_iterations follows

    def __call__(self, event: Event) -> None:
        if isinstance(event, (Started, Resumed)):
            self._update(state="running")
        elif isinstance(event, SampleImages):
            # Live progress for the library view (``iterations`` counts only what a checkpoint holds).
            self._update(progress=event.iteration)
        elif isinstance(event, ValidationMetrics):
            self.latest_val = {"l1": event.l1, "psnr": event.psnr, "ssim": event.ssim}
        elif isinstance(event, CheckpointSaved):
            self._update(iterations=event.iteration, metrics={"val": self.latest_val})
        elif isinstance(event, Paused):
            self._update(state="paused")
        elif isinstance(event, Finished):
            extra = {"inference": event.inference} if event.inference else {}
            self._update(state="finished" if event.completed else "paused", **extra)
        elif isinstance(event, Failed):
            self._update(state="failed", last_error=event.message)

    def _update(self, **changes: object) -> None:
        self.library.update(self.entry, **changes)
