"""Real filesystem conditions for fault tests: small and read-only filesystems (tmpfs mounts)."""

import contextlib
import os
import subprocess

import pytest


@contextlib.contextmanager
def tmpfs(path, size: str = "1m", read_only: bool = False):
    """Mount a tmpfs at ``path``; skips the test where mounting is not permitted (not root)."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root to mount a small filesystem")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
