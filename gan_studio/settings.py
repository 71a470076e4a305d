"""Where the app keeps its settings: an INI file in the platform's config dir.

``GAN_STUDIO_HOME`` (as for the model library) moves it under that folder, so
tests and portable installs never touch the user's real settings.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

from training_core.store import home_override

from . import APP_NAME


def config_home() -> Path:
    override = home_override()
    if override:
        return override / "config"
    return Path(platformdirs.user_config_dir(APP_NAME, APP_NAME))


def open_settings() -> QSettings:
    path = config_home() / "settings.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)
