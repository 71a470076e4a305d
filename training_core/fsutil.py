"""Files we write: atomically, with the user's permissions, and no temporary file left behind for long.

A reader sees the old file or the new one, never half of one. Created files
get the mode the user's umask gives (typically 0644), as any program's would:
an artist's results are often read by other tools and other accounts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path

# What atomic_path names its temporary files: ".<name>.<8 random characters>.tmp".
TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def _create_temp(folder: Path, name: str) -> tuple[Path, int]:
    """A new empty file beside ``name``, and its mode: created 0666, so the kernel applies the umask."""
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except FileExistsError:
            continue
        try:
            return tmp, stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
    raise FileExistsError(f"cannot create a temporary file in {folder}")


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success fsync it and move it into place.

    The temporary file lives in the same folder so ``os.replace`` is a rename
    on one filesystem. On any error the temporary file is removed and the old
    ``path`` (if any) is untouched. If ``path`` is a symbolic link, the link is
    replaced, never the file it points to.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, mode = _create_temp(path.parent, path.name)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
            if os.name == "posix" and stat.S_IMODE(os.fstat(f.fileno()).st_mode) != mode:
                os.fchmod(f.fileno(), mode)  # some writers (safetensors) create the file anew, as 0600
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        full = not isinstance(exc, OSError) and isinstance(exc, Exception) and disk_is_full(path.parent)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if full:
            # Writers that are not Python file objects (safetensors, torch's zip writer) say
            # "SafetensorError" or "unexpected pos" when the disk fills up: say what happened.
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from exc
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


FULL_BELOW_BYTES = 1 << 20  # a disk with less free space than this cannot hold a checkpoint or a photo


def disk_is_full(folder: str | Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW_BYTES
    except OSError:
        return False


def explain_write_error(exc: OSError, folder: str | Path, needed_bytes: int = 0) -> str:
    """Why writing in ``folder`` failed, in words a person can act on."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        try:
            free = f"{shutil.disk_usage(folder).free / 1e6:.1f} MB free"
        except OSError:
            free = "no space left"
        need = f", about {needed_bytes / 1e6:.0f} MB more needed" if needed_bytes >= 1e6 else ""
        return (
            f"the disk that holds {folder} is full ({exc.strerror or 'no space left'}: {free}{need}): free some space"
        )
    if exc.errno == errno.EROFS:
        return f"{folder} is on a read-only disk: make it writable, or move the library (GAN_STUDIO_HOME)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{folder} cannot be written ({exc.strerror}): check its permissions"
    return f"cannot write in {folder}: {exc.strerror or exc}"


def read_regular_text(path: str | Path) -> str:
    """The text of ``path`` if it is a regular file, not reached through a link; OSError otherwise.

    For the files we keep in folders that others can write to (an output
    folder): a named pipe in their place would block a reader forever, and a
    link could lead anywhere.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return f.read().decode("utf-8", "replace")


def remove_stale_temp_files(folder: Path, recursive: bool, older_than_s: float) -> int:
    """Remove temporary files that killed processes left in ``folder``; the number removed.

    Only names atomic_path makes are touched, and only when older than
    ``older_than_s`` (0 where the caller holds the folder's lock, so no other
    process can be writing there).
    """
    removed = 0
    limit = time.time() - older_than_s
    # os.walk does not follow symbolic links: a link out of the folder never leads the cleaning elsewhere.
    for where, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(where) / name
            try:
                info = path.lstat()
                if TEMP_NAME.match(name) and stat.S_ISREG(info.st_mode) and info.st_mtime <= limit:
                    path.unlink()
                    removed += 1
            except OSError:
                continue  # vanished meanwhile, or not ours to remove
        if not recursive:
            break
    return removed


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open folders this way.
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
