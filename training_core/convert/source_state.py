"""Has a photo changed since it was converted? Size and times first, its content where they cannot tell.

A photo edited in place keeps its name, so the ledger's record of its output
must also say what the photo was. The first look is cheap (the size, the
modification and change times); the content hash decides whenever that look
differs, and also when it cannot be trusted: a file modified within a couple
of seconds of being looked at may change again within the same timestamp
(coarse clocks: FAT keeps 2 s), as git's "racily clean" rule has it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")  # what a read returns

RACY_NS = 2_000_000_000  # modification times this close to the look are not trusted
CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceState:
    size: int
    mtime_ns: int
    ctime_ns: int
    checked_ns: int  # when the times above were read
    hash: str

    @classmethod
    def around(cls, path: Path, read: Callable[[Path], T]) -> tuple[T, SourceState]:
        """``read(path)``'s result, and the photo's state as it was read.

        The times are taken before reading and compared after hashing: a photo
        that changed meanwhile gets no hash, so it never counts as unchanged.
        """
        checked = time.time_ns()
        try:
            before = os.stat(path)
        except OSError:
            before = None  # ``read`` says what is wrong with it
        result = read(path)
        digest = content_hash(path)
        after = os.stat(path)
        if before is None or _look(before) != _look(after):
            digest = ""
        return result, cls(after.st_size, after.st_mtime_ns, after.st_ctime_ns, checked, digest)

    @classmethod
    def from_dict(cls, item: Any) -> SourceState | None:  # a ledger line's: any JSON
        try:
            return cls(**{name: type_(item[name]) for name, type_ in _FIELDS.items()})
        except (KeyError, TypeError, ValueError):
            return None

    def to_dict(self) -> dict:
        return asdict(self)

    def matches(self, path: Path) -> bool:
        """The photo at ``path`` is still the one this state describes."""
        try:
            info = os.stat(path)
        except OSError:
            return False
        if not self.hash or info.st_size != self.size:
            return False
        if _look(info) == (self.size, self.mtime_ns, self.ctime_ns) and self.checked_ns - info.st_mtime_ns > RACY_NS:
            return True
        try:
            return content_hash(path) == self.hash
        except OSError:
            return False


def _look(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


_FIELDS = {"size": int, "mtime_ns": int, "ctime_ns": int, "checked_ns": int, "hash": str}


def content_hash(path: Path) -> str:
    """A digest of the file's bytes; OSError for anything but a regular file (a pipe never blocks here)."""
    digest = hashlib.blake2b(digest_size=16)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
