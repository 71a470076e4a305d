"""``gan-studio``: the desktop application's entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from . import APP_ID, APP_NAME, __version__


def _parse(argv):
    p = argparse.ArgumentParser(prog="gan-studio", description="GAN Studio: train image-to-image GANs on your "
                                "own pictures and convert photos into the style you taught it.")
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("folder", nargs="?", help="a dataset folder to open")
    return p.parse_args(argv)


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import qasync
    from PySide6.QtCore import QTimer

    from .main_window import MainWindow
    from .settings import open_settings

    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(open_settings())
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
