"""``gan-studio``: the desktop application's entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from training_core.store import data_home, home_override

from . import APP_ID, APP_NAME, __version__


def _parse(argv):
    p = argparse.ArgumentParser(
        prog="gan-studio",
        description="GAN Studio: train image-to-image GANs on your "
        "own pictures and convert photos into the style you taught it.",
    )
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument(
        "--self-test",
        action="store_true",
        help="open the window offscreen, check the engine and a tiny translation, exit 0 when all work",
    )
    p.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add GAN Studio to the application menu (Linux) or Start Menu (Windows)",
    )
    p.add_argument(
        "--uninstall-desktop-entry", action="store_true", help="remove it from the menu again (your models stay)"
    )
    p.add_argument("folder", nargs="?", help="a dataset folder to open")
    return p.parse_args(argv)


def _log_to_file() -> None:
    """Keep a log file in the platform's log dir (under GAN_STUDIO_HOME when set), for bug reports."""
    from logging.handlers import RotatingFileHandler
    from pathlib import Path

    import platformdirs

    home = home_override()
    folder = home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, APP_NAME))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(folder / "gan-studio.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return  # a read-only home must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)


def create_application(argv=None):
    from PySide6.QtWidgets import QApplication

    from .assets import app_icon

    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # so the window matches its start-menu entry
    app.setWindowIcon(app_icon())
    return app


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    from .qt_libraries import explain, missing_libraries, uses_xcb

    if uses_xcb() and (missing := missing_libraries()):
        print(explain(missing), file=sys.stderr)  # instead of Qt's abort, which names one of them at best
        return 1
    if args.self_test:
        from .self_test import run_self_test

        return run_self_test()
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        from . import desktop_entry

        return desktop_entry.install() if args.install_desktop_entry else desktop_entry.uninstall()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _log_to_file()
    import qasync
    from PySide6.QtCore import QTimer

    from .main_window import MainWindow
    from .quit_signals import quit_on_signals
    from .settings import open_settings
    from .single_instance import claim_library

    app = create_application()
    server = claim_library(data_home(), os.path.abspath(args.folder) if args.folder else None)
    if server is None:
        print("GAN Studio is already open on this model library: its window was brought forward.")
        return 0  # before any window or setting of this launch exists
    server.setParent(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(open_settings())
    server.activated.connect(window.bring_forward)
    quit_on_signals(window)
    window.show()
    if args.folder:
        window.settings.setValue("dataset/last_folder", args.folder)
    # The window is on screen before PyTorch is imported: start-up feels instant.
    QTimer.singleShot(0, window.start_engine_loading)
    quit_requested = asyncio.Event()
    app.aboutToQuit.connect(quit_requested.set)
    with loop:
        loop.run_until_complete(quit_requested.wait())
    return 0
