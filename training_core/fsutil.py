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
from collections.abc import Iterator
from pathlib import Path

# What atomic_path names its temporary files: ".<name>.<8 random characters>.tmp", the name shortened
# (TEMP_KEEP_BYTES) so that a temporary file can be made beside any file the disk accepts.
TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
TEMP_KEEP_BYTES = 48  # of the name; a temporary name is at most 48 + 14 bytes, far below any disk's limit
_TEMP_TAIL = len(".12345678.tmp")


def _temp_name(name: str) -> str:
    """The name part of a temporary file: ``name`` itself, or its start and its suffix when it is long.

    The suffix stays so that a cleaner of one kind of file (the .onnx exports)
    still recognises its own; the name stays readable for whoever finds it.
    """
    if len(os.fsencode(name)) <= TEMP_KEEP_BYTES:
        return name
    suffix = Path(name).suffix
    suffix = suffix if len(os.fsencode(suffix)) <= 16 else ""
    head = ""
    for char in name:  # by characters, so a UTF-8 name is never cut inside one
        if len(os.fsencode(head + char + "~" + suffix)) > TEMP_KEEP_BYTES:
            break
        head += char
    return f"{head}~{suffix}"


def _create_temp(folder: Path, name: str) -> tuple[Path, int]:
    """A new empty file beside ``name``, and its mode: created 0666, so the kernel applies the umask."""
    for _ in range(100):
        tmp = folder / f".{_temp_name(name)}.{secrets.token_hex(4)}.tmp"
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
def atomic_path(path: str | Path) -> Iterator[Path]:
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


LIBRARY_ELSEWHERE = "move the library (GAN_STUDIO_HOME)"


def explain_write_error(
    exc: OSError, folder: str | Path, needed_bytes: int = 0, elsewhere: str = LIBRARY_ELSEWHERE
) -> str:
    """Why writing in ``folder`` failed, in words a person can act on (``elsewhere``: where else to write)."""
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
        return f"{folder} is on a read-only disk: make it writable, or {elsewhere}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{folder} cannot be written ({exc.strerror}): check its permissions"
    return f"cannot write in {folder}: {exc.strerror or exc}"


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words ("a named pipe"); "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a link"),
    ):
        if test(mode):
            return kind
    return "a special file"


MISSING = "missing"  # what regular_file_problem says of a path where nothing is


def regular_file_problem(path: str | Path) -> str:
    """ "" when ``path`` is a regular file (or a link to one); otherwise what is there instead, in words.

    For the files that are opened by name elsewhere (safetensors, torch): a
    folder, a pipe or a dangling link there must be told as what it is, not as
    a missing file, and a pipe must never be opened.
    """
    try:
        return file_kind(os.stat(path).st_mode)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"a link to {os.readlink(path)}, which does not exist"
        return MISSING
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"


def read_regular_text(path: str | Path, max_bytes: int | None = None, follow_links: bool = False) -> str:
    """The text of ``path`` if it is a regular file (of at most ``max_bytes``); OSError otherwise.

    For the files we keep in folders that others can write to (an output
    folder, a model folder): a named pipe in their place would block a reader
    forever, a link to /dev/zero would fill the memory, and a link could lead
    anywhere (followed only where ``follow_links``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0))
    fd = os.open(path, flags)
    kind = file_kind(os.fstat(fd).st_mode)
    if kind:
        os.close(fd)
        raise OSError(f"{path} is not a regular file ({kind})")
    with os.fdopen(fd, "rb") as f:
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)  # +1: it may grow while read
        if max_bytes is not None and len(data) > max_bytes:
            raise OSError(errno.EFBIG, f"larger than {max_bytes / 1e6:.0f} MB, more than such a file ever holds")
        return data.decode("utf-8", "replace")


def remove_stale_temp_files(folder: Path, recursive: bool, older_than_s: float, suffix: str = "") -> int:
    """Remove temporary files that killed processes left in ``folder``; the number removed.

    Only names atomic_path makes are touched (only those for files ending in
    ``suffix``, where given), and only when older than ``older_than_s`` (0
    where the caller holds the folder's lock, so no other process can be
    writing there).
    """
    removed = 0
    limit = time.time() - older_than_s
    # os.walk does not follow symbolic links: a link out of the folder never leads the cleaning elsewhere.
    for where, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(where) / name
            try:
                info = path.lstat()
                ours = TEMP_NAME.match(name) and name[:-_TEMP_TAIL].lower().endswith(suffix.lower())
                if ours and stat.S_ISREG(info.st_mode) and info.st_mtime <= limit:
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
