"""Notice photos and clips that appear in a folder, once they are complete (not while still being copied)."""

from __future__ import annotations

import time
from pathlib import Path

from ..data.images import is_image_file, iter_image_files
from .clip_files import is_clip_name


class FolderWatcher:
    """Each ``poll`` returns the photos and clips that arrived since the last one and have stopped changing.

    A file counts as complete when its size and modification time were the same
    at two polls at least ``settle_s`` apart: a copy in progress keeps growing
    (a clip of a few gigabytes grows for minutes, and is read only once it stops).
    Polling (rather than OS notifications) works the same on every platform and
    on network shares.
    """

    def __init__(self, folder: Path, recursive: bool = False, settle_s: float = 1.0, exclude: Path | None = None):
        self.folder = Path(folder)
        self.recursive = recursive
        self.settle_s = settle_s
        self.exclude = Path(exclude).absolute() if exclude else None
        self.seen: set[Path] = set()
        self._candidates: dict[Path, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, first seen)
        self._first = True

    def poll(self) -> list[Path]:
        now = time.monotonic()
        ready = []
        for path in iter_image_files(self.folder, self.recursive, wanted=_photo_or_clip):
            if path in self.seen or (self.exclude and self.exclude in path.absolute().parents):
                continue
            if self._first:  # what is there at the start is not "new"
                self.seen.add(path)
                continue
            try:
                st = path.stat()
            except OSError:
                continue  # vanished meanwhile
            signature = (st.st_size, st.st_mtime_ns)
            previous = self._candidates.get(path)
            # A retried file's first-seen time is infinite: it waits for a change before it is ready.
            if previous and previous[:2] == signature and now - previous[2] >= self.settle_s and st.st_size > 0:
                ready.append(path)
                self.seen.add(path)
                del self._candidates[path]
            elif not previous or previous[:2] != signature:
                self._candidates[path] = (*signature, now)
        self._first = False
        return ready

    def retry_when_changed(self, path: Path) -> None:
        """A file that could not be read (still being written?) is tried again once it changes."""
        self.seen.discard(path)
        try:
            st = path.stat()
        except OSError:
            return
        # Marked with an impossible time so it only becomes ready after its signature changes.
        self._candidates[path] = (st.st_size, st.st_mtime_ns, float("inf"))


def _photo_or_clip(name: str) -> bool:
    return is_image_file(name) or is_clip_name(name)


def latest_result_per_input(files: list) -> list:
    """A report's entries (FileResult) with only the latest one for each input, in the order they came.

    In watch mode a photo that failed while it was still being copied is tried
    again once it changes; when that succeeds, the photo is converted, and the
    report (and the exit code, which counts failures) must say only that.
    """
    latest = {f.input: i for i, f in enumerate(files)}
    return [f for i, f in enumerate(files) if latest[f.input] == i]
