"""What the three command-line programs share: exit codes, the resume command, a quiet end when the
reader of the output goes away. Loads no torch, so that ``gan-studio-models list`` answers at once."""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PAUSED = 0, 1, 2, 130


def resume_command(name: str) -> str:
    """The command that continues model ``name``, quoted so that pasting it runs nothing else."""
    return f"gan-studio-train --resume {shlex.quote(name)}"


def quiet_when_output_closes(main):
    """``main(argv)``, ending with exit 1 and no traceback when stdout's reader has gone (``... | head``).

    The way Python's signal documentation advises ("Note on SIGPIPE"): stdout
    is pointed at devnull, so the interpreter's last flush cannot fail again.
    """

    @functools.wraps(main)
    def run(argv=None) -> int:
        try:
            code = main(argv)
            sys.stdout.flush()  # inside the try: the block-buffered output of a pipe goes out here
            return code
        except BrokenPipeError:
            with contextlib.suppress(OSError, ValueError, AttributeError):  # a captured stdout has no descriptor
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            return EXIT_FAILED

    return run
