"""What the command-line programs share: exit codes, the resume command, a quiet end when the
reader of the output goes away or Ctrl-C comes late. Loads no torch, so that ``gan-studio-models list``
answers at once."""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PAUSED = 0, 1, 2, 130


def resume_command(name: str) -> str:
    """The command that continues model ``name``, quoted so that pasting it runs nothing else."""
    return f"gan-studio-train --resume {shlex.quote(name)}"


@contextlib.contextmanager
def ctrl_c_cancels(cancel: threading.Event, second_press_stops: bool = False) -> Iterator[None]:
    """Within the block, Ctrl-C sets ``cancel`` (the job finishes what it has in hand); with
    ``second_press_stops``, a second press raises KeyboardInterrupt at once.

    Once a press came, further presses stay ignored after the block: the program is on its way out,
    and a press landing while the interpreter shuts down (torch's threads take a moment) would
    otherwise kill it by signal, with a traceback, instead of the exit code it chose.
    """

    def on_press(signum: int, frame: FrameType | None) -> None:
        if cancel.is_set() and second_press_stops:
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_press)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN if cancel.is_set() else previous)


def quiet_exits(main: Callable[[list[str] | None], int]) -> Callable[..., int]:
    """``main(argv)``, ending with exit 1 and no traceback when stdout's reader has gone (``... | head``),
    and with exit 130 and no traceback on a Ctrl-C that no handler of ``main`` took.

    The pipe, the way Python's signal documentation advises ("Note on SIGPIPE"): stdout
    is pointed at devnull, so the interpreter's last flush cannot fail again. The Ctrl-C: Python's own
    handler would otherwise kill the program by signal (exit -2 to its caller) with a traceback.
    """

    @functools.wraps(main)
    def run(argv: list[str] | None = None) -> int:
        try:
            code = main(argv)
            sys.stdout.flush()  # inside the try: the block-buffered output of a pipe goes out here
            return code
        except BrokenPipeError:
            with contextlib.suppress(OSError, ValueError, AttributeError):  # a captured stdout has no descriptor
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            return EXIT_FAILED
        except KeyboardInterrupt:
            return EXIT_PAUSED

    return run
