"""Batch conversion on a QThread, and live previews where the newest request always wins."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot

from training_core.convert.batch import BatchFinished, BatchStarted, FileDone
from training_core.errors import GanStudioError

from .images import to_qimage
from .session import ThreadSession

log = logging.getLogger(__name__)
PREVIEW_SIDE = 1024  # previews translate a downscaled copy: seconds, not minutes, on a CPU


class ConvertWorker(QObject):
    started = Signal(object)  # BatchStarted
    file_done = Signal(object)  # FileDone
    finished = Signal(object)  # BatchFinished
    failed = Signal(str)
    done = Signal()

    def __init__(self, make_job: Callable, watch: bool):
        super().__init__()
        self.make_job, self.watch = make_job, watch
        self.cancel = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            job = self.make_job(on_event=self._on_event, cancel=self.cancel)
            job.watch() if self.watch else job.run()
        except GanStudioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never let an exception escape the thread
            log.exception("conversion failed")
            self.failed.emit(f"The conversion stopped: {type(exc).__name__}: {exc}")
        finally:
            self.done.emit()

    def _on_event(self, event) -> None:
        if isinstance(event, FileDone):
            self.file_done.emit(event)
        elif isinstance(event, BatchStarted):
            self.started.emit(event)
        elif isinstance(event, BatchFinished):
            self.finished.emit(event)


class ConvertSession(ThreadSession):
    def __init__(self, make_job: Callable, watch: bool, parent=None):
        super().__init__(ConvertWorker(make_job, watch), "convert", parent)

    def cancel(self) -> None:
        self.worker.cancel.set()


class PreviewService(QObject):
    """Translates one image at a time on a background thread; a newer request replaces a waiting one,
    and the result of a request that is no longer the newest is dropped, so the GUI never waits."""

    ready = Signal(int, object, object, object)  # request id, before QImage, after QImage, labels
    failed = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._pending: tuple | None = None
        self._latest = 0
        self._closed = False
        self._translators: dict = {}
        self.computed: collections.deque[int] = collections.deque(maxlen=64)  # the last ids translated
        self._thread = threading.Thread(target=self._loop, name="preview", daemon=True)
        self._thread.start()

    def request(self, path, translators: list[tuple[object, str, Callable]]) -> int:
        """Preview ``path``: ``translators`` are (cache key, label, factory) for one or two models."""
        with self._cond:
            self._latest += 1
            self._pending = (self._latest, path, translators)
            self._cond.notify()
            return self._latest

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                request, self._pending = self._pending, None
            request_id, path, translators = request
            try:
                before, after, labels = self._translate(path, translators)
            except Exception as exc:
                if request_id == self._latest:
                    self._emit(self.failed, request_id, str(exc))
                continue
            self.computed.append(request_id)
            if request_id == self._latest:  # a newer selection came meanwhile: drop this one
                self._emit(self.ready, request_id, before, after, labels)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the panel is gone
            pass

    def _translate(self, path, translators):
        from training_core.data.images import load_rgb

        image = load_rgb(path, draft_size=(PREVIEW_SIDE, PREVIEW_SIDE))
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
        outputs = []
        wanted = {key for key, _, _ in translators}
        for stale in set(self._translators) - wanted:  # each holds a copy of a generator: keep only these
            del self._translators[stale]
        for key, label, factory in translators:
            if key not in self._translators:
                self._translators[key] = factory()
            outputs.append((label, self._translators[key].translate(image)))
        if len(outputs) == 1:
            return to_qimage(image), to_qimage(outputs[0][1]), ("Before", outputs[0][0])
        return to_qimage(outputs[0][1]), to_qimage(outputs[1][1]), (outputs[0][0], outputs[1][0])
