"""Files shipped in the repository's ``resources/`` folder.

Installed with pip they are the package ``gan_studio.resources``; in a
PyInstaller bundle they sit in ``gan_studio/resources`` beside the code; in a
checkout they are the top-level ``resources/``.
"""

from __future__ import annotations

from importlib import resources as importlib_resources
from pathlib import Path


def resource_path(relative: str) -> Path:
    try:
        path = Path(str(importlib_resources.files("gan_studio.resources") / relative))
        if path.exists():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources" / relative, here.parent / "resources" / relative):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"GAN Studio's resource {relative} is missing: reinstall GAN Studio")


def app_icon():
    from PySide6.QtGui import QIcon

    return QIcon(str(resource_path("icons/gan-studio.svg")))
