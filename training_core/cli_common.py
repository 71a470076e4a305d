"""What the three command-line programs share: exit codes and the resume command. Loads no torch,
so that ``gan-studio-models list`` answers at once."""

from __future__ import annotations

import shlex

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PAUSED = 0, 1, 2, 130


def resume_command(name: str) -> str:
    """The command that continues model ``name``, quoted so that pasting it runs nothing else."""
    return f"gan-studio-train --resume {shlex.quote(name)}"
