"""OS-level locks on folders: a run folder while a process trains, an output folder while one converts.

The kernel drops a lock when its process exits for any reason, SIGKILL and
power loss included, so "state says running but nobody holds the lock" means
the run was interrupted and can be resumed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TypeVar

from .errors import GanStudioError
from .fsutil import explain_write_error

if sys.platform == "win32":  # (not os.name: mypy knows the platform from sys.platform)
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


class RunInUse(GanStudioError):
    """Another process is training this model right now."""


_Lock = TypeVar("_Lock", bound="FolderLock")


class FolderLock:
    """An exclusive lock on ``path`` for as long as this process holds it (or lives).

    ``about`` is written into the lock file, so that a process that finds the
    lock taken can say who holds it.
    """

    def __init__(self, path: Path, about: str = ""):
        self.path = Path(path)
        self.about = about
        self._fd: int | None = None

    def _busy(self, holder: str) -> GanStudioError:
        return GanStudioError(f"{self.path.parent} is in use by another process ({holder})")

    removed_on_release = False  # True: the lock file goes when released (it is never left behind)

    def acquire(self: _Lock) -> _Lock:
        # With removal on release, a process may lock a file that its holder has just removed: it then
        # holds a lock on a file nobody else can see, so it checks and tries again with the new one.
        for _attempt in range(100):
            fd = self._open()
            if not _try_lock(fd):
                try:
                    holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
                except OSError:
                    holder = ""
                os.close(fd)
                raise self._busy(holder or "unknown")
            if not self.removed_on_release or _same_file(fd, self.path):
                break
            _unlock(fd)
            os.close(fd)
        else:
            raise self._busy("unknown")
        try:
            os.ftruncate(fd, 0)
            os.write(fd, (f"process {os.getpid()}" + (f", {self.about}" if self.about else "") + "\n").encode())
        except OSError:
            pass  # a full disk: the lock holds all the same, only the note of who holds it is missing
        self._fd = fd
        return self

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Never through a link: the lock file is truncated, and a link could lead to someone's photo.
            return os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            why = explain_write_error(exc, self.path.parent)
            raise GanStudioError(f"cannot lock {self.path.parent}: {why}") from None

    def release(self) -> None:
        if self._fd is not None:
            if self.removed_on_release and os.name == "posix":  # Windows cannot remove an open file
                try:
                    os.unlink(self.path)  # while still held: whoever opened it meanwhile sees it went
                except OSError:
                    pass
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def __enter__(self: _Lock) -> _Lock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class RunLock(FolderLock):
    def __init__(self, run_dir: Path):
        super().__init__(Path(run_dir) / "lock")

    def _busy(self, holder: str) -> GanStudioError:
        return RunInUse(
            f"this model is being trained by another process (lock {self.path}); wait for it, or stop it first"
        )


def is_locked(run_dir: Path) -> bool:
    """True while some process holds the run's lock."""
    path = Path(run_dir) / "lock"
    try:
        # Read-only is enough to test a lock, and works in a library on a read-only disk.
        fd = os.open(path, (os.O_RDONLY if os.name == "posix" else os.O_RDWR) | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)
