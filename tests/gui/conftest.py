import gc

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

from gan_studio.main_window import MainWindow
from gan_studio.settings import open_settings

TINY_SETTINGS = {"netG": "unet_32", "ngf": 8, "ndf": 8, "crop_size": 32, "sample_every": 2, "checkpoint_every": 1000}


@pytest.fixture
def make_window(qtbot):
    """Main windows that load the engine as the app does, and are shut down cleanly after the test."""
    windows = []

    def make(wait_for_engine: bool = True) -> MainWindow:
        window = MainWindow(open_settings())  # not qtbot.addWidget: its close would ask about a running run
        window.show()
        window.start_engine_loading()
        if wait_for_engine:
            qtbot.waitUntil(lambda: window.train_panel.engine_ready, timeout=60_000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown_training()
        window.close()
    # Nothing of this test's windows outlives it: their background tasks (demo, scans, thumbnails)
    # end, then the windows are freed now, not in the next test's event loop, beside its training.
    QThreadPool.globalInstance().waitForDone(60_000)
    for window in windows:
        window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_gui_thread():
    """Widgets caught in reference cycles are freed by Python's cyclic collector, on whichever thread
    happens to trigger it: left for later, a training or pool thread of the next test may run that
    collection and destroy widgets off the GUI thread, a native crash (seen: a segfault with
    "Garbage-collecting" on the make-pairs worker thread). Collect here, on the GUI thread."""
    yield
    gc.collect()


def set_tiny(panel, iterations: int) -> None:
    """Tiny networks through the real settings widgets, so a run takes a second."""
    from gan_studio.widgets.settings_form import set_value

    setup = panel.setup
    for name, value in TINY_SETTINGS.items():
        form = setup.basic if name in setup.basic.editors else setup.advanced
        set_value(form.editor(name), value)
    setup.device.setCurrentText("cpu")
    setup.iterations.setValue(iterations)
