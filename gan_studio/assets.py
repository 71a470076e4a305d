"""Files shipped in the repository's ``resources/`` folder (installed as the package ``gan_studio.resources``)."""

from __future__ import annotations

from importlib import resources as importlib_resources
from pathlib import Path


def resource_path(relative: str) -> Path:
    try:
        path = Path(str(importlib_resources.files("gan_studio.resources") / relative))
        if path.exists():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[1] / "resources" / relative  # a checkout


def app_icon():
    from PySide6.QtGui import QIcon

    return QIcon(str(resource_path("icons/gan-studio.svg")))
