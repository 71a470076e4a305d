"""Where GAN Studio keeps its files: the platform's user data dir, or $GAN_STUDIO_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "GAN Studio"
APP_AUTHOR = "GAN Studio"


def data_home() -> Path:
    """Root of models, runs and the demo project (``GAN_STUDIO_HOME`` overrides, e.g. for tests)."""
    override = os.environ.get("GAN_STUDIO_HOME")
    root = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    return root.expanduser()


def runs_dir() -> Path:
    return data_home() / "runs"


def demo_dir() -> Path:
    return data_home() / "demo-project"
