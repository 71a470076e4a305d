"""Exceptions the engine raises at its boundaries.

Each carries a message a user can act on; the GUI and CLI show it as is.
"""

from __future__ import annotations

import os


class GanStudioError(Exception):
    """Base class for every error the engine reports to a user."""


class ConfigError(GanStudioError, ValueError):
    """A configuration value is invalid; the message names the field and the fix."""


class ImageLoadError(GanStudioError):
    """An image file cannot be used.

    ``reason`` is one of the short codes in ``training_core.data.images.REASONS``
    so reports can group rejections; ``detail`` says what exactly was wrong.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str, detail: str) -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(f"{path}: {reason} ({detail})")


class DatasetError(GanStudioError):
    """A dataset folder cannot be used at all (missing, empty, wrong layout)."""
