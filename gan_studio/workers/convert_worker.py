"""Batch conversion on a QThread, and live previews where the newest request always wins."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

from PIL import Image
from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from training_core.convert.batch import BatchFinished, BatchStarted, ClipProgress, FileDone
from training_core.convert.clip_files import is_clip_name
from training_core.data.images import load_rgb
from training_core.errors import GanStudioError

from .images import to_qimage
from .session import ThreadSession
from .tasks import run_task

log = logging.getLogger(__name__)
PREVIEW_SIDE = 1024  # previews translate a downscaled copy: seconds, not minutes, on a CPU


class ConvertWorker(QObject):
    started = Signal(object)  # BatchStarted
    file_done = Signal(object)  # FileDone
    clip_progress = Signal(object)  # ClipProgress: frames within the clip being converted
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
            with self.make_job(on_event=self._on_event, cancel=self.cancel) as job:
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
        elif isinstance(event, ClipProgress):
            self.clip_progress.emit(event)
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
    """Translates one image at a time in the background (a pool of one thread, through ``run_task``,
    the app's one mechanism for short background work). A request that is no longer the newest when
    its turn comes is skipped, and a result that is no longer the newest is dropped, so the GUI
    never waits and a quick series of clicks costs one or two translations, not all of them."""

    ready = Signal(int, object, object, object)  # request id, before QImage, after QImage, labels
    failed = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one at a time: the translators' cache is used by one thread
        self._latest = 0  # written on the GUI thread; the worker reads it (an int: atomic) to skip old work
        self._translators: dict = {}
        self.computed: collections.deque[int] = collections.deque(maxlen=64)  # the last ids translated

    def request(self, path, translators: list[tuple[object, str, Callable]], at_s: float = 0.0) -> int:
        """Preview ``path``: ``translators`` are (cache key, label, factory) for one or two models;
        for a clip, its frame ``at_s`` seconds in."""
        self._latest += 1
        request_id = self._latest
        run_task(
            self._work,
            request_id,
            path,
            translators,
            at_s,
            pool=self._pool,
            owner=self,
            on_result=self._done,
            on_error=lambda exc: self._failed(request_id, exc),
        )
        return request_id

    def close(self) -> None:
        """Drop the waiting requests and forget the models once the running one (if any) ends."""
        self._latest += 1
        self._pool.clear()
        self._pool.waitForDone()
        self._translators.clear()

    def _work(self, request_id: int, path, translators, at_s: float):
        if request_id != self._latest:
            return None  # a newer request came while this one waited
        before, after, labels = self._translate(path, translators, at_s)
        self.computed.append(request_id)
        return request_id, before, after, labels

    def _done(self, result) -> None:
        if result is not None and result[0] == self._latest:
            self.ready.emit(*result)

    def _failed(self, request_id: int, exc: Exception) -> None:
        if request_id == self._latest:
            self.failed.emit(request_id, str(exc))

    def _translate(self, path, translators, at_s: float = 0.0):
        if is_clip_name(path.name):
            from training_core.convert.video_io import frame_at

            image = Image.fromarray(frame_at(path, at_s))
        else:
            image = load_rgb(path, draft_size=(PREVIEW_SIDE, PREVIEW_SIDE))
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
        outputs = []
        wanted = {key for key, _, _ in translators}
        for stale in set(self._translators) - wanted:  # each holds a copy of a generator: keep only these
            del self._translators[stale]
        before = (image, "Before")
        for key, label, factory in translators:
            if key not in self._translators:
                self._translators[key] = factory()
            translator = self._translators[key]
            if hasattr(translator, "prepare") and len(translators) == 1:
                # The photo made into the model's kind of input: what the model paints over.
                before = (translator.prepare(image), f"Made input ({translator.settings.kind})")
                outputs.append((label, translator.inner.translate(before[0])))
            else:
                outputs.append((label, translator.translate(image)))
        if len(outputs) == 1:
            return to_qimage(before[0]), to_qimage(outputs[0][1]), (before[1], outputs[0][0])
        return to_qimage(outputs[0][1]), to_qimage(outputs[1][1]), (outputs[0][0], outputs[1][0])
