"""Is this the same folder, or inside it? Asked of the file system (device and inode), not of path strings.

One folder can be reached under several paths: a bind mount, a symbolic link,
or a case-insensitive volume where DCIM and dcim are one. Comparing resolved
path strings misses all three; comparing what ``os.stat`` finds does not.
"""

from __future__ import annotations

import os
from pathlib import Path

Identity = tuple[int, int]  # (st_dev, st_ino)


def identity(path: str | Path) -> Identity | None:
    """The file or folder ``path`` leads to, following links; None where nothing is there (or readable)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def within(path: str | Path, folder: Identity | None) -> bool:
    """``path`` is the folder ``folder`` or lies below it, by whatever path either is reached.

    ``path`` need not exist yet: its nearest existing ancestors are compared.
    """
    if folder is None:
        return False
    current = os.path.realpath(path)
    while True:
        if identity(current) == folder:
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent
