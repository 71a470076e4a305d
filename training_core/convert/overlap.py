"""Two threads beside the one that runs the network: one reads ahead, one writes behind, each with a bounded queue.

A clip's frames are decoded, translated and encoded; done one after the
other, the device waits while PyAV decodes and encodes, and PyAV waits while
the network runs. PyAV (FFmpeg) and torch release the GIL in their work, so a
reader thread that decodes the next frames and a writer thread that encodes
the last ones run beside the network. The queues are short: memory stays a few
frames, and a cancel stops within those. ``depth`` 0 runs everything in the
calling thread, in the same order: the sequential path (bench/video.py compares
the two, and their outputs are the same bytes).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

_END = object()


class ReadAhead:
    """``items`` produced in a thread, up to ``depth`` ahead of the consumer (``depth`` 0: in the caller's).

    Use it as a context manager: leaving it stops the thread and waits for it, so nothing the thread
    reads from (an open clip) is closed under it. An exception in the thread is raised to the consumer
    where the item would have been.
    """

    def __init__(self, items: Iterable, depth: int):
        self._items, self._depth = items, depth
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Iterator:
        if not self._depth:
            return iter(self._items)
        self._thread = threading.Thread(target=self._produce, name="read-ahead", daemon=True)
        self._thread.start()
        return self._consume()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            while self._thread.is_alive():  # a producer blocked on a full queue needs room to see the stop
                try:
                    self._queue.get(timeout=0.05)
                except queue.Empty:
                    pass
            self._thread.join()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((None, exc))
            return
        self._put((_END, None))

    def _consume(self) -> Iterator:
        while True:
            item, exc = self._queue.get()
            if exc is not None:
                raise exc
            if item is _END:
                return
            yield item


class WriteBehind:
    """Calls run one after another in a thread, in the order given, at most ``depth`` waiting (0: at once).

    ``submit`` blocks while the queue is full; an exception of a call is raised by the next ``submit``
    or ``wait``, and the calls after it are dropped.
    """

    def __init__(self, depth: int):
        self._depth = depth
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if depth:
            self._thread = threading.Thread(target=self._work, name="write-behind", daemon=True)
            self._thread.start()

    def submit(self, call: Callable, *args) -> None:
        self._raise()
        if self._thread is None:
            call(*args)
        else:
            self._queue.put((call, args))

    def wait(self) -> None:
        """Return once every call submitted has run; raise the first one's exception."""
        if self._thread is not None:
            self._queue.join()
        self._raise()

    def close(self) -> None:
        """Wait for the calls in hand (their errors dropped: the caller is leaving already) and end the thread."""
        if self._thread is not None:
            self._queue.join()
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                self._queue.task_done()
                return
            call, args = task
            try:
                if self._error is None:
                    call(*args)
            except BaseException as exc:
                self._error = exc
            finally:
                self._queue.task_done()
